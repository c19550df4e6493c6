package us3

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Driver is the registry entry of UCloud US3: "us3://bucket/prefix", read
// as a Tree, written as a Sink and listed as a Tree, all one Store. It
// reads the US3_ variables of ConfigFromEnv (the Options' side prefix
// first); the Options' endpoint overrides US3_ENDPOINT.
func Driver() fs.Driver {
	return fs.Driver{
		Schemes:   []string{"us3"},
		Shape:     fs.BucketShape,
		EnvPrefix: "US3_",
		Env:       []string{"US3_PUBLIC_KEY", "US3_PRIVATE_KEY", "US3_ENDPOINT", "US3_CUSTOM_DOMAIN"},
		OpenTree: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			return open(ctx, u, o)
		},
		OpenSink: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Sink, error) {
			return open(ctx, u, o)
		},
		OpenLister: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			return open(ctx, u, o)
		},
		Place: func(u fs.URI, o fs.Options) (fs.Place, bool) {
			c := configFor(u, o)
			return fs.Place{Space: "us3 " + fs.EndpointHost(c.Endpoint) + " " + u.Bucket, Path: strings.Trim(u.Path, "/"), Sep: "/"}, true
		},
	}
}

// configFor is the Config of u under o: the environment's, with o's
// endpoint over it.
func configFor(u fs.URI, o fs.Options) Config {
	c := ConfigFromEnv(o.Env, o.EnvPrefix)
	c.Bucket, c.Prefix = u.Bucket, u.Path
	if o.Endpoint != "" {
		c.Endpoint = o.Endpoint
	}
	return c
}

// open builds the Store of u (no request yet).
func open(ctx context.Context, u fs.URI, o fs.Options) (*Store, error) {
	c := configFor(u, o)
	c.HTTPClient = o.HTTPClient
	st, err := New(ctx, c)
	if err != nil {
		return nil, fs.ConfigError{Err: fmt.Errorf("%s: %w", u, err)}
	}
	return st, nil
}
