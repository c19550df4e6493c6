// Package fs defines Ferry's read-only Tree abstraction: the one shape that
// every source driver implements and that both the FUSE mount and the
// transfer engine consume. It imports no other ferry package.
package fs

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"time"
)

// Errors shared by every driver. Drivers wrap them (fmt.Errorf("...: %w", ErrNotExist))
// and callers test with errors.Is.
var (
	// ErrNotExist reports that a path is absent. It matches io/fs.ErrNotExist too.
	ErrNotExist = iofs.ErrNotExist
	// ErrPermission reports that credentials do not allow an operation.
	ErrPermission = iofs.ErrPermission
	// ErrNotDir reports that a directory operation was applied to a file.
	ErrNotDir = errors.New("not a directory")
	// ErrIsDir reports that a file operation was applied to a directory.
	ErrIsDir = errors.New("is a directory")
	// ErrChanged reports that a source object is no longer the version it
	// was walked or opened as: a read pinned to that version was refused
	// (S3 PreconditionFailed, another ETag), or a local file's size, mtime,
	// ctime or inode moved while it was read. Bytes read before and after
	// such a change must never be stored as one object: the engine discards
	// the copy and starts the object again from its current version.
	ErrChanged = errors.New("source changed during copy")
)

// Entry describes one file or directory of a Tree.
//
// Path is relative to the tree's root, '/'-separated, with no leading or
// trailing slash; the root itself is "". Version is a change token (an ETag,
// "mtime-size", …): two entries with the same Path, Size and Version hold the
// same bytes. ETag, when set, is the store's own content checksum in the
// store's native form (S3 MD5 hex, US3 ETag); it may be empty.
type Entry struct {
	Path    string
	Size    int64
	ModTime time.Time
	Mode    iofs.FileMode
	Version string
	ETag    string
	// Key is the original object key when it differs from Path (a key that
	// had to be escaped to become a valid path); empty means Key == Path.
	Key string
	// Archive is set by drivers whose stores have cold classes (see
	// archive.go): a non-empty Archive.Class means the object cannot be
	// read until it is restored. The zero value is a readable object.
	Archive Archive
}

// IsDir reports whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// ObjectKey returns the key to write at a destination: the original key.
func (e Entry) ObjectKey() string {
	if e.Key != "" {
		return e.Key
	}
	return e.Path
}

// File is an open file: ranged reads at any offset, safe for concurrent
// ReadAt calls. io.NewSectionReader turns it into a rewindable reader.
type File interface {
	io.ReaderAt
	io.Closer
}

// Range is a half-open interval [Start, End) of object keys (Entry.ObjectKey,
// which is the Path itself for directory trees) in byte order. An empty End
// means "no upper bound"; the zero Range covers every key.
type Range struct {
	Start string
	End   string
}

// All is the Range that covers every path.
var All = Range{}

// Contains reports whether p lies in the range.
func (r Range) Contains(p string) bool {
	return p >= r.Start && (r.End == "" || p < r.End)
}

// Tree is a read-only tree of files.
//
// Every method takes the caller's context first and honours its cancellation.
// Implementations must be safe for concurrent use.
type Tree interface {
	// Stat describes path; it returns an error wrapping ErrNotExist when absent.
	// Stat("") describes the root directory.
	Stat(ctx context.Context, path string) (Entry, error)

	// ReadDir calls fn for each direct child of dir (files and directories),
	// in byte order of their names. An error from fn stops the listing and is
	// returned. A dir that is absent gives an error wrapping ErrNotExist.
	ReadDir(ctx context.Context, dir string, fn func(Entry) error) error

	// Walk calls fn for every file (never a directory) whose ObjectKey lies
	// in r, in byte order of ObjectKey (for directory trees, of Path), streamed: it never holds more than one
	// directory's names (or one listing page) in memory. Directory trees sort
	// each directory's names with '/' appended to directory names, so that
	// "a-c" comes before "a/b" exactly as in a flat key listing. An error
	// from fn stops the walk and is returned.
	Walk(ctx context.Context, r Range, fn func(Entry) error) error

	// Open opens the file at path for ranged reads.
	Open(ctx context.Context, path string) (File, error)
}

// Hasher is an optional extra of a Tree: a checksum the source already knows
// (for example a URL list's MD5) that the engine verifies after a copy.
type Hasher interface {
	// Checksum returns the expected checksum of path as algorithm name and
	// lowercase hex digest ("md5", "…"), or "" when unknown.
	Checksum(ctx context.Context, path string) (algo, hexsum string, err error)
}

// EntryOpener is an optional extra of a Tree whose Open must ask the store
// for an object's size and version (a HEAD). OpenEntry opens the file that
// Walk or ReadDir described as e, trusting its Size, ETag and Version, so a
// copy costs no extra request; reads fail if the object changed since.
type EntryOpener interface {
	OpenEntry(ctx context.Context, e Entry) (File, error)
}

// VersionChecker is an optional extra of a File whose store does not pin
// reads to one version by itself (a local file, which anybody may rewrite in
// place while it is copied). CheckVersion returns nil only when the file is
// provably still the version it was opened as (for a local file: the same
// size, mtime, ctime and inode, both through the open descriptor and at its
// path), and an error wrapping ErrChanged otherwise. The engine calls it
// after the last byte of a copy was read and before the copy is made
// visible, so every byte stored belongs to the one version the file had
// for the whole copy. Files whose every read is pinned by the store (an
// If-Match GET) need not implement it.
type VersionChecker interface {
	CheckVersion(ctx context.Context) error
}

// Local is an optional extra of a Tree whose files are local (a directory,
// NAS or FUSE mount): reading a range again costs no request, so the engine
// streams parts straight from the file rather than holding them in memory.
type Local interface {
	IsLocal() bool
}

// SequentialOnly is an optional extra of a Tree whose files cannot serve
// reads at arbitrary offsets in parallel (an HTTP origin without Range
// support). The engine then reads such a file in order, one part at a time.
type SequentialOnly interface {
	SequentialOnly(path string) bool
}
