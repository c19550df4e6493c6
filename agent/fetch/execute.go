package fetch

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
	"github.com/ferry-project/ferry/transfer"
)

// Task is one URL to store at Key in the sink Execute is given.
type Task struct {
	ID, URL, Key string
	// Concurrency bounds parallel ranged GETs and parts in flight (0: the
	// executor's default).
	Concurrency int
	// AllowPrivateURLs disables the address part of the URL policy.
	AllowPrivateURLs bool
}

// Result is the outcome of Execute.
type Result struct {
	OK bool
	// ETag (as the destination reports it), SHA1 (lowercase hex) and Size
	// of the stored bytes, when OK.
	ETag, SHA1 string
	Size       int64
	// Message says why the task failed ("source returned 404 Not Found").
	Message string
	// Retry marks a failure worth another attempt later (the destination
	// was unavailable, the bytes did not verify, the source changed during
	// the download); other origin failures that survived the executor's
	// own retries are final.
	Retry bool
}

// ExecutorOptions tune an Executor; zero values take the defaults.
type ExecutorOptions struct {
	// PartSize is the part size asked of the sink (default 8 MiB), kept
	// within its Limits; the sink may choose another (US3: 4 MiB).
	PartSize int64
	// Concurrency is the default of Task.Concurrency (default 4).
	Concurrency int
	// RetryMax is how often a request (and a broken body) is retried
	// (default 4; negative: never).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the origin client's backoff
	// (default 500ms and 15s); a broken body and a sink call are tried
	// again with transfer.Retry's backoff from RetryWaitMin.
	RetryWaitMin, RetryWaitMax time.Duration
	Logger                     *slog.Logger
}

// Executor downloads URLs into sinks. It is safe for concurrent use; its
// connection pools are shared by every task. Each task is one copy by a
// transfer.Copier (the engine's single-object primitive: part planning,
// Put or multipart, retries of sink calls, verification) with
// Concurrency workers, over the origin as a source (source.go).
//
// Memory: at most Concurrency buffers of one part each per task (and the
// first part of a stream). A ranged origin (HEAD gives a size and
// "Accept-Ranges: bytes") is read in parallel ranged GETs of one part each
// and uploaded as multipart; the whole-object SHA-1 is fed with the parts
// in order as they complete: a part's buffer is released only once it is
// uploaded and every earlier part has been hashed, so a slow part holds
// back at most Concurrency-1 later ones and never more memory. Any other
// origin is read as one stream, part by part, hashing as it reads; parts
// upload while the next ones are read.
//
// One version: every request of a download is pinned to the version of
// its first response (see pin). When the object changes meanwhile, the
// upload is aborted and Execute fails, retryably, with a message
// containing "source changed during copy" (fs.ErrChanged): the task is
// tried again from the start, so what is stored, and the SHA-1 reported,
// is always one whole version.
type Executor struct {
	opts    ExecutorOptions
	mu      sync.Mutex
	clients map[bool]*retryablehttp.Client // by AllowPrivateURLs
}

