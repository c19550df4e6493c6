package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// side is how one end of a transfer is reached. Keys never come from flags
// or URIs: only from the environment (FERRY_SRC_/FERRY_DST_-prefixed
// variables first, then the plain ones each driver reads, see fs.Driver).
type side struct {
	envPrefix string // fs.SourcePrefix or fs.DestPrefix
	endpoint  string // overrides the environment's endpoint
	region    string
	pathStyle bool
	conns     int // connection pool size
}

var sourceSide = side{envPrefix: fs.SourcePrefix, conns: 32}

func (s side) httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = s.conns * 2
	t.MaxIdleConnsPerHost = s.conns * 2
	t.MaxConnsPerHost = 0
	t.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: t}
}

// options are the driver options of side s in this environment; open adds
// the HTTP client (not needed to tell a location's Place).
func (e *env) options(s side) fs.Options {
	return fs.Options{Getenv: e.getenv, EnvPrefix: s.envPrefix, Endpoint: s.endpoint, Region: s.region,
		PathStyle: s.pathStyle, Conns: s.conns}
}

// checker is what an object-store driver offers beside Tree and Sink: a
// first request that tells a missing bucket or refused keys early.
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

// locate parses a location with the registry; its errors are usage errors.
func (e *env) locate(loc string) (fs.URI, fs.Driver, error) {
	u, d, err := e.drivers.Resolve(loc)
	if err != nil {
		return u, d, usageErr("%w", err)
	}
	return u, d, nil
}

// openTree opens a source location with the default source side.
func (e *env) openTree(ctx context.Context, loc string) (fs.Tree, error) {
	return e.openSource(ctx, loc, sourceSide)
}

// openSource turns a location into a Tree and checks it can be read.
func (e *env) openSource(ctx context.Context, loc string, s side) (fs.Tree, error) {
	u, d, err := e.locate(loc)
	if err != nil {
		return nil, err
	}
	o := e.options(s)
	o.HTTPClient = s.httpClient()
	t, err := d.OpenTree(ctx, u, o)
	if err != nil {
		return nil, openErr(err)
	}
	return t, e.check(ctx, u, t)
}

// openDest turns a location into a Sink and checks it can be written:
// credentials present and accepted, bucket existing.
func (e *env) openDest(ctx context.Context, loc string, s side) (fs.Sink, error) {
	u, d, err := e.drivers.ResolveDest(loc)
	if err != nil {
		if errors.Is(err, fs.ErrNotWritable) {
			return nil, usageErr("destination: %w", err)
		}
		return nil, usageErr("%w", err)
	}
	o := e.options(s)
	o.HTTPClient = s.httpClient()
	o.MD5 = e.hashers.server()
	sk, err := d.OpenSink(ctx, u, o)
	if err != nil {
		return nil, openErr(err)
	}
	return sk, e.check(ctx, u, sk)
}

// openLister lists a destination as a Tree in its Sink's keys (for
// --check-dest, --delete and a job's skip rule); called after openDest.
func (e *env) openLister(ctx context.Context, loc string, s side) (fs.Tree, error) {
	u, d, err := e.locate(loc)
	if err != nil {
		return nil, err
	}
	if d.OpenLister == nil {
		return nil, usageErr("destination %s cannot be listed", u)
	}
	o := e.options(s)
	o.HTTPClient = s.httpClient()
	t, err := d.OpenLister(ctx, u, o)
	if err != nil {
		return nil, openErr(err)
	}
	return t, e.check(ctx, u, t)
}

// openErr makes a driver's error about the location or its settings a
// usage error.
func openErr(err error) error {
	if errors.As(err, new(fs.ConfigError)) {
		return codeError{exitUsage, err}
	}
	return err
}

// check makes the first request of a store that has one (Check). A store
// that answers it with a 5xx or a reset is not a reason to give up the
// whole run: transient errors are retried briefly.
func (e *env) check(ctx context.Context, u fs.URI, v any) error {
	st, ok := v.(checker)
	if !ok {
		return nil
	}
	err := transfer.Retry(ctx, transfer.RetryPolicy{Attempts: checkAttempts, Base: checkBackoff}, st.IsPermanent,
		func() error { return st.Check(ctx) })
	if err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	return nil
}

// checkOverlap refuses a source and a destination that overlap, before
// anything is opened: the same place or one inside the other, as their
// drivers' Places tell (a directory after resolving symbolic links; a key
// prefix in the same bucket of the same endpoint). A destination inside
// its source would be walked as source and grow by a level on every run; a
// source inside its destination, or the same location, is overwritten
// while it is read.
func (e *env) checkOverlap(from, to string, src, dst side) error {
	fu, fd, err := e.drivers.Resolve(from)
	if err != nil {
		return nil // openSource reports it
	}
	tu, td, err := e.drivers.Resolve(to)
	if err != nil || fd.Place == nil || td.Place == nil {
		return nil
	}
	fp, fok := fd.Place(fu, e.options(src))
	tp, tok := td.Place(tu, e.options(dst))
	if !fok || !tok || fp.Space != tp.Space || fp.Sep != tp.Sep {
		return nil
	}
	a, b, sep := fp.Path, tp.Path, fp.Sep
	switch {
	case !pathWithin(a, b, sep) && !pathWithin(b, a, sep):
		return nil
	case a == b:
		return usageErr("source and destination are the same location (%s): nothing to copy", from)
	case pathWithin(b, a, sep):
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
