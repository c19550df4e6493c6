package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

// Paths of the agent API (cluster token), relative to the master's root.
const (
	PathLease  = "/api/v1/fetch/lease"
	pathRenew  = "/api/v1/fetch/tasks/{id}/renew"
	pathFinish = "/api/v1/fetch/tasks/{id}/finish"
)

// LeaseStore is the part of the master catalog the agent API uses;
// *catalog.FetchQueue implements it.
type LeaseStore interface {
	LeaseFetchTasks(ctx context.Context, agent string, n int, now time.Time, ttl time.Duration) ([]catalog.FetchTask, error)
	RenewFetchLease(ctx context.Context, id, agent string, now time.Time, ttl time.Duration) error
	FinishFetchTask(ctx context.Context, id, agent string, o catalog.FetchOutcome, now time.Time) error
}

var _ LeaseStore = (*catalog.FetchQueue)(nil)

// LeaseRequest is the body of POST /api/v1/fetch/lease.
type LeaseRequest struct {
	Agent string `json:"agent"`
	Max   int    `json:"max"` // tasks wanted (1..100)
}

// LeasedTask is one task handed to an agent, with what it needs to run
// it. It carries the job's destination credentials.
type LeasedTask struct {
	ID               string            `json:"id"`
	JobID            string            `json:"job_id"`
	URL              string            `json:"url"`
	Bucket           string            `json:"bucket"`
	Key              string            `json:"key"`
	Dest             string            `json:"dest"` // the sink location (Job.SinkURI)
	Credentials      map[string]string `json:"credentials,omitempty"`
	Concurrency      int               `json:"concurrency,omitempty"`
	AllowPrivateURLs bool              `json:"allow_private_urls,omitempty"`
	Attempt          int               `json:"attempt"`
}

// LeaseReply answers a lease request; Tasks is empty when there is no work.
type LeaseReply struct {
	Tasks      []LeasedTask `json:"tasks"`
	TTLSeconds float64      `json:"ttl_seconds"`
}

// AgentRequest is the body of renew and finish.
type AgentRequest struct {
	Agent string `json:"agent"`
	// Outcome, for finish.
	OK    bool   `json:"ok,omitempty"`
	ETag  string `json:"etag,omitempty"`
	SHA1  string `json:"sha1,omitempty"`
	Size  int64  `json:"size,omitempty"`
	Error string `json:"error,omitempty"`
	Retry bool   `json:"retry,omitempty"`
}

// AgentAPIOptions tune the agent API.
type AgentAPIOptions struct {
	// TTL is a lease's lifetime without renewal (default 30s).
	TTL time.Duration
	// OnFinish is called after a task reaches a final state (to wake the
	// callback dispatcher).
	OnFinish func()
	Logger   *slog.Logger
	Now      func() time.Time
}

// NewAgentAPI serves the agents' side of fetch tasks on full paths under
// /api/v1/fetch/; the master must put its cluster-token check in front:
//
//	POST /api/v1/fetch/lease              LeaseRequest → LeaseReply
//	POST /api/v1/fetch/tasks/{id}/renew   AgentRequest → 200 {} (marks it running, extends the lease)
//	POST /api/v1/fetch/tasks/{id}/finish  AgentRequest with the outcome → 200 {}
//
// Renew and finish answer 409 when the agent lost the lease, 404 for an
// unknown task. Errors are {"error": "...", "code": "..."} (agent.APIError).
func NewAgentAPI(store LeaseStore, jobs JobLookup, opts AgentAPIOptions) http.Handler {
	if opts.TTL <= 0 {
		opts.TTL = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &agentAPI{store: store, jobs: jobs, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathLease, a.lease)
	mux.HandleFunc("POST "+pathRenew, a.renew)
	mux.HandleFunc("POST "+pathFinish, a.finish)
	return mux
}

type agentAPI struct {
	store LeaseStore
	jobs  JobLookup
	opts  AgentAPIOptions
}

// apiError answers {"error": msg, "code": …}, as the master's own API
// does (agent.ErrorCode).
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": agent.ErrorCode(status)})
}

