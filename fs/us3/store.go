// Package us3 is Ferry's driver for UCloud US3 (UFile) over its native API:
// one Store is both a read-only fs.Tree (a migration source, a mount) and a
// fs.Sink with a fs.Checksummer (a destination).
//
// Requests are signed with ufile-gosdk's exported signer (ufsdk.Auth) but
// sent with Ferry's own net/http calls: every call takes the caller's
// context, connections are pooled and kept alive, and multipart uploads use
// explicit upload IDs so a restarted agent can resume one. The SDK's own
// request type is never used: it is not goroutine-safe and has no context.
//
// Keys are relative to Config.Prefix, which is treated as a directory: a
// non-empty Prefix "p" addresses the keys under "p/".
package us3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"

	"github.com/ferry-project/ferry/fs"
)

// Config describes one US3 bucket (and key prefix) and how to reach it.
type Config struct {
	PublicKey, PrivateKey string
	Bucket, Prefix        string
	// Endpoint is the region file host with scheme, e.g. "http://cn-bj.ufileos.com" or "http://127.0.0.1:9000".
	// Requests go to http(s)://<Bucket>.<endpoint host>/<key>. When the endpoint host is an IP address or
	// "localhost", the client dials the endpoint address itself and sends Host: <Bucket>.<host> (so the
	// emulator and private deployments work without DNS). CustomDomain=true sends Host: <endpoint host> unchanged.
	Endpoint     string
	CustomDomain bool
	// HTTPClient is optional; without it the Store uses a pooled keep-alive
	// client with dial, TLS, response-header and overall timeouts.
	HTTPClient *http.Client
}

// ConfigFromEnv reads US3_PUBLIC_KEY, US3_PRIVATE_KEY, US3_ENDPOINT and
// US3_CUSTOM_DOMAIN ("1"/"true"). For each variable the prefixed name
// (prefix+"US3_PUBLIC_KEY", e.g. "FERRY_SRC_US3_PUBLIC_KEY") is checked
// first. Bucket and Prefix come from the URI, not the environment.
func ConfigFromEnv(getenv func(string) string, prefix string) Config {
	get := func(name string) string {
		if prefix != "" {
			if v := getenv(prefix + name); v != "" {
				return v
			}
		}
		return getenv(name)
	}
	cd := strings.ToLower(strings.TrimSpace(get("US3_CUSTOM_DOMAIN")))
	return Config{
		PublicKey:    get("US3_PUBLIC_KEY"),
		PrivateKey:   get("US3_PRIVATE_KEY"),
		Endpoint:     get("US3_ENDPOINT"),
		CustomDomain: cd == "1" || cd == "true" || cd == "yes",
	}
}

// Store is a US3 bucket prefix: an fs.Tree, a fs.Sink and a
// fs.Checksummer. It is safe for concurrent use.
type Store struct {
	auth       ufsdk.Auth
	bucket     string
	prefix     string // "" or ends with "/"
	scheme     string
	urlHost    string // host[:port] dialed
	hostHeader string // Host header sent
	client     *http.Client
	stall      time.Duration // see do; stall.DefaultTimeout when 0
}

var (
	_ fs.Tree        = (*Store)(nil)
	_ fs.EntryOpener = (*Store)(nil)
	_ fs.Sink        = (*Store)(nil)
	_ fs.Checksummer = (*Store)(nil)
)

// New validates c and returns a Store. It does not touch the network; use
// Check to verify the bucket and credentials.
func New(ctx context.Context, c Config) (*Store, error) {
	if c.PublicKey == "" || c.PrivateKey == "" {
		return nil, errors.New("US3 credentials missing: set US3_PUBLIC_KEY and US3_PRIVATE_KEY")
	}
	if c.Bucket == "" {
		return nil, errors.New("US3 bucket missing (want us3://bucket/prefix)")
	}
	if strings.ContainsAny(c.Bucket, "/ ?#@:") {
		return nil, fmt.Errorf("US3 bucket name %q is invalid", c.Bucket)
	}
	if c.Endpoint == "" {
		return nil, errors.New("US3 endpoint missing: set US3_ENDPOINT (e.g. http://cn-bj.ufileos.com)")
	}
	ep := c.Endpoint
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("US3 endpoint %q is invalid: want http(s)://host[:port]", c.Endpoint)
	}
	s := &Store{
		auth:   ufsdk.NewAuth(c.PublicKey, c.PrivateKey),
		bucket: c.Bucket,
		prefix: normPrefix(c.Prefix),
		scheme: u.Scheme,
		client: c.HTTPClient,
	}
	host := u.Hostname()
	switch {
	case c.CustomDomain:
		s.urlHost, s.hostHeader = u.Host, u.Host
	case host == "localhost" || net.ParseIP(host) != nil:
		s.urlHost, s.hostHeader = u.Host, c.Bucket+"."+u.Host
	default:
		s.urlHost = c.Bucket + "." + u.Host
		s.hostHeader = s.urlHost
	}
	if s.client == nil {
		s.client = newHTTPClient()
	}
	return s, nil
}

// normPrefix turns a key prefix into "" or a string ending in "/".
func normPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// newHTTPClient returns a keep-alive client with bounded waits everywhere.
// Compression is off so Content-Length and ranged bodies arrive verbatim.
func newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Minute}
}

// Check makes one signed listing of the bucket and turns the usual failures
// into clear messages: a missing bucket, or credentials that are refused.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.listObjects(ctx, s.prefix, "", "", 1)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusNotFound:
			return fmt.Errorf("US3 bucket %s does not exist: %w", s.bucket, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("US3 access denied (check US3_PUBLIC_KEY/US3_PRIVATE_KEY): %w", err)
		}
	}
	return fmt.Errorf("check US3 bucket %s: %w", s.bucket, err)
}
