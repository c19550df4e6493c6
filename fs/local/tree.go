// Package local serves a local directory (a disk, a NAS mount, any mounted
// path) as an fs.Tree, and stores objects into one as a fs.Sink.
package local

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ferry-project/ferry/fs"
)

// Tree is a read-only fs.Tree over a local directory. Path is the file's
// path relative to the root, '/'-separated; Entry.Key is always empty.
//
// Symbolic links: a link to a regular file is served as that file (Stat,
// Open, ReadDir and Walk follow it). A link to a directory is never
// followed, so a tree with link loops walks in finite time: ReadDir and Walk
// leave it out and Stat/Open of the link itself report fs.ErrNotExist. (A
// path that runs through a linked directory further down is resolved by the
// operating system as usual.) Dangling links, FIFOs, sockets and devices are
// left out the same way; Walk logs each with slog. The state a Sink keeps
// in a directory it writes to (the root's .ferry-uploads and .ferry-tmp-*
// files) is left out too: it is never an object.
//
// Version is "<mtime in Unix nanoseconds>-<size>". Tree is safe for
// concurrent use.
type Tree struct {
	root string
	log  *slog.Logger
}

var _ fs.Tree = (*Tree)(nil)
var _ fs.Local = (*Tree)(nil)
var _ fs.EntryOpener = (*Tree)(nil)

// New returns a Tree rooted at root, which must exist and be a directory
// (a symbolic link to one is fine).
func New(root string) (*Tree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open local tree %q: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open local tree %q: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open local tree %q: %w", root, fs.ErrNotDir)
	}
	return &Tree{root: abs, log: slog.Default().With("tree", abs)}, nil
}

// Root returns the absolute path of the tree's root directory.
func (t *Tree) Root() string { return t.root }

// IsLocal reports true: re-reading a file costs no request (fs.Local).
func (t *Tree) IsLocal() bool { return true }

// abs maps a tree path to an OS path. Invalid paths ("..", "a//b", a
// leading or trailing slash, NUL) cannot name anything in the tree and give
// an error wrapping fs.ErrNotExist.
func (t *Tree) abs(p string) (string, error) {
	if p == "" {
		return t.root, nil
	}
	if !iofs.ValidPath(p) || p == "." || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("invalid path %q: %w", p, fs.ErrNotExist)
	}
	return filepath.Join(t.root, filepath.FromSlash(p)), nil
}

// Stat describes the file or directory at p.
func (t *Tree) Stat(ctx context.Context, p string) (fs.Entry, error) {
	if err := ctx.Err(); err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, err)
	}
	abs, err := t.abs(p)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat: %w", err)
	}
	if dir, name := path.Split(p); sinkState(strings.TrimSuffix(dir, "/"), name) {
		return fs.Entry{}, fmt.Errorf("stat %q: a destination's upload state, not an object: %w", p, fs.ErrNotExist)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fs.Entry{}, fmt.Errorf("stat %q: %w", p, mapErr(err))
	}
	if fi.IsDir() && p != "" {
		if li, err := os.Lstat(abs); err == nil && li.Mode()&iofs.ModeSymlink != 0 {
			return fs.Entry{}, fmt.Errorf("stat %q: symbolic link to a directory is not followed: %w", p, fs.ErrNotExist)
		}
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return fs.Entry{}, fmt.Errorf("stat %q: %v is not a regular file: %w", p, fi.Mode().Type(), fs.ErrNotExist)
	}
	return entry(p, fi), nil
}

// Open opens the regular file at p for preads (safe for concurrent use).
// The File is an fs.VersionChecker: it proves after a copy that nobody
// wrote, truncated or replaced the file while it was read.
func (t *Tree) Open(ctx context.Context, p string) (fs.File, error) {
	return t.open(ctx, p, "")
}

// OpenEntry opens the file Walk or ReadDir described as e; a file that is
// no longer e's version (another size or mtime) gives an error wrapping
// fs.ErrChanged, so a copy never starts from bytes it did not walk.
func (t *Tree) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	return t.open(ctx, e.Path, e.Version)
}

func (t *Tree) open(ctx context.Context, p, version string) (fs.File, error) {
	e, err := t.Stat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if e.IsDir() {
		return nil, fmt.Errorf("open %q: %w", p, fs.ErrIsDir)
	}
	abs, _ := t.abs(p)
	return openFile(ctx, abs, p, version)
}

// ReadDir calls fn for each child of dir in byte order of name. Children
// that are not regular files or real directories are left out (see Tree).
func (t *Tree) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read dir %q: %w", dir, err)
	}
	abs, err := t.abs(dir)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	des, err := os.ReadDir(abs) // sorted by name
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("read dir %q: %w", dir, fs.ErrNotDir)
		}
		return fmt.Errorf("read dir %q: %w", dir, mapErr(err))
	}
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read dir %q: %w", dir, err)
		}
		if sinkState(dir, de.Name()) {
			continue
		}
		p := join(dir, de.Name())
		fi, ok := t.info(abs, de, slog.LevelDebug)
		if !ok {
			continue
		}
		if err := fn(entry(p, fi)); err != nil {
			return err
		}
	}
	return nil
}

// info returns the FileInfo to serve for a directory entry, following a
// link to a regular file. ok is false for entries that are left out; they
// are logged at level.
func (t *Tree) info(dirAbs string, de os.DirEntry, level slog.Level) (iofs.FileInfo, bool) {
	name := filepath.Join(dirAbs, de.Name())
	var (
		fi  iofs.FileInfo
		err error
	)
	if de.Type()&iofs.ModeSymlink != 0 {
		fi, err = os.Stat(name)
		if err == nil && fi.IsDir() {
			t.log.Log(context.Background(), level, "skipping symbolic link to a directory", "path", name)
			return nil, false
		}
	} else {
		fi, err = de.Info()
	}
	if err != nil {
		t.log.Log(context.Background(), max(level, slog.LevelWarn), "skipping unreadable entry", "path", name, "err", err)
		return nil, false
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		t.log.Log(context.Background(), level, "skipping special file", "path", name, "type", fi.Mode().Type().String())
		return nil, false
	}
	return fi, true
}

// entry builds the Entry of path p from its FileInfo.
func entry(p string, fi iofs.FileInfo) fs.Entry {
	mode := fi.Mode().Perm()
	if fi.IsDir() {
		mode |= iofs.ModeDir
	}
	return fs.Entry{
		Path:    p,
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
		Mode:    mode,
		Version: versionOf(fi.ModTime().UnixNano(), fi.Size()),
	}
}

// versionOf renders a file's Version: "<mtime in Unix nanoseconds>-<size>".
func versionOf(mtimeNanos, size int64) string {
	return strconv.FormatInt(mtimeNanos, 10) + "-" + strconv.FormatInt(size, 10)
}

// join joins a tree directory path and a name.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// mapErr makes "a path component is a file" read as not-exist: under a
// file nothing exists.
func mapErr(err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}
