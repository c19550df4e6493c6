package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Build stamps. They are the only package-level variables of this command
// because the linker can only set variables: a release build sets them
// with
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/ferry
//
// Left empty, the module version and the VCS revision recorded by the Go
// toolchain are used; a build with -buildvcs=false (as the Makefile's) has
// no revision, and the commit is then "unknown".
var (
	version string
	commit  string
)

// buildInfo is what `ferry version` prints.
type buildInfo struct {
	Version, Commit, GoVersion string
	Modified                   bool // built from a tree with uncommitted changes
}

// readBuildInfo gathers the version, the commit and the Go version from
// the linker stamps, else from runtime/debug.ReadBuildInfo.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// buildVersion is the version string urfave/cli shows.
func buildVersion() string { return readBuildInfo().Version }

// String is the one line `ferry version` and `ferry --version` print.
func (b buildInfo) String() string {
	dirty := ""
	if b.Modified {
		dirty = " (modified)"
	}
	return fmt.Sprintf("ferry %s, commit %s%s, %s", b.Version, b.Commit, dirty, b.GoVersion)
}

// printVersion prints the build's version line to stdout.
func (e *env) printVersion() error {
	_, err := fmt.Fprintln(e.stdout, readBuildInfo())
	return err
}

// versionCommand is `ferry version`.
func versionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version, commit and Go version",
		ArgsUsage: " ",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErr("version takes no arguments")
			}
			return e.printVersion()
		},
	}
}
