package main

import (
	"crypto/x509"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/internal/tlsclient"
)

// Secrets (tokens, fetch key pairs) come, in order, from --NAME, from the
// file --NAME-file names, or from their variables. The flag itself is kept
// for compatibility, but a command line is visible to every local user in
// ps and /proc: the file and the variable are the ways to pass a secret.

// secretFlags are --name (discouraged) and --name-file for one secret.
func secretFlags(name, what string, vars ...string) []cli.Flag {
	return []cli.Flag{secretFlag(name, what, vars...), secretFileFlag(name, what)}
}

// secretFlag is --name, a secret given on the command line (kept for
// compatibility; its usage points to the file and the variables).
func secretFlag(name, what string, vars ...string) cli.Flag {
	env := ""
	if len(vars) > 0 {
		env = " or " + strings.Join(vars, ", then ")
	}
	return &cli.StringFlag{Name: name, Usage: what + " (visible in ps: prefer --" + name + "-file" + env + ")"}
}

// secretFileFlag is --name-file, the file that holds a secret.
func secretFileFlag(name, what string) cli.Flag {
	return &cli.StringFlag{Name: name + "-file", Usage: "read " + what + " from this file (first line)"}
}

// caFlag is --ca, the CA certificate of an https master.
func caFlag() cli.Flag {
	return &cli.StringFlag{Name: "ca", Usage: "PEM file of the CA that signed an https master's certificate (default: the system's CAs; or FERRY_CA)"}
}

// secret resolves the secret name (see secretFlags): --name, --name-file,
// then the first variable of vars that is set. "" when none is given.
func (e *env) secret(c *cli.Context, name string, vars ...string) (string, error) {
	if v := c.String(name); v != "" {
		return v, nil
	}
	if f := c.String(name + "-file"); f != "" {
		return readSecretFile("--"+name+"-file", f)
	}
	for _, k := range vars {
		if v := e.getenv(k); v != "" {
			return v, nil
		}
	}
	return "", nil
}

// readSecretFile returns the first line of file, trimmed; an empty one is
// an error.
func readSecretFile(flagName, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usageErr("%s: %w", flagName, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", usageErr("%s: %s is empty", flagName, file)
	}
	return line, nil
}

// caPool reads --ca (else FERRY_CA); nil means the system's pool.
func (e *env) caPool(c *cli.Context) (*x509.CertPool, error) {
	file := c.String("ca")
	if file == "" {
		file = e.getenv("FERRY_CA")
	}
	if file == "" {
		return nil, nil
	}
	pool, err := tlsclient.LoadCA(file)
	if err != nil {
		return nil, usageErr("--ca: %w", err)
	}
	return pool, nil
}

// masterHTTP is an HTTP client for the master that trusts pool (nil: the
// system's CAs).
func masterHTTP(pool *x509.CertPool, conns int) *http.Client {
	t := tlsclient.Transport(pool)
	t.MaxIdleConnsPerHost = max(conns, 2)
	return &http.Client{Transport: t}
}
