// Package mount serves any fs.Tree read-only through the kernel's FUSE
// (hanwen/go-fuse/v2), so a person can browse a source with ls, cat,
// sha256sum or rsync -n before migrating it.
//
// The mount is lazy (a directory is listed with Tree.ReadDir when it is first
// looked up or read, never the whole tree up front), read-only (every write
// answers EROFS, and the kernel mount itself is read-only), gives every path
// a stable inode number (FNV-64a of the path, the same in every mount), and
// detects sequential reads to fetch ahead in large ranged reads.
package mount

import (
	"log/slog"
	"time"
)

// Defaults used by DefaultOptions and for zero fields.
const (
	DefaultEntryTTL  = time.Second
	DefaultAttrTTL   = time.Second
	DefaultReadAhead = 8 << 20
	// DefaultReadAheadGrowth is how far a sequential reader's window may
	// grow when Options.MaxReadAhead is zero: to this many times ReadAhead.
	DefaultReadAheadGrowth = 8
	// DefaultReadAheadMemory is the mount-wide bound on read-ahead buffers
	// when Options.ReadAheadMemory is zero.
	DefaultReadAheadMemory = 512 << 20
	// chunkSize is the largest background read-ahead fetch (one ranged
	// read of the Tree) and the size of every read-ahead buffer of a
	// mount whose MaxReadAhead/4 is smaller.
	chunkSize = 16 << 20
	// minChunk is the smallest background fetch.
	minChunk = 128 << 10
	// minListTTL is the shortest time a directory listing is reused, so a
	// READDIRPLUS of a large directory (one LOOKUP per entry) lists it once.
	minListTTL = time.Second
	// DefaultRetryTimeout is how long a request that fails transiently is
	// retried when Options.RetryTimeout is zero.
	DefaultRetryTimeout = time.Minute
)

// Options tune a mount. Start from DefaultOptions.
type Options struct {
	// EntryTTL and AttrTTL are how long the kernel caches names and
	// attributes. Zero means the default (1s); a negative value disables
	// kernel caching. A directory listing is reused for EntryTTL, but at
	// least one second.
	EntryTTL, AttrTTL time.Duration
	// ReadAhead is how many bytes are fetched ahead of a sequential reader
	// when it is first detected (after two reads in order); 0 (or
	// negative) disables read-ahead. The window then doubles each time the
	// reader moves on into a fetched chunk, up to MaxReadAhead, and starts
	// over from ReadAhead after a jump. Fetches are background ranged reads
	// of a quarter of the window (between 128 KiB and 16 MiB, and at most
	// MaxReadAhead/4), up to four at once per open file.
	ReadAhead int64
	// MaxReadAhead is the largest read-ahead window of one open file. Zero
	// means DefaultReadAheadGrowth × ReadAhead (64 MiB for the default
	// 8 MiB); it is never less than ReadAhead. An open file holds at most
	// MaxReadAhead plus two fetches' worth of buffers (96 MiB by default).
	MaxReadAhead int64
	// ReadAheadMemory bounds the read-ahead buffers of all open files of
	// the mount together. Zero means DefaultReadAheadMemory (512 MiB); it is
	// never less than one file's bound. A file that finds the budget spent
	// reads ahead less, or passes reads straight to the Tree.
	ReadAheadMemory int64
	// RetryTimeout is how long a request to the tree (a listing, a stat,
	// an open, a read or a read-ahead fetch) that fails with a transient
	// error (a store unreachable, restarting, answering 5xx, a connection
	// cut mid-body) is retried, with exponential backoff capped at 2s,
	// before the request answers EIO. Zero means DefaultRetryTimeout (60s);
	// a negative value disables retries. Only trees that classify their
	// errors (an IsPermanent method, as the S3 and US3 stores have) are
	// retried; errors that cannot heal (absent, permission, an object that
	// changed, fs.ErrChanged) fail at once, and an interrupted request
	// stops retrying at once.
	RetryTimeout time.Duration
	// Logger receives warnings (skipped names, I/O errors); nil discards.
	Logger *slog.Logger
	// Debug logs every FUSE request at debug level.
	Debug bool
}

// DefaultOptions returns 1s entry and attribute caching, a read-ahead
// window of 8 MiB growing to 64 MiB, and retries for up to 60s.
func DefaultOptions() Options {
	return Options{EntryTTL: DefaultEntryTTL, AttrTTL: DefaultAttrTTL, ReadAhead: DefaultReadAhead,
		RetryTimeout: DefaultRetryTimeout}
}

// normalized returns o with defaults applied: zero TTLs and retry timeout
// become the defaults, negative ones zero, zero read-ahead bounds their
// defaults, a nil Logger a discarding one.
func (o Options) normalized() Options {
	o.EntryTTL = ttl(o.EntryTTL, DefaultEntryTTL)
	o.AttrTTL = ttl(o.AttrTTL, DefaultAttrTTL)
	o.RetryTimeout = ttl(o.RetryTimeout, DefaultRetryTimeout)
	if o.ReadAhead <= 0 {
		o.ReadAhead, o.MaxReadAhead, o.ReadAheadMemory = 0, 0, 0
	} else {
		if o.MaxReadAhead <= 0 {
			o.MaxReadAhead = DefaultReadAheadGrowth * o.ReadAhead
		}
		o.MaxReadAhead = max(o.MaxReadAhead, o.ReadAhead)
		if o.ReadAheadMemory <= 0 {
			o.ReadAheadMemory = DefaultReadAheadMemory
		}
		o.ReadAheadMemory = max(o.ReadAheadMemory, newReadAhead(o).perFile())
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ttl maps a duration option: zero is def, negative is zero (off).
func ttl(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// listTTL is how long a directory listing is reused.
func (o Options) listTTL() time.Duration {
	return max(o.EntryTTL, minListTTL)
}
