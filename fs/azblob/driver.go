package azblob

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Driver is the registry entry of Azure Blob Storage:
// "azblob://ACCOUNT/CONTAINER/prefix" (one container and key prefix) and
// "azblob://ACCOUNT/" (the whole account, every container a top-level
// directory), read as a Tree, written as a Sink and listed as a Tree, all
// one Store. It reads the AZURE_STORAGE_ variables of ConfigFromEnv (the
// Options' side prefix first); the Options' endpoint overrides
// AZURE_STORAGE_ENDPOINT. The account the URI names wins over
// AZURE_STORAGE_ACCOUNT.
func Driver() fs.Driver {
	return fs.Driver{
		Schemes:   []string{"azblob"},
		Shape:     fs.AccountWideShape,
		EnvPrefix: "AZURE_STORAGE_",
		Env: []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
			"AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_ENDPOINT"},
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
			a, err := c.resolve()
			if err != nil {
				return fs.Place{}, false
			}
			// A whole account holds every container: its Path is "" and
			// a container's is "container/prefix".
			p := strings.Trim(u.Bucket+"/"+strings.Trim(u.Path, "/"), "/")
			return fs.Place{Space: "azblob " + fs.EndpointHost(a.endpoint) + " " + a.account, Path: p, Sep: "/"}, true
		},
	}
}

// configFor is the Config of u under o: the environment's, with the URI's
// account, container and prefix and o's endpoint over it.
func configFor(u fs.URI, o fs.Options) Config {
	c := ConfigFromEnv(o.Env, o.EnvPrefix)
	c.Container, c.Prefix = u.Bucket, u.Path
	if u.Account != "" {
		c.Account = u.Account
	}
	if o.Endpoint != "" {
		c.Endpoint = o.Endpoint
	}
	return c
}

// open builds the Store of u (no request yet).
func open(ctx context.Context, u fs.URI, o fs.Options) (*Store, error) {
	c := configFor(u, o)
	c.HTTPClient, c.MD5 = o.HTTPClient, o.MD5
	st, err := New(ctx, c)
	if err != nil {
		return nil, fs.ConfigError{Err: fmt.Errorf("%s: %w", u, err)}
	}
	return st, nil
}
