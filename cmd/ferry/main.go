// Command ferry moves large file and object collections into US3, S3 and
// local directories through a SQLite catalog. This package only wires
// subcommands together and turns errors into exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1 // the command could not do its work
	exitUsage   = 2 // bad flags, arguments or locations
	exitPartial = 3 // the run finished but some objects failed
	// A run ended by a signal exits 128 + the signal's number (130 for
	// Ctrl-C, 143 for SIGTERM), as shells report it.
	exitSignalBase = 128
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

// interrupted is the cause of a context canceled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// exitCode is the exit status of a process ended by this signal.
func (i interrupted) exitCode() int { return exitSignalBase + int(i.sig) }

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, os.Getenv))
}

// env is the process environment; tests pass their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	hashers        *hashers // nil in tests that build an env by hand
	drivers        fs.Registry
	args           []string // the command line, to tell flags from variables
}

// run runs one ferry command line and returns its exit status: 0 done, 1
// the work failed, 2 bad usage or input (including a busy, corrupt or
// foreign catalog), 3 some objects failed, 128+N ended by signal N. Every
// error is printed as one line "ferry: …" on stderr.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	reg, err := standardDrivers()
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitError
	}
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, hashers: &hashers{}, drivers: reg, args: args}
	defer e.hashers.close()
	// One log format in the whole process: drivers that log through the
	// default logger write the same text records as the commands do.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	defer slog.SetDefault(prev)

	app := newApp(e)
	ctx, stop := signalContext(context.Background())
	defer stop()
	defer startProfiles(getenv)()
	err = app.RunContext(ctx, permuteArgs(app.Commands, args))
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ferry: %v\n", err)
	var ce codeError
	var sig interrupted
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.As(context.Cause(ctx), &sig):
		return sig.exitCode()
	case errors.Is(err, catalog.ErrInUse), errors.Is(err, catalog.ErrNotCatalog), errors.Is(err, catalog.ErrNewerSchema):
		return exitUsage
	}
	return exitError
}

// newApp builds the command tree with ferry's error handling on every
// command: usage errors are one line and exit 2, unknown commands say so.
func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:                 "ferry",
		Usage:                "move large file and object collections into US3, S3 and local directories",
		Version:              buildVersion(),
		HideVersion:          true, // our own --version flag and version command
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		Flags:                []cli.Flag{&cli.BoolFlag{Name: "version", Usage: "print the version, commit and Go version"}},
		Commands:             commands(e),
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         onUsageError,
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				return e.printVersion()
			}
			return unknownCommand(c)
		},
	}
	harden(app.Commands)
	return app
}

// onUsageError turns a flag parsing error into a one-line usage error.
func onUsageError(c *cli.Context, err error, _ bool) error {
	if name := commandName(c); name != "" {
		return usageErr("%s: %w", name, err)
	}
	return usageErr("%w", err)
}

// commandName is the running command's name below the app ("migrate run"),
// or "" for the app itself.
func commandName(c *cli.Context) string {
	if c == nil || c.Command == nil || c.Command.Name == "" || c.Command.Name == c.App.Name {
		return ""
	}
	if c.Command.HelpName != "" {
		return strings.TrimPrefix(c.Command.HelpName, c.App.Name+" ")
	}
	return c.Command.Name
}

// unknownCommand is the action of the app and of every command that only
// groups subcommands: help without arguments, a usage error naming the
// word otherwise.
func unknownCommand(c *cli.Context) error {
	name := commandName(c)
	if c.NArg() == 0 || (c.NArg() == 1 && c.Args().First() == "help") {
		if name == "" {
			return cli.ShowAppHelp(c)
		}
		return cli.ShowSubcommandHelp(c)
	}
	where, help := "", "ferry --help"
	if name != "" {
		where, help = name+" ", "ferry "+name+" --help"
	}
	return usageErr("unknown command %q (see %s)", where+c.Args().First(), help)
}

// harden gives every command of the tree one-line usage errors: flag
// errors and missing required flags exit 2 without a help dump, and a
// command that only groups subcommands refuses an unknown one.
func harden(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = onUsageError
		if len(cmd.Subcommands) > 0 && cmd.Action == nil {
			cmd.Action = unknownCommand
		}
		var required []string
		for _, f := range cmd.Flags {
			if sf, ok := f.(*cli.StringFlag); ok && sf.Required {
				sf.Required = false
				required = append(required, sf.Name)
			}
		}
		if len(required) > 0 {
			before := cmd.Before
			subs := cmd.Subcommands
			cmd.Before = func(c *cli.Context) error {
				if c.NArg() > 0 && findCommand(subs, c.Args().First()) != nil {
					return nil // a subcommand's flags are its own
				}
				for _, name := range required {
					if !c.IsSet(name) || c.String(name) == "" {
						return usageErr("%s needs --%s", commandName(c), name)
					}
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
		}
		harden(cmd.Subcommands)
	}
}

// signalContext returns a context canceled by the first SIGINT or SIGTERM,
// with an interrupted cause naming the signal. After the first signal the
// default handling is restored, so a second Ctrl-C ends the process at once.
func signalContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			sig, _ := s.(syscall.Signal)
			cancel(interrupted{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// commands lists every subcommand: an explicit registry, no init() side effects.
func commands(e *env) []*cli.Command {
	return []*cli.Command{
		migrateCommand(e),
		catalogCommand(e),
		checkCommand(e),
		lsCommand(e),
		mountCommand(e.openTree),
		masterCommand(e),
		jobCommand(e),
		fetchCommand(e),
		versionCommand(e),
	}
}
