package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Driver is the registry entry of S3 and S3-compatible stores:
// "s3://bucket/prefix" and the presets "oss://", "cos://", "kodo://",
// "minio://", "upyun://", read as a Tree, written as a Sink and listed as a Tree, all
// one Store. It reads the AWS_ variables of ConfigFromEnv (the Options'
// side prefix first); the Options' endpoint, region and path style
// override them. A destination without keys is refused before any
// request (anonymous access can read a public bucket, never write).
func Driver() fs.Driver {
	return fs.Driver{
		// "s3" (AWS) and the presets ApplyPreset knows, each the Provider
		// of its locations.
		Schemes:   []string{"s3", "oss", "cos", "kodo", "minio", "upyun"},
		Shape:     fs.BucketShape,
		EnvPrefix: "AWS_",
		Env: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
			"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"},
		OpenTree: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			return open(ctx, u, o, false)
		},
		OpenSink: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Sink, error) {
			return open(ctx, u, o, true)
		},
		OpenLister: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			return open(ctx, u, o, false)
		},
		Place: func(u fs.URI, o fs.Options) (fs.Place, bool) {
			c, err := ApplyPreset(configFor(u, o))
			if err != nil {
				return fs.Place{}, false
			}
			// An empty host is AWS: bucket names are global there.
			return fs.Place{Space: "s3 " + fs.EndpointHost(c.Endpoint) + " " + u.Bucket, Path: strings.Trim(u.Path, "/"), Sep: "/"}, true
		},
	}
}

// configFor is the Config of u under o: the environment's, with o's
// endpoint and region over it.
func configFor(u fs.URI, o fs.Options) Config {
	c := ConfigFromEnv(o.Env, o.EnvPrefix)
	c.Bucket, c.Prefix, c.Provider = u.Bucket, u.Path, u.Scheme
	if o.Endpoint != "" {
		c.Endpoint = o.Endpoint
	}
	if o.Region != "" {
		c.Region = o.Region
	}
	return c
}

// open builds the Store of u (no request yet); write refuses missing keys.
func open(ctx context.Context, u fs.URI, o fs.Options, write bool) (*Store, error) {
	c := configFor(u, o)
	c.PathStyle = c.PathStyle || o.PathStyle
	c.HTTPClient = o.HTTPClient
	c.MD5 = o.MD5
	if write && (c.AccessKey == "" || c.SecretKey == "") {
		return nil, fs.ConfigError{Err: fmt.Errorf("%s: no credentials for the destination: set %sAWS_ACCESS_KEY_ID and %sAWS_SECRET_ACCESS_KEY (or the unprefixed AWS_ variables)",
			u, o.EnvPrefix, o.EnvPrefix)}
	}
	c, err := ApplyPreset(c)
	if err != nil {
		return nil, fs.ConfigError{Err: fmt.Errorf("%s: %w", u, err)}
	}
	st, err := New(ctx, c)
	if err != nil {
		return nil, fs.ConfigError{Err: fmt.Errorf("%s: %w", u, err)}
	}
	return st, nil
}
