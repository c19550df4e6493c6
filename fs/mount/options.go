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

// Defaults used by DefaultOptions and for zero TTLs.
const (
	DefaultEntryTTL  = time.Second
	DefaultAttrTTL   = time.Second
	DefaultReadAhead = 8 << 20
	// chunkSize is the size of one background read-ahead fetch; the window
	// (Options.ReadAhead) is covered by at most ReadAhead/chunkSize+1 of them.
	chunkSize = 4 << 20
	// minListTTL is the shortest time a directory listing is reused, so a
	// READDIRPLUS of a large directory (one LOOKUP per entry) lists it once.
	minListTTL = time.Second
)

// Options tune a mount. Start from DefaultOptions.
type Options struct {
	// EntryTTL and AttrTTL are how long the kernel caches names and
	// attributes. Zero means the default (1s); a negative value disables
	// kernel caching. A directory listing is reused for EntryTTL, but at
	// least one second.
	EntryTTL, AttrTTL time.Duration
	// ReadAhead is how many bytes are fetched ahead of a sequential reader,
	// in background reads of up to 4 MiB; 0 (or negative) disables it.
	ReadAhead int64
	// Logger receives warnings (skipped names, I/O errors); nil discards.
	Logger *slog.Logger
	// Debug logs every FUSE request at debug level.
	Debug bool
}

// DefaultOptions returns 1s entry and attribute caching and 8 MiB read-ahead.
func DefaultOptions() Options {
	return Options{EntryTTL: DefaultEntryTTL, AttrTTL: DefaultAttrTTL, ReadAhead: DefaultReadAhead}
}

// normalized returns o with defaults applied: zero TTLs become the
// defaults, negative TTLs zero, a nil Logger a discarding one.
func (o Options) normalized() Options {
	o.EntryTTL = ttl(o.EntryTTL, DefaultEntryTTL)
	o.AttrTTL = ttl(o.AttrTTL, DefaultAttrTTL)
	if o.ReadAhead < 0 {
		o.ReadAhead = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

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
