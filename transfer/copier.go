package transfer

import (
	"context"
	"errors"
	"hash"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-project/ferry/fs"
)

// Copier is Ferry's one single-object copy primitive: it copies one
// source object into its Sink per call of Copy, planning parts within the
// Sink's Limits, choosing one Put or a multipart upload, streaming with
// bounded memory, retrying each request with backoff, verifying what the
// Sink reports (fs.Checksummer, fs.SummedBody, else the size by Head),
// resuming an upload from the parts a Journal recorded, and checking the
// source version (fs.VersionChecker) before completing. The Engine copies
// every object of a walk with one Copier; the fetch executor copies one
// URL with one.
//
// Part work runs on the Copier's workers (Start): one buffer of at most a
// part each, so memory is bounded by workers × part size for remote
// sources and workers × 1 MiB for local ones (Object.Local), however many
// objects are copied at once. Copy itself must not run on a worker.
type Copier struct {
	dst     fs.Sink
	cs      fs.Checksummer // nil when the Sink's ETags cannot be predicted
	opts    CopierOptions
	limiter *rate.Limiter
	units   chan unit
}

// CopierOptions tune a Copier; zero values take the defaults.
type CopierOptions struct {
	// PartSize is the requested part size (default 8 MiB), kept within the
	// Sink's Limits; the Sink may choose another (US3 does). Objects up to
	// min(PartSize, Limits.MaxSinglePut) are stored with one Put.
	PartSize int64
	// Retry is how each Sink request is tried (default 6 attempts from
	// 250ms), and each source read unless ReadAttempts says otherwise.
	Retry RetryPolicy
	// ReadAttempts bounds the tries of one source read (0: Retry.Attempts;
	// 1 for a source that retries on its own).
	ReadAttempts int
	// BWLimit caps source reads in bytes per second (0: unlimited).
	BWLimit int64
	// Progress, when set, is told the bytes of each multipart part once
	// the Sink acknowledged it, and takes back (negative) the parts of an
	// upload that was discarded; a single Put is the caller's to count.
	Progress func(n int64)
	// Retried, when set, counts the parts sent round again later.
	Retried func(n int)
	// ObjectRetryTime is what an Object's Deadline allows, for messages.
	ObjectRetryTime time.Duration
	Logger          *slog.Logger
}

// NewCopier returns a Copier into dst; Start gives it its workers.
func NewCopier(dst fs.Sink, opts CopierOptions) *Copier {
	if opts.PartSize <= 0 {
		opts.PartSize = 8 << 20
	}
	if opts.Retry.Attempts <= 0 {
		opts.Retry.Attempts = 6
	}
	if opts.Retry.Base <= 0 {
		opts.Retry.Base = 250 * time.Millisecond
	}
	if opts.ReadAttempts <= 0 {
		opts.ReadAttempts = opts.Retry.Attempts
	}
	if opts.Progress == nil {
		opts.Progress = func(int64) {}
	}
	if opts.Retried == nil {
		opts.Retried = func(int) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Copier{dst: dst, opts: opts}
	c.cs, _ = dst.(fs.Checksummer)
	if opts.BWLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opts.BWLimit), int(min(opts.BWLimit, limiterBurst)))
	}
	return c
}

// Object is one source object and the state of its copy across attempts.
type Object struct {
	// Key is where the Sink stores it; Path names it in messages.
	Key, Path string
	// Size is the object's size, or -1 when unknown: it is then read as
	// one stream in order, and a File with a Size() int64 method may tell
	// the size its first read learnt (a hint for CreateMultipart).
	Size int64
	// Open opens the source; every attempt opens it once.
	Open func(ctx context.Context) (fs.File, error)
	// Sequential means the File reads in order only (fs.SequentialOnly).
	Sequential bool
	// Local means reading again costs no request (fs.Local): a part is
	// hashed in one pass and streamed from the file again on upload.
	Local bool
	// UploadID and PartSize are the multipart upload in progress: set by
	// Copy, or by the caller to resume one a Journal recorded.
	UploadID string
	PartSize int64
	// Stale is an upload of an older version, aborted before the next
	// attempt.
	Stale string
	// Journal records the upload so that a later process resumes it; nil
	// records nothing.
	Journal Journal
	// Whole, when set, is fed every byte of the object in order (fetch's
	// SHA-1); a copy with Whole never sends a part round again later and
	// needs a remote (not Local) source. Reset it before a new attempt.
	Whole hash.Hash
	// Deadline ends the later rounds of parts that outlived their quick
	// retries (zero: such a part fails the attempt).
	Deadline time.Time

	have map[int]donePart // parts in UploadID (nil: not looked at yet)
}

// Journal records a multipart upload as it progresses, so that a copy
// killed half-way resumes at its first unfinished part.
type Journal interface {
	// Started records a new upload (o.UploadID, o.PartSize) durably
	// before its first part moves.
	Started(ctx context.Context, o *Object) error
	// Resumed tells that an upload of an earlier run is taken up again.
	Resumed(o *Object)
	// Part records a finished part and its Sink hash (may be queued).
	Part(o *Object, p fs.Part, sum []byte)
	// Parts returns the parts recorded for o.UploadID.
	Parts(ctx context.Context, o *Object) ([]RecordedPart, error)
}

// RecordedPart is a part a Journal holds: the Sink hash is hex.
type RecordedPart struct {
	fs.Part
	Checksum string
}

