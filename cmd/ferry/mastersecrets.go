package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

// masterSecretFlags are the tokens of `ferry master`, each as --NAME,
// --NAME-file and a variable.
func masterSecretFlags() []cli.Flag {
	var out []cli.Flag
	out = append(out, secretFlags("admin-token", "token of operators (ferry job …)", "FERRY_ADMIN_TOKEN")...)
	out = append(out, secretFlags("cluster-token", "token of agents (ferry migrate run --master …)", "FERRY_CLUSTER_TOKEN")...)
	out = append(out, secretFlags("metrics-token", "token /metrics requires (default: none, /metrics is open)", "FERRY_METRICS_TOKEN")...)
	out = append(out, secretFlags("viewer-token", "read-only token of the API and the web console (default: none)", "FERRY_VIEWER_TOKEN")...)
	return out
}

// masterTokenSet are the master's tokens.
type masterTokenSet struct{ admin, cluster, metrics, viewer string }

// masterTokens resolves the master's tokens; admin and cluster are required.
func (e *env) masterTokens(c *cli.Context) (masterTokenSet, error) {
	var t masterTokenSet
	var err error
	if t.admin, err = e.secret(c, "admin-token", "FERRY_ADMIN_TOKEN"); err != nil {
		return t, err
	}
	if t.cluster, err = e.secret(c, "cluster-token", "FERRY_CLUSTER_TOKEN"); err != nil {
		return t, err
	}
	if t.metrics, err = e.secret(c, "metrics-token", "FERRY_METRICS_TOKEN"); err != nil {
		return t, err
	}
	if t.viewer, err = e.secret(c, "viewer-token", "FERRY_VIEWER_TOKEN"); err != nil {
		return t, err
	}
	if t.admin == "" || t.cluster == "" {
		return t, usageErr("ferry master needs an admin and a cluster token: --admin-token-file and --cluster-token-file (or FERRY_ADMIN_TOKEN and FERRY_CLUSTER_TOKEN)")
	}
	return t, nil
}

// masterTLS loads --tls-cert and --tls-key (nil without them).
func masterTLS(c *cli.Context) (*tls.Config, error) {
	cert, key := c.String("tls-cert"), c.String("tls-key")
	if cert == "" && key == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		return nil, usageErr("--tls-cert and --tls-key go together")
	}
	cfg, err := agent.ServerTLS(cert, key)
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return cfg, nil
}

// openMasterDB opens the master catalog with its secret key: FERRY_SECRET_KEY,
// else --secret-key-file, else DB.key beside the catalog; a key file that
// does not exist is generated for a catalog whose secrets are not encrypted
// yet (catalog.WithSecretKeyFile), and reported.
func (e *env) openMasterDB(c *cli.Context) (*catalog.MasterDB, error) {
	path := c.String("db")
	file := c.String("secret-key-file")
	var opt catalog.Option
	switch v := e.getenv("FERRY_SECRET_KEY"); {
	case file == "" && v != "":
		k, err := catalog.ParseSecretKey(v)
		if err != nil {
			return nil, usageErr("FERRY_SECRET_KEY: %w", err)
		}
		opt = catalog.WithSecretKey(k)
	default:
		if file == "" {
			file = path + ".key"
		}
		opt = catalog.WithSecretKeyFile(file)
	}
	_, statErr := os.Stat(file)
	db, err := catalog.OpenMaster(c.Context, path, agent.NextRun, opt)
	if errors.Is(err, catalog.ErrSecretKey) || errors.Is(err, catalog.ErrNoSecretKey) {
		return nil, usageErr("%w", err)
	}
	if err != nil {
		return nil, err
	}
	if file != "" && errors.Is(statErr, os.ErrNotExist) {
		if _, err := os.Stat(file); err == nil {
			slog.Warn(fmt.Sprintf("ferry master: generated the secret key %s (mode 0600): it encrypts the credentials "+
				"and fetch keys in the catalog; back it up apart from the catalog, which cannot be read without it", file))
		}
	}
	return db, nil
}
