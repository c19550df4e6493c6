package main

import (
	"crypto/tls"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/web"
)

// consoleFlags are the web console's flags of `ferry master`.
func consoleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ui-base", Value: "/", Usage: "path prefix a reverse proxy serves the master under (e.g. /ferry/; the proxy strips it): the console's links and cookie use it"},
	}
}

// console makes the web console (served under /ui/) for the master's
// tokens; its cookie is Secure when the master serves TLS.
func (e *env) console(c *cli.Context, t masterTokenSet, tlsCfg *tls.Config, log *slog.Logger) (*web.Console, error) {
	base := c.String("ui-base")
	if !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	con, err := web.New(web.Config{
		AdminToken: t.admin, ViewerToken: t.viewer, Base: base, Secure: tlsCfg != nil,
		LeaseTTL: c.Duration("lease-ttl"), Logger: log,
	})
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return con, nil
}