// Start runs workers goroutines that execute part work (and whatever Go
// hands them) until stop is called; stop waits for them.
func (c *Copier) Start(ctx context.Context, workers int) (stop func()) {
	c.units = make(chan unit)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.worker(ctx)
		}()
	}
	return func() {
		close(c.units)
		wg.Wait()
	}
}

// Go hands run to a free worker, with that worker's part buffer; when ctx
// ends first, or by the time a worker takes it, drop is called instead.
func (c *Copier) Go(ctx context.Context, run func(buf *[]byte), drop func()) {
	select {
	case c.units <- unit{ctx: ctx, run: run, drop: drop}:
	case <-ctx.Done():
		drop()
	}
}

// SinglePut reports whether an object of this size goes up in one Put.
func (c *Copier) SinglePut(size int64) bool {
	return size >= 0 && size <= c.singleLimit()
}

func (c *Copier) singleLimit() int64 {
	l := c.dst.Limits()
	limit := c.opts.PartSize
	if l.MaxSinglePut > 0 && l.MaxSinglePut < limit {
		limit = l.MaxSinglePut
	}
	return limit
}

// PartSize plans the part size for an object of the given size (-1
// unknown: as if it held the most parts the Sink allows of PartSize).
func (c *Copier) PartSize(size int64) int64 {
	l := c.dst.Limits()
	ps := max(c.opts.PartSize, l.MinPartSize)
	if l.MaxParts > 0 && size > 0 {
		if need := (size + int64(l.MaxParts) - 1) / int64(l.MaxParts); need > ps {
			ps = (need + 1<<20 - 1) &^ (1<<20 - 1)
		}
	}
	if l.MaxPartSize > 0 && ps > l.MaxPartSize {
		ps = l.MaxPartSize
	}
	return ps
}

// Copy makes one attempt at copying o: one Put for a small object, a
// multipart upload (resumed when o holds one) for a large one, one stream
// for an object of unknown size. It returns what the Sink reports of the
// verified object (Size set to the bytes stored) and, for a single Put,
// the Sink hash of the bytes. A failed attempt leaves o's upload and its
// finished parts for the next attempt, except after fs.ErrChanged: then
// the upload is o.Stale and its parts are taken back from Progress.
// Errors a retry cannot fix are permanent (see Permanent); a destination
// that does not hold what was sent wraps ErrMismatch.
func (c *Copier) Copy(ctx context.Context, o *Object) (fs.ObjectInfo, []byte, error) {
	var buf []byte
	return c.copy(ctx, o, &buf)
}

// copy is Copy with a buffer for a single Put (a worker's, when it runs on
// one).
func (c *Copier) copy(ctx context.Context, o *Object, buf *[]byte) (fs.ObjectInfo, []byte, error) {
	var info fs.ObjectInfo
	var sum []byte
	var err error
	switch {
	case o.Size < 0:
		info, sum, err = c.streamOnce(ctx, o)
	case c.SinglePut(o.Size):
		info, sum, err = c.putOnce(ctx, o, buf)
	default:
		info, err = c.multipartOnce(ctx, o)
	}
	if err != nil && errors.Is(err, fs.ErrChanged) && ctx.Err() == nil {
		c.Discard(o)
	}
	return info, sum, err
}

// Discard gives up o's upload (whose parts are of a version that no longer
// is): it becomes o.Stale, aborted before the next attempt, and its parts
// are taken back from Progress.
func (c *Copier) Discard(o *Object) {
	for _, p := range o.have {
		c.opts.Progress(-p.part.Size)
	}
	o.have = nil
	if o.UploadID != "" {
		o.Stale, o.UploadID, o.PartSize = o.UploadID, "", 0
	}
}

// Abort aborts o's upload and any stale one, even when ctx has ended, so
// that nothing is left behind by a copy that is given up.
func (c *Copier) Abort(ctx context.Context, o *Object) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, id := range []string{o.UploadID, o.Stale} {
		if id != "" {
			if err := c.dst.AbortMultipart(ctx, o.Key, id); err != nil {
				c.opts.Logger.Warn("abort multipart upload", "key", o.Key, "err", err)
			}
		}
	}
	o.UploadID, o.PartSize, o.Stale, o.have = "", 0, "", nil
}

// abortStale aborts o.Stale before an attempt.
func (c *Copier) abortStale(ctx context.Context, o *Object) {
	if o.Stale != "" {
		_ = c.dst.AbortMultipart(context.WithoutCancel(ctx), o.Key, o.Stale)
		o.Stale = ""
	}
}

// open opens o's source, retrying transient errors.
func (c *Copier) open(ctx context.Context, o *Object) (fs.File, error) {
	var f fs.File
	err := c.readRetry(ctx, func() error {
		var err error
		f, err = o.Open(ctx)
		return err
	})
	return f, err
}

// stopped is the error of work dropped because ctx ended.
func stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// unit is what a worker executes.
type unit struct {
	ctx  context.Context // Go's
	run  func(buf *[]byte)
	drop func()
}

// worker executes units with its own buffer, so memory stays bounded by
// workers × part size whatever the job size (and by workers × readChunk
// for local sources, whose parts are never held in memory).
func (c *Copier) worker(ctx context.Context) {
	var buf []byte
	for u := range c.units {
		if ctx.Err() != nil || u.ctx.Err() != nil {
			u.drop()
			continue
		}
		u.run(&buf)
	}
}
