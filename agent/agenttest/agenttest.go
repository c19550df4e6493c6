// Package agenttest holds what tests of the master's mounted services (the
// console, saved sources) share: the standard driver registry and an
// agent.Opener over local directories.
package agenttest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/drivers"
	"github.com/ferry-project/ferry/fs/local"
)

// Drivers is the standard registry, as cmd/ferry builds it (the test
// binary must link the "sqlite3" SQL driver, as the catalog does).
func Drivers(t testing.TB) fs.Registry {
	t.Helper()
	r, err := drivers.Standard(drivers.Options{SQLite: "sqlite3"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// LocalOpener opens local directories (file locations) with the real
// local driver; any other location cannot be opened, as an unreachable
// store would not. When Creds is set, each location's credentials are
// sent to it (dropped when it is full).
type LocalOpener struct {
	Drivers fs.Registry
	Creds   chan map[string]string
}

var _ agent.Opener = LocalOpener{}

func (o LocalOpener) path(loc agent.Location) (string, error) {
	if o.Creds != nil {
		select {
		case o.Creds <- loc.Creds:
		default:
		}
	}
	u, err := o.Drivers.Parse(loc.URI)
	if err != nil {
		return "", err
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("%s: no such store here", loc.URI)
	}
	return u.Path, nil
}

// OpenSource opens an existing directory as a Tree.
func (o LocalOpener) OpenSource(ctx context.Context, loc agent.Location) (fs.Tree, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	return local.New(p)
}

// OpenDest opens a directory as a Sink.
func (o LocalOpener) OpenDest(ctx context.Context, loc agent.Location) (fs.Sink, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	return local.NewSink(p)
}

// OpenDestTree opens a destination directory as a Tree.
func (o LocalOpener) OpenDestTree(ctx context.Context, loc agent.Location) (fs.Tree, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	return local.New(p)
}
