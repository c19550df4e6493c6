package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	s3fs "github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/fs/urllist"
	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/transfer"
)

// side is how one end of a transfer is reached. Keys never come from flags
// or URIs: only from the environment (FERRY_SRC_/FERRY_DST_-prefixed
// variables first, then the usual AWS_* and US3_* ones).
type side struct {
	envPrefix string // "FERRY_SRC_" or "FERRY_DST_"
	endpoint  string // overrides the environment's endpoint
	region    string
	pathStyle bool
	conns     int // connection pool size
	// md5 hashes the large parts a destination writes (fs/s3 Config.MD5);
	// openDest sets it, sources never hash.
	md5 md5simd.Server
	// write is set by openDest: the store will be written to, so
	// anonymous access (no keys) is refused before any request.
	write bool
}

var sourceSide = side{envPrefix: "FERRY_SRC_", conns: 32}

func (s side) httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = s.conns * 2
	t.MaxIdleConnsPerHost = s.conns * 2
	t.MaxConnsPerHost = 0
	t.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: t}
}

// store is what an object-store driver offers beside Tree and Sink.
type checker interface {
	Check(ctx context.Context) error
	IsPermanent(err error) bool
}

// checkAttempts and checkBackoff bound the retries of a store's first
// request (Check): a few seconds at most.
const (
	checkAttempts = 4
	checkBackoff  = 250 * time.Millisecond
)

// openTree opens a source location with the default source side.
func (e *env) openTree(ctx context.Context, loc string) (fs.Tree, error) {
	return e.openSource(ctx, loc, sourceSide)
}

// openSource turns a location into a Tree and checks it can be read.
func (e *env) openSource(ctx context.Context, loc string, s side) (fs.Tree, error) {
	u, err := fs.ParseURI(loc)
	if err != nil {
		return nil, usageErr("%w", err)
	}
	switch u.Scheme {
	case "file":
		t, err := local.New(u.Path)
		if err != nil {
			return nil, usageErr("source: %w", err)
		}
		return t, nil
	case "urllist":
		t, err := urllist.Open(ctx, u.Path, urllist.Options{Concurrency: s.conns})
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		return t, nil
	}
	st, err := e.openStore(ctx, u, s)
	if err != nil {
		return nil, err
	}
	return st.(fs.Tree), nil
}

// openDest turns a location into a Sink and checks it can be written:
// credentials present and accepted, bucket existing.
func (e *env) openDest(ctx context.Context, loc string, s side) (fs.Sink, error) {
	u, err := fs.ParseURI(loc)
	if err != nil {
		return nil, usageErr("%w", err)
	}
	switch u.Scheme {
	case "file":
		sk, err := local.NewSinkWith(u.Path, local.SinkOptions{MD5: e.hashers.server()})
		if err != nil {
			return nil, usageErr("destination: %w", err)
		}
		return sk, nil
	case "urllist":
		return nil, usageErr("destination: a URL list cannot be written to")
	}
	s.md5 = e.hashers.server()
	s.write = true
	st, err := e.openStore(ctx, u, s)
	if err != nil {
		return nil, err
	}
	return st.(fs.Sink), nil
}