// NewExecutor returns an Executor with opts.
func NewExecutor(opts ExecutorOptions) *Executor {
	if opts.PartSize <= 0 {
		opts.PartSize = 8 << 20
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = 4
	} else if opts.RetryMax < 0 {
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = 500 * time.Millisecond
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = 15 * time.Second
	}
	if opts.RetryWaitMax < opts.RetryWaitMin {
		opts.RetryWaitMax = opts.RetryWaitMin
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Executor{opts: opts, clients: map[bool]*retryablehttp.Client{}}
}

// client returns the origin client for a policy.
func (x *Executor) client(allowPrivate bool) *retryablehttp.Client {
	x.mu.Lock()
	defer x.mu.Unlock()
	c, ok := x.clients[allowPrivate]
	if !ok {
		c = originClient(Policy{AllowPrivate: allowPrivate}, 4*x.opts.Concurrency, x.opts.RetryMax,
			x.opts.RetryWaitMin, x.opts.RetryWaitMax)
		x.clients[allowPrivate] = c
	}
	return c
}

// failure is an error with the message for the failure callback.
type failure struct {
	msg   string
	retry bool
	err   error
}

func (f *failure) Error() string { return f.msg }
func (f *failure) Unwrap() error { return f.err }

// fail builds a final failure; retryf a retryable one.
func fail(err error, format string, a ...any) error {
	return &failure{msg: fmt.Sprintf(format, a...), err: err}
}

func retryf(err error, format string, a ...any) error {
	return &failure{msg: fmt.Sprintf(format, a...), retry: true, err: err}
}

// Execute downloads t.URL into sink at t.Key and verifies it. It never
// panics on bad input and always returns a Result; a canceled ctx gives a
// retryable failure.
func (x *Executor) Execute(ctx context.Context, t Task, sink fs.Sink) Result {
	start := time.Now()
	j := &job{x: x, t: t, sink: sink, c: x.client(t.AllowPrivateURLs), conc: t.Concurrency, pin: newPin()}
	if j.conc <= 0 {
		j.conc = x.opts.Concurrency
	}
	res, err := j.run(ctx)
	if err != nil {
		res = Result{}
		res.Message, res.Retry = j.outcome(err)
		if ctx.Err() != nil {
			res.Retry, res.Message = true, "interrupted: "+ctx.Err().Error()
		}
		x.opts.Logger.Info("fetch failed", "task", t.ID, "url", httporigin.Redact(t.URL), "key", t.Key,
			"retry", res.Retry, "err", res.Message)
		return res
	}
	x.opts.Logger.Debug("fetch done", "task", t.ID, "key", t.Key, "size", res.Size,
		"seconds", time.Since(start).Seconds())
	return res
}

// outcome is the failure callback's Message for err, and whether it is
// worth another attempt: the origin's failures say so themselves; a
// source that changed, bytes that did not verify and a destination that
// is unavailable are retryable; a permanent destination error is final.
func (j *job) outcome(err error) (string, bool) {
	var f *failure
	var be *bodyError
	switch {
	case errors.As(err, &f):
		return f.msg, f.retry
	case errors.As(err, &be):
		return be.Error(), false
	case errors.Is(err, fs.ErrChanged), errors.Is(err, transfer.ErrMismatch):
		return err.Error(), true
	}
	return err.Error(), !j.sink.IsPermanent(err) && !transfer.Permanent(err)
}

// job is one Execute call.
type job struct {
	x    *Executor
	t    Task
	sink fs.Sink
	c    *retryablehttp.Client
	conc int
	pin  *pin // the version of the object this call stores
}

// run probes the origin and copies it with the transfer Copier: as
// parallel ranged GETs of one part each when the origin has a size, takes
// ranges and the object is larger than one part, else as one stream, its
// SHA-1 fed in order either way.
func (j *job) run(ctx context.Context) (Result, error) {
	if _, err := (Policy{AllowPrivate: j.t.AllowPrivateURLs}).CheckURL(j.t.URL); err != nil {
		return Result{}, fail(err, "%v", err)
	}
	size, ranged, err := j.probe(ctx)
	if err != nil {
		return Result{}, err
	}
	cp := transfer.NewCopier(j.sink, transfer.CopierOptions{
		PartSize:     partSize(j.x.opts.PartSize, j.sink.Limits()),
		Retry:        transfer.RetryPolicy{Attempts: sinkAttempts, Base: j.x.opts.RetryWaitMin},
		ReadAttempts: 1, // the origin client and the source retry on their own
		Logger:       j.x.opts.Logger,
	})
	stop := cp.Start(ctx, j.conc)
	defer stop()
	if ranged && !cp.SinglePut(size) {
		res, err := j.copy(ctx, cp, size, &source{j: j, ctx: ctx, ranged: true})
		if !errors.Is(err, errIgnoresRange) {
			return res, err
		}
		j.x.opts.Logger.Debug("origin ignores Range; streaming", "task", j.t.ID)
	}
	return j.stream(ctx, cp)
}

// stream copies the object read as one plain GET, from the start again up
// to RetryMax times when the body breaks (without Range support nothing
// can resume). Each GET sets a new pin: nothing the HEAD said is stored,
// and some origins answer HEAD with another length than GET; a retry that
// finds another version fails (see pin).
func (j *job) stream(ctx context.Context, cp *transfer.Copier) (Result, error) {
	j.pin = newPin()
	var res Result
	err := j.again(ctx, func() error {
		var err error
		res, err = j.copy(ctx, cp, -1, &source{j: j, ctx: ctx})
		return err
	})
	return res, err
}

// again calls fn again while it fails with a broken body (bodyError), up
// to RetryMax times, with backoff from RetryWaitMin.
func (j *job) again(ctx context.Context, fn func() error) error {
	return transfer.Retry(ctx, transfer.RetryPolicy{Attempts: j.x.opts.RetryMax + 1, Base: j.x.opts.RetryWaitMin},
		func(err error) bool {
			var be *bodyError
			return !errors.As(err, &be)
		}, fn)
}

// copy makes one copy of src (size -1: unknown) to the task's key; a
// failed one leaves no upload behind.
func (j *job) copy(ctx context.Context, cp *transfer.Copier, size int64, src *source) (Result, error) {
	o := &transfer.Object{Key: j.t.Key, Path: j.t.Key, Size: size, Sequential: !src.ranged,
		Open: func(context.Context) (fs.File, error) { return src, nil }, Whole: sha1.New()}
	info, _, err := cp.Copy(ctx, o)
	if err != nil {
		cp.Abort(ctx, o)
		return Result{}, err
	}
	return Result{OK: true, ETag: info.ETag, SHA1: hex.EncodeToString(o.Whole.Sum(nil)), Size: info.Size}, nil
}

// sinkAttempts is how often one sink call is tried.
const sinkAttempts = 4

// probe asks HEAD for the size and range support, and pins the version
// it describes. A HEAD the origin does not support (or that fails in a way
// a GET might not) gives size -1, and the first GET pins the version.
func (j *job) probe(ctx context.Context) (size int64, ranged bool, err error) {
	resp, err := j.request(ctx, http.MethodHead, "")
	if err != nil {
		return 0, false, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusGone,
		resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return 0, false, statusFailure(resp)
	case resp.StatusCode/100 != 2:
		return -1, false, nil
	}
	if err := j.pin.check(resp.Header, resp.ContentLength); err != nil {
		return 0, false, changed(err)
	}
	return resp.ContentLength, resp.ContentLength >= 0 && httporigin.AcceptsRanges(resp.Header), nil
}

// originError turns a transport error into the failure message.
func originError(err error) error {
	if errors.Is(err, ErrRefused) {
		return fail(err, "%v", err)
	}
	return fail(err, "download failed: %v", err)
}

// statusFailure describes an origin answer that is not the content.
func statusFailure(resp *http.Response) error {
	err := fmt.Errorf("source returned %s", resp.Status)
	return &failure{msg: err.Error(), err: err}
}

// partSize is the part size asked of a sink with limits l: ps within its
// minimum and maximum part size.
func partSize(ps int64, l fs.Limits) int64 {
	if l.MinPartSize > 0 && ps < l.MinPartSize {
		ps = l.MinPartSize
	}
	if l.MaxPartSize > 0 && ps > l.MaxPartSize {
		ps = l.MaxPartSize
	}
	return ps
}