// decode reads a small JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}

func (a *agentAPI) lease(w http.ResponseWriter, r *http.Request) {
	var req LeaseRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Agent == "" || req.Max < 1 || req.Max > 100 {
		apiError(w, http.StatusBadRequest, "lease needs an agent name and max in 1..100")
		return
	}
	ctx := r.Context()
	tasks, err := a.store.LeaseFetchTasks(ctx, req.Agent, req.Max, a.opts.Now(), a.opts.TTL)
	if err != nil {
		a.opts.Logger.Error("lease fetch tasks", "agent", req.Agent, "err", err)
		apiError(w, http.StatusInternalServerError, "lease fetch tasks: internal error")
		return
	}
	reply := LeaseReply{Tasks: []LeasedTask{}, TTLSeconds: a.opts.TTL.Seconds()}
	for _, t := range tasks {
		lt, err := a.leased(ctx, t)
		if err != nil {
			// The job vanished or its destination is unusable: the task
			// cannot run anywhere.
			a.opts.Logger.Info("fetch task cannot run", "task", t.ID, "job", t.JobID, "err", err)
			if err := a.store.FinishFetchTask(ctx, t.ID, req.Agent, catalog.FetchOutcome{Error: err.Error()}, a.opts.Now()); err != nil {
				a.opts.Logger.Error("fail fetch task", "task", t.ID, "err", err)
			} else if a.opts.OnFinish != nil {
				a.opts.OnFinish()
			}
			continue
		}
		reply.Tasks = append(reply.Tasks, lt)
	}
	writeJSON(w, http.StatusOK, reply)
}

// leased completes a task with its job's settings.
func (a *agentAPI) leased(ctx context.Context, t catalog.FetchTask) (LeasedTask, error) {
	job, err := a.jobs.FetchJob(ctx, t.JobID)
	if err != nil {
		return LeasedTask{}, fmt.Errorf("fetch job %s: %w", t.JobID, err)
	}
	dest, err := job.SinkURI(t.Bucket)
	if err != nil {
		return LeasedTask{}, err
	}
	return LeasedTask{
		ID: t.ID, JobID: t.JobID, URL: t.URL, Bucket: t.Bucket, Key: t.Key, Dest: dest,
		Credentials: job.Creds, Concurrency: job.Concurrency, AllowPrivateURLs: job.AllowPrivateURLs,
		Attempt: t.Attempts,
	}, nil
}

func (a *agentAPI) renew(w http.ResponseWriter, r *http.Request) {
	var req AgentRequest
	if !decode(w, r, &req) {
		return
	}
	err := a.store.RenewFetchLease(r.Context(), r.PathValue("id"), req.Agent, a.opts.Now(), a.opts.TTL)
	a.answer(w, r, err)
}

func (a *agentAPI) finish(w http.ResponseWriter, r *http.Request) {
	var req AgentRequest
	if !decode(w, r, &req) {
		return
	}
	err := a.store.FinishFetchTask(r.Context(), r.PathValue("id"), req.Agent, catalog.FetchOutcome{
		OK: req.OK, ETag: req.ETag, SHA1: req.SHA1, Size: req.Size, Error: req.Error, Retry: req.Retry,
	}, a.opts.Now())
	if err == nil && a.opts.OnFinish != nil {
		a.opts.OnFinish()
	}
	a.answer(w, r, err)
}

// answer maps a store error to the agent API's statuses.
func (a *agentAPI) answer(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, struct{}{})
	case errors.Is(err, catalog.ErrFetchLeaseLost):
		apiError(w, http.StatusConflict, err.Error())
	case errors.Is(err, catalog.ErrFetchNotFound):
		apiError(w, http.StatusNotFound, err.Error())
	default:
		a.opts.Logger.Error("fetch agent request", "path", r.URL.Path, "err", err)
		apiError(w, http.StatusInternalServerError, "internal error")
	}
}