// openStore opens an object store (S3 family or US3) and checks it.
func (e *env) openStore(ctx context.Context, u fs.URI, s side) (checker, error) {
	var st checker
	switch u.Scheme {
	case "us3":
		c := us3.ConfigFromEnv(e.getenv, s.envPrefix)
		c.Bucket, c.Prefix = u.Bucket, u.Path
		if s.endpoint != "" {
			c.Endpoint = s.endpoint
		}
		c.HTTPClient = s.httpClient()
		store, err := us3.New(ctx, c)
		if err != nil {
			return nil, usageErr("%s: %w", u, err)
		}
		st = store
	default: // s3 and its provider presets
		c := e.s3Config(u, s)
		c.PathStyle = c.PathStyle || s.pathStyle
		c.HTTPClient = s.httpClient()
		c.MD5 = s.md5
		if s.write && (c.AccessKey == "" || c.SecretKey == "") {
			// Without keys the S3 driver signs nothing (a public bucket
			// can be read that way, never written): say so before a request.
			return nil, usageErr("%s: no credentials for the destination: set %sAWS_ACCESS_KEY_ID and %sAWS_SECRET_ACCESS_KEY (or the unprefixed AWS_ variables)",
				u, s.envPrefix, s.envPrefix)
		}
		c, err := s3fs.ApplyPreset(c)
		if err != nil {
			return nil, usageErr("%s: %w", u, err)
		}
		store, err := s3fs.New(ctx, c)
		if err != nil {
			return nil, usageErr("%s: %w", u, err)
		}
		st = store
	}
	// A store that answers the first request with a 5xx or a reset is not
	// a reason to give up the whole run: retry transient errors briefly.
	err := transfer.Retry(ctx, transfer.RetryPolicy{Attempts: checkAttempts, Base: checkBackoff}, st.IsPermanent,
		func() error { return st.Check(ctx) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return st, nil
}

// checkOverlap refuses a source and a destination that overlap, before
// anything is opened: the same directory or one inside the other (after
// resolving symbolic links), or one key prefix inside the other in the
// same bucket of the same endpoint. A destination inside its source would
// be walked as source and grow by a level on every run; a source inside
// its destination, or the same location, is overwritten while it is read.
func (e *env) checkOverlap(from, to string, src, dst side) error {
	fu, err := fs.ParseURI(from)
	if err != nil {
		return nil // openSource reports it
	}
	tu, err := fs.ParseURI(to)
	if err != nil {
		return nil
	}
	var a, b string
	switch {
	case fu.Scheme == "file" && tu.Scheme == "file":
		a, b = resolveLocal(fu.Path), resolveLocal(tu.Path)
		if !pathWithin(a, b, string(filepath.Separator)) && !pathWithin(b, a, string(filepath.Separator)) {
			return nil
		}
	case fu.Scheme != "file" && fu.Scheme != "urllist" && tu.Scheme != "file" && tu.Scheme != "urllist":
		fe, fok := e.storeEndpoint(fu, src)
		te, tok := e.storeEndpoint(tu, dst)
		if !fok || !tok || fe != te || fu.Bucket != tu.Bucket {
			return nil
		}
		a, b = strings.Trim(fu.Path, "/"), strings.Trim(tu.Path, "/")
		if !pathWithin(a, b, "/") && !pathWithin(b, a, "/") {
			return nil
		}
	default:
		return nil
	}
	switch {
	case a == b:
		return usageErr("source and destination are the same location (%s): nothing to copy", from)
	case pathWithin(b, a, "/") || pathWithin(b, a, string(filepath.Separator)):
		return usageErr("destination %s is inside source %s: each run would copy the last copy again; choose a destination outside the source", to, from)
	default:
		return usageErr("source %s is inside destination %s: it would be overwritten while it is read; choose a destination outside the source", from, to)
	}
}

// pathWithin reports whether inner is outer or below it; "" (a whole
// bucket) holds every key.
func pathWithin(inner, outer, sep string) bool {
	if outer == "" || inner == outer {
		return true
	}
	return strings.HasPrefix(inner, strings.TrimSuffix(outer, sep)+sep)
}

// resolveLocal makes p absolute and resolves symbolic links in the part of
// it that exists, so that two spellings of one directory compare equal.
func resolveLocal(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// storeEndpoint names the service an object-store location is reached at
// ("s3 host:port", "us3 host:port"), from the same flags and variables
// openStore uses; ok is false when it cannot be told.
func (e *env) storeEndpoint(u fs.URI, s side) (string, bool) {
	if u.Scheme == "us3" {
		c := us3.ConfigFromEnv(e.getenv, s.envPrefix)
		if s.endpoint != "" {
			c.Endpoint = s.endpoint
		}
		return "us3 " + hostOf(c.Endpoint), true
	}
	c, err := s3fs.ApplyPreset(e.s3Config(u, s))
	if err != nil {
		return "", false
	}
	return "s3 " + hostOf(c.Endpoint), true // "" is AWS: bucket names are global there
}

// s3Config is the S3 configuration of u on side s: the environment's,
// with the side's endpoint and region flags over it.
func (e *env) s3Config(u fs.URI, s side) s3fs.Config {
	c := s3fs.ConfigFromEnv(e.getenv, s.envPrefix)
	c.Bucket, c.Prefix, c.Provider = u.Bucket, u.Path, u.Scheme
	if s.endpoint != "" {
		c.Endpoint = s.endpoint
	}
	if s.region != "" {
		c.Region = s.region
	}
	return c
}

// hostOf is an endpoint URL's host[:port] in lower case ("" for "").
func hostOf(endpoint string) string {
	ep := strings.ToLower(strings.TrimSpace(endpoint))
	if _, rest, ok := strings.Cut(ep, "://"); ok {
		ep = rest
	}
	host, _, _ := strings.Cut(ep, "/")
	return host
}
