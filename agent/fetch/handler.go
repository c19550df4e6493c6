package fetch

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// DefaultMaxBody is the default request body limit of POST /fetch/.
const DefaultMaxBody = 64 << 10

// maxKeyLen bounds an object key, as S3 and US3 do.
const maxKeyLen = 1024

// Store is the part of the master catalog the handler uses; *catalog.DB
// implements it, and *catalog.FetchQueue with group commit (concurrent
// POSTs share one transaction).
type Store interface {
	CreateFetchTask(ctx context.Context, t catalog.NewFetchTask, now time.Time, lim catalog.QueueLimits) (id string, dup bool, err error)
	FetchTask(ctx context.Context, id string) (catalog.FetchTask, error)
}

var (
	_ Store = (*catalog.DB)(nil)
	_ Store = (*catalog.FetchQueue)(nil)
)

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
//	400 RetMissingField     Url, Bucket, Key or JobId missing
//	404 RetUnknownJob       no fetch job has JobId
//	403 RetUnknownKey       the public key may not sign for the job
//	403 RetBadSignature     the signature does not match
//	403 RetBucketForbidden  the job does not allow Bucket
//	403 RetURLRefused       the URL policy refuses a literal address (names are checked when dialed)
//	429 RetQueueFull        the job's or the master's queue is full (Retry-After: 1)
//	500 RetInternal         the catalog failed
//
// The job is looked up before the signature is checked because the keys
// belong to the job. Header timeouts are the server's business: the master
// must set http.Server ReadHeaderTimeout (e.g. 10s), ReadTimeout (e.g.
// 60s), IdleTimeout and MaxHeaderBytes (e.g. 64 KiB).
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
	h := &handler{store: store, jobs: jobs, opts: opts}
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
	store Store
	jobs  JobLookup
	opts  HandlerOptions
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
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		h.refusal(w, r, http.StatusBadRequest, RetMalformed, "malformed JSON: "+err.Error())
		return
	}
	if missing := missingFields(req); missing != "" {
		h.refusal(w, r, http.StatusBadRequest, RetMissingField, "missing field(s): "+missing)
		return
	}
	job, ok := h.authorize(w, r, req.JobID, pub, sig)
	if !ok {
		return
	}
	if status, code, msg := validate(req, job); status != 0 {
		h.refusal(w, r, status, code, msg)
		return
	}
	h.queue(w, r, req, job)
}

// authorize finds the job and checks the signature against its keys.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request, jobID, pub, sig string) (Job, bool) {
	job, err := h.jobs.FetchJob(r.Context(), jobID)
	switch {
	case errors.Is(err, ErrUnknownJob):
		h.refusal(w, r, http.StatusNotFound, RetUnknownJob, fmt.Sprintf("unknown JobId %q (no such fetch job)", jobID))
		return Job{}, false
	case err != nil:
		h.opts.Logger.Error("look up fetch job", "job", jobID, "err", err)
		h.refusal(w, r, http.StatusInternalServerError, RetInternal, "look up job: internal error")
		return Job{}, false
	}
	priv, ok := job.Key(pub)
	if !ok {
		h.refusal(w, r, http.StatusForbidden, RetUnknownKey, "unknown public key for this job")
		return Job{}, false
	}
	if !Verify(r, priv, sig) {
		h.refusal(w, r, http.StatusForbidden, RetBadSignature, "signature does not match (HMAC-SHA1 of method, Content-MD5, Content-Type and Date)")
		return Job{}, false
	}
	return job, true
}

// missingFields lists the required fields that are empty.
func missingFields(req Request) string {
	var m []string
	for _, f := range []struct{ name, v string }{{"Url", req.URL}, {"Bucket", req.Bucket}, {"Key", req.Key}, {"JobId", req.JobID}} {
		if strings.TrimSpace(f.v) == "" {
			m = append(m, f.name)
		}
	}
	return strings.Join(m, ", ")
}

// validate checks the fields against the job; status 0 means valid.
func validate(req Request, job Job) (status, code int, msg string) {
	if len(req.Key) > maxKeyLen {
		return http.StatusBadRequest, RetBadField, fmt.Sprintf("Key longer than %d bytes", maxKeyLen)
	}
	if !job.BucketAllowed(req.Bucket) {
		return http.StatusForbidden, RetBucketForbidden, fmt.Sprintf("bucket %q is not allowed for this job", req.Bucket)
	}
	if _, err := (Policy{AllowPrivate: job.AllowPrivateURLs}).CheckURL(req.URL); err != nil {
		if errors.Is(err, ErrRefused) {
			return http.StatusForbidden, RetURLRefused, err.Error()
		}
		return http.StatusBadRequest, RetBadField, err.Error()
	}
	for _, cb := range []struct{ name, v string }{{"SuccessCallbackUrl", req.SuccessCallbackURL}, {"FailureCallbackUrl", req.FailureCallbackURL}} {
		if cb.v == "" {
			continue
		}
		u, err := url.Parse(cb.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return http.StatusBadRequest, RetBadField, cb.name + " must be an absolute http(s) URL"
		}
	}
	return 0, 0, ""
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
