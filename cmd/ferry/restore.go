package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

func masterRestoreCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "bring back the newest snapshot of --backup-to as the master's database (the master must be stopped)",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "the master's --backup-to location", Required: true},
			&cli.StringFlag{Name: "db", Usage: "the master catalog file to write", Required: true},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing database (and drop its -wal and -shm files)"},
		},
		Action: func(c *cli.Context) error { return e.masterRestore(c) },
	}
}

// masterRestore is `ferry master restore --from LOCATION --db FILE`: the
// newest snapshot at LOCATION is checked to be a catalog and moved into
// place. An existing database is refused without --force; with it, its
// -wal and -shm files go too (an old WAL replayed onto the snapshot would
// corrupt it).
func (e *env) masterRestore(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("unexpected argument %q", c.Args().First())
	}
	ctx, from, db := c.Context, c.String("from"), c.String("db")
	if _, err := os.Stat(db); err == nil && !c.Bool("force") {
		return usageErr("%s exists: stop the master and add --force to replace it", db)
	}
	tree, err := e.openSource(ctx, from, backupSide)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	var newest fs.Entry
	err = tree.Walk(ctx, fs.Range{Start: snapshotPrefix, End: strings.TrimSuffix(snapshotPrefix, "-") + "."}, func(en fs.Entry) error {
		if k := en.ObjectKey(); strings.HasPrefix(k, snapshotPrefix) && strings.HasSuffix(k, snapshotSuffix) && !strings.Contains(k, "/") {
			newest = en
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list snapshots at %s: %w", from, err)
	}
	if newest.Path == "" {
		return usageErr("no snapshot (%s*%s) at %s", snapshotPrefix, snapshotSuffix, from)
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(db), ".ferry-restore-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := download(ctx, tree, newest, tmp); err != nil {
		return fmt.Errorf("read snapshot %s: %w", newest.ObjectKey(), err)
	}
	if err := catalog.Probe(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("snapshot %s: %w", newest.ObjectKey(), err)
	}
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Remove(db + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), db); err != nil {
		return fmt.Errorf("restore %s: %w", db, err)
	}
	fmt.Fprintf(e.stdout, "restored %s from %s into %s\n", newest.ObjectKey(), from, db)
	return nil
}

// download copies the whole of en from tree into f (mode 0600, synced).
func download(ctx context.Context, tree fs.Tree, en fs.Entry, f *os.File) error {
	src, err := tree.Open(ctx, en.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	n, err := io.Copy(f, io.NewSectionReader(src, 0, en.Size))
	if err != nil {
		return err
	}
	if n != en.Size {
		return fmt.Errorf("read %d of %d bytes", n, en.Size)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}
