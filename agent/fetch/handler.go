package fetch

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// DefaultMaxBody is the default request body limit of POST /fetch/.
const DefaultMaxBody = 64 << 10

// maxKeyLen bounds an object key, as S3 and US3 do.
const maxKeyLen = 1024

// Store is the part of the master catalog the handler uses;
// *catalog.FetchQueue implements it, with group commit (concurrent POSTs
// share one transaction).
type Store interface {
	CreateFetchTask(ctx context.Context, t catalog.NewFetchTask, now time.Time, lim catalog.QueueLimits) (id string, dup bool, err error)
	FetchTask(ctx context.Context, id string) (catalog.FetchTask, error)
}

var _ Store = (*catalog.FetchQueue)(nil)

// HandlerOptions tune the handler; zero values take the defaults.
type HandlerOptions struct {
	// MaxBody is the largest accepted body (default DefaultMaxBody); a
	// larger one is refused with 413.
	MaxBody int64
	// MaxQueue bounds the unfinished tasks of all jobs (429 beyond; 0: no
	// global limit). Job.MaxQueue bounds each job's.
	MaxQueue int
	// OnQueued, when set, is called after a new task is committed (to wake
	// idle workers).
	OnQueued func()
	Logger   *slog.Logger
	Now      func() time.Time
	// NewID makes task IDs (default: random UUIDs).
	NewID func() string
	// MaxReplays bounds the signatures remembered for jobs that reject
	// replays (default DefaultMaxReplays); beyond it such requests are
	// refused with 429 until remembered ones expire.
	MaxReplays int
}

// NewHandler serves the fetch API on the full paths "/fetch/" (and
// "/fetch"): POST queues a task, GET /fetch/{TaskId} shows one, exactly as
// reference/fetch-api.md says. Every answer is JSON; a POST is answered
// {"RetCode":0,"ErrMsg":"success","TaskId":…} only after the task is
// committed to store. Refusals (nothing stored, no TaskId, never a key or a
// signature echoed):
//
//	401 RetBadAuth          Authorization missing or malformed
//	413 RetTooLarge         body over MaxBody
//	400 RetMalformed        body not a JSON object with string fields
//	400 RetBadField         Content-MD5 mismatch, Url not http(s), bad callback URL, Key too long
//	400 RetMissingField     Url, Bucket, Key or JobId missing (Content-MD5, for a job that rejects replays)
//	403 RetUnknownKey       no job has the public key
//	403 RetBadSignature     the signature matches none of the jobs that have the key
//	404 RetUnknownJob       the signature is valid for another job: JobId is not one of the key's
//	403 RetStaleDate        the job rejects replays; Date missing or off by more than ReplayWindow
//	403 RetReplayed         the job rejects replays; the signature was used before
//	403 RetBucketForbidden  the job does not allow Bucket
//	403 RetURLRefused       the URL policy refuses Url, or the callback policy a callback URL
//	                        (literal addresses and localhost names; names are checked when dialed)
//	429 RetQueueFull        the job's or the master's queue is full, or too many signatures to
//	                        remember (Retry-After: 1)
//	500 RetInternal         the catalog failed
//
// The signature is checked before anything about the job is revealed: the
// answer to a request not signed with a key of the job it names is the
// same whether the job (for GET, the task) exists or not (see authorize).
// Header timeouts are the server's business: the master must set
// http.Server ReadHeaderTimeout (e.g. 10s), ReadTimeout (e.g. 60s),
// IdleTimeout and MaxHeaderBytes (e.g. 64 KiB).
func NewHandler(store Store, jobs JobLookup, opts HandlerOptions) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = NewTaskID
	}
	if opts.MaxReplays <= 0 {
		opts.MaxReplays = DefaultMaxReplays
	}
	h := &handler{store: store, jobs: jobs, opts: opts, replays: newReplayCache(opts.MaxReplays)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fetch/{$}", h.post)
	mux.HandleFunc("POST /fetch", h.post)
	mux.HandleFunc("GET /fetch/{id}", h.get)
	mux.HandleFunc("/fetch/", h.other)
	mux.HandleFunc("/fetch", h.other)
	return mux
}

// NewTaskID returns a random (version 4) UUID.
func NewTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type handler struct {
	store   Store
	jobs    JobLookup
	opts    HandlerOptions
	replays *replayCache
}

// other answers paths and methods the API does not have.
func (h *handler) other(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/fetch" || r.URL.Path == "/fetch/" {
		w.Header().Set("Allow", "POST")
		refuse(w, http.StatusMethodNotAllowed, RetMethod, "method "+r.Method+" not allowed on /fetch/ (use POST)")
		return
	}
	if strings.Count(strings.TrimPrefix(r.URL.Path, "/fetch/"), "/") == 0 {
		w.Header().Set("Allow", "GET")
		refuse(w, http.StatusMethodNotAllowed, RetMethod, "method "+r.Method+" not allowed on /fetch/{TaskId} (use GET)")
		return
	}
	refuse(w, http.StatusNotFound, RetUnknownTask, "no such path: "+r.URL.Path)
}

// refuse is refusal for a refusal value.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, rf refusal) {
	h.refusal(w, r, rf.status, rf.code, rf.msg)
}

// refusal logs and answers one refused request.
func (h *handler) refusal(w http.ResponseWriter, r *http.Request, status, code int, msg string) {
	h.opts.Logger.Info("fetch request refused", "method", r.Method, "remote", r.RemoteAddr,
		"status", status, "code", code, "reason", msg)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	refuse(w, status, code, msg)
}

