// Package transfer is Ferry's copy engine: it walks a source Tree over a path
// range, records every object in the catalog before any byte moves, streams
// objects part by part into a Sink with a bounded number of parts in flight,
// retries transient errors with backoff, verifies every object and resumes
// half-done multipart uploads from the catalog.
package transfer

import (
	"io"
	"log/slog"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// Options tune a transfer. The zero value is usable: defaults are filled in
// by withDefaults.
type Options struct {
	// Workers is the number of parts (or small objects) in flight. Memory is
	// bounded by Workers × part size for remote sources, whose parts are read
	// into memory once, and by Workers × 1 MiB for local ones (fs.Local),
	// whose parts are streamed from the file on every attempt.
	Workers int
	// PartSize is the requested multipart part size; a Sink may choose
	// another (US3 does). Objects up to min(PartSize, Sink MaxSinglePut) are
	// stored with one Put.
	PartSize int64
	// BWLimit caps source reads in bytes per second (0: unlimited).
	BWLimit int64
	// DryRun walks and decides but writes nothing, to the Sink or the catalog;
	// each object that would be copied is written as a line to DryRunOut.
	DryRun    bool
	DryRunOut io.Writer
	// Include and Exclude are glob patterns (see Filter). Exclude wins.
	Include, Exclude []string
	// SizeOnly skips objects whose size matches a finished copy, ignoring
	// the version token.
	SizeOnly bool
	// Dest, when set, is the destination read as a Tree, its keys those
	// the Sink writes. A walked object that the catalog does not hold as
	// copied is then looked up in Dest's listing (walked alongside, over
	// the same range) and, when Dest already holds it (Present, with
	// SizeOnly), recorded in the catalog as copied without a byte moved
	// (Progress.Present). A Dest listing that fails is logged and the
	// objects after the failure are copied.
	Dest fs.Tree
	// Attempts is how often one request is tried before its error counts
	// (default 6); RetryBase is the first backoff (default 250ms, doubling,
	// capped at 15s, full jitter).
	Attempts  int
	RetryBase time.Duration
	// ObjectRetryTime bounds how long, from its first attempt, an object
	// whose requests keep failing transiently is tried again (default 10m):
	// a part that outlives its quick retries goes round again later, its
	// upload kept, with a backoff growing to a minute; only then does the
	// object fail. A source that changes during the copy is instead copied
	// again at once, up to Attempts times.
	ObjectRetryTime time.Duration
	// Restore, when set, requests a restore of every archived object the
	// walk meets (see archive.go) and copies each once it can be read;
	// nil records them as skipped: archived.
	Restore *RestoreOptions
	Logger  *slog.Logger
}

// RestoreOptions say how archived objects are restored and waited for.
type RestoreOptions struct {
	fs.RestoreOptions
	// Poll is how often a restoring object is looked at again (default 1m).
	Poll time.Duration
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.PartSize <= 0 {
		o.PartSize = 8 << 20
	}
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 250 * time.Millisecond
	}
	if o.ObjectRetryTime <= 0 {
		o.ObjectRetryTime = 10 * time.Minute
	}
	if o.Restore != nil && o.Restore.Poll <= 0 {
		r := *o.Restore
		r.Poll = time.Minute
		o.Restore = &r
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.DryRunOut == nil {
		o.DryRunOut = io.Discard
	}
	return o
}

// Progress is a snapshot of a running transfer.
type Progress struct {
	Seen      int64 // objects walked (after filters)
	Planned   int64 // objects to copy this run
	Unchanged int64 // objects skipped because an identical copy is done
	// Archived counts objects recorded as skipped: archived (no
	// Options.Restore); Restoring the archived objects still waiting for
	// their restore.
	Archived, Restoring int64
	Present             int64 // objects found already at the destination (Options.Dest)
	Copied              int64 // objects copied and verified this run
	Failed              int64 // objects that failed permanently this run
	Bytes               int64 // bytes of the objects to copy
	BytesDone           int64 // bytes uploaded and acknowledged (live; parts of a discarded upload are taken back)
	// BytesCopied is the size of the objects counted in Copied: each
	// object once, however many attempts or resumed parts it took.
	BytesCopied int64
	// Resumed counts multipart uploads of an earlier run that this run
	// took up again (uploading only the parts they lacked).
	Resumed  int64
	WalkDone bool
	// Cursor is the largest object key (Entry.ObjectKey) such that every
	// object at or before it in walk order is finished (copied, unchanged or
	// failed); "" before any. A walk resumed at Range{Start: Cursor+"\x00"}
	// misses nothing.
	Cursor  string
	Elapsed time.Duration
}

// Result is the outcome of Run: the final Progress.
type Result = Progress
