// Command ferry moves large file and object collections into US3, S3 and
// local directories through a SQLite catalog. This package only wires
// subcommands together and turns errors into exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1 // the command could not do its work
	exitUsage   = 2 // bad flags, arguments or locations
	exitPartial = 3 // the run finished but some objects failed
)

// exitError carries an exit code through cli.
type codeError struct {
	code int
	err  error
}

func (e codeError) Error() string { return e.err.Error() }
func (e codeError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return codeError{exitUsage, fmt.Errorf(format, a...)}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, os.Getenv))
}

// env is the process environment; tests pass their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	hashers        *hashers // nil in tests that build an env by hand
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, hashers: &hashers{}}
	defer e.hashers.close()
	app := &cli.App{
		Name:                 "ferry",
		Usage:                "move large file and object collections into US3, S3 and local directories",
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		Commands:             commands(e),
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return codeError{exitUsage, err}
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer startProfiles(getenv)()
	err := app.RunContext(ctx, permuteArgs(app.Commands, args))
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ferry: %v\n", err)
	var ce codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// commands lists every subcommand: an explicit registry, no init() side effects.
func commands(e *env) []*cli.Command {
	return []*cli.Command{
		migrateCommand(e),
		catalogCommand(e),
		lsCommand(e),
		mountCommand(e.openTree),
		masterCommand(e),
		jobCommand(e),
		fetchCommand(e),
	}
}