// post queues one task.
func (h *handler) post(w http.ResponseWriter, r *http.Request) {
	pub, sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		h.refusal(w, r, http.StatusUnauthorized, RetBadAuth, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.refusal(w, r, http.StatusRequestEntityTooLarge, RetTooLarge,
				fmt.Sprintf("request body larger than %d bytes", h.opts.MaxBody))
			return
		}
		h.refusal(w, r, http.StatusBadRequest, RetMalformed, "read request body: "+err.Error())
		return
	}
	if cm := r.Header.Get("Content-MD5"); cm != "" && !md5Matches(cm, body) {
		h.refusal(w, r, http.StatusBadRequest, RetBadField, "Content-MD5 does not match the body")
		return
	}
	req, rf := parseRequest(body)
	if rf.status != 0 {
		h.refuse(w, r, rf)
		return
	}
	missing := refusal{http.StatusNotFound, RetUnknownJob, fmt.Sprintf("unknown JobId %q (no fetch job of this key)", req.JobID)}
	job, ok := h.authorize(w, r, req.JobID, pub, sig, missing)
	if !ok {
		return
	}
	if rf := h.checkFresh(r, job, pub, sig, true); rf.status != 0 {
		h.refuse(w, r, rf)
		return
	}
	if rf := validate(req, job); rf.status != 0 {
		h.refuse(w, r, rf)
		return
	}
	h.queue(w, r, req, job)
}

// authorize returns the job jobID when r is signed with one of its keys.
// Otherwise it answers, and the answer depends only on the public key and
// the signature, never on whether jobID exists: 403 RetUnknownKey when no
// job has the key, 403 RetBadSignature when the signature matches none of
// the jobs that have it, and missing (a 404) when it matches one of them —
// a caller signing for another job learns nothing of jobID either.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request, jobID, pub, sig string, missing refusal) (Job, bool) {
	exists := false
	if jobID != "" {
		job, err := h.jobs.FetchJob(r.Context(), jobID)
		switch {
		case err == nil:
			if priv, ok := job.Key(pub); ok && Verify(r, priv, sig) {
				return job, true
			}
			exists = true
		case !errors.Is(err, ErrUnknownJob):
			h.opts.Logger.Error("look up fetch job", "job", jobID, "err", err)
			h.refusal(w, r, http.StatusInternalServerError, RetInternal, "look up job: internal error")
			return Job{}, false
		}
	}
	h.opts.Logger.Info("fetch request not authorized for its job", "job", jobID, "job_exists", exists, "key", pub)
	h.refuse(w, r, h.unauthorized(r, pub, sig, missing))
	return Job{}, false
}

// unauthorized is the refusal of a request not signed with a key of the job
// it names (see authorize). Without a KeyIndex every such request is a bad
// signature.
func (h *handler) unauthorized(r *http.Request, pub, sig string, missing refusal) refusal {
	badSig := refusal{http.StatusForbidden, RetBadSignature,
		"signature does not match (HMAC-SHA1 of method, Content-MD5, Content-Type and Date)"}
	idx, ok := h.jobs.(KeyIndex)
	if !ok {
		return badSig
	}
	jobs, err := idx.JobsWithKey(r.Context(), pub)
	if err != nil {
		h.opts.Logger.Error("find fetch jobs of a key", "err", err)
		return refusal{http.StatusInternalServerError, RetInternal, "look up key: internal error"}
	}
	if len(jobs) == 0 {
		return refusal{http.StatusForbidden, RetUnknownKey, "unknown public key"}
	}
	for _, j := range jobs {
		if priv, ok := j.Key(pub); ok && Verify(r, priv, sig) {
			return missing
		}
	}
	return badSig
}

// queue stores the task and answers its ID.
func (h *handler) queue(w http.ResponseWriter, r *http.Request, req Request, job Job) {
	id, dup, err := h.store.CreateFetchTask(r.Context(), catalog.NewFetchTask{
		ID: h.opts.NewID(), JobID: job.ID, URL: req.URL, Bucket: req.Bucket, Key: req.Key,
		SuccessCallback: req.SuccessCallbackURL, FailureCallback: req.FailureCallbackURL,
	}, h.opts.Now(), catalog.QueueLimits{PerJob: job.MaxQueue, Total: h.opts.MaxQueue})
	switch {
	case errors.Is(err, catalog.ErrQueueFull):
		h.refusal(w, r, http.StatusTooManyRequests, RetQueueFull, "fetch queue is full; retry later")
		return
	case err != nil:
		h.opts.Logger.Error("store fetch task", "job", job.ID, "err", err)
		h.refusal(w, r, http.StatusInternalServerError, RetInternal, "store task: internal error")
		return
	}
	if !dup && h.opts.OnQueued != nil {
		h.opts.OnQueued()
	}
	h.opts.Logger.Debug("fetch task queued", "task", id, "job", job.ID, "bucket", req.Bucket, "key", req.Key, "duplicate", dup)
	writeJSON(w, http.StatusOK, Response{RetCode: RetOK, ErrMsg: "success", TaskID: id})
}

// md5Matches reports whether cm (base64 or hex) is the MD5 of body.
func md5Matches(cm string, body []byte) bool {
	sum := md5.Sum(body)
	return cm == base64.StdEncoding.EncodeToString(sum[:]) || strings.EqualFold(cm, hex.EncodeToString(sum[:]))
}
