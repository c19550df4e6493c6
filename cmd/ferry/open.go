package main

import (
	"context"
	"fmt"
	"net/http"
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
func (e *env) openDest(ctx context.Context, loc string, s side) (transfer.Sink, error) {
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
	st, err := e.openStore(ctx, u, s)
	if err != nil {
		return nil, err
	}
	return st.(transfer.Sink), nil
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
		c := s3fs.ConfigFromEnv(e.getenv, s.envPrefix)
		c.Bucket, c.Prefix, c.Provider = u.Bucket, u.Path, u.Scheme
		if s.endpoint != "" {
			c.Endpoint = s.endpoint
		}
		if s.region != "" {
			c.Region = s.region
		}
		c.PathStyle = c.PathStyle || s.pathStyle
		c.HTTPClient = s.httpClient()
		c.MD5 = s.md5
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
