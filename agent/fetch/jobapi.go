package fetch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Paths of the fetch job API (admin token).
const (
	PathJobs = "/api/v1/fetch/jobs"
	pathJob  = "/api/v1/fetch/jobs/{id}"
)

// CatalogJobs is the JobLookup over the fetch jobs of a master catalog.
type CatalogJobs struct{ DB *catalog.FetchQueue }

var (
	_ JobLookup = CatalogJobs{}
	_ KeyIndex  = CatalogJobs{}
)

// FetchJob returns the job; an unknown ID wraps ErrUnknownJob.
func (c CatalogJobs) FetchJob(ctx context.Context, id string) (Job, error) {
	j, err := c.DB.FetchJob(ctx, id)
	if errors.Is(err, catalog.ErrJobNotFound) {
		return Job{}, fmt.Errorf("fetch job %q: %w", id, ErrUnknownJob)
	}
	if err != nil {
		return Job{}, err
	}
	return jobOf(j), nil
}

// JobsWithKey returns the jobs that have the public key. It reads every
// fetch job: the handler calls it only for requests it refuses.
func (c CatalogJobs) JobsWithKey(ctx context.Context, public string) ([]Job, error) {
	all, err := c.DB.FetchJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("find jobs with a key: %w", err)
	}
	var out []Job
	for _, fj := range all {
		for _, k := range fj.Keys {
			if k.Public == public {
				out = append(out, jobOf(fj))
				break
			}
		}
	}
	return out, nil
}

// jobOf converts the stored form.
func jobOf(j catalog.FetchJob) Job {
	keys := make([]KeyPair, len(j.Keys))
	for i, k := range j.Keys {
		keys[i] = KeyPair{Public: k.Public, Private: k.Private}
	}
	return Job{ID: j.ID, Dest: j.Dest, Creds: j.Creds, AllowedBuckets: j.AllowedBuckets, Keys: keys,
		Concurrency: j.Concurrency, AllowPrivateURLs: j.AllowPrivateURLs, MaxQueue: j.MaxQueue,
		AllowPrivateCallbacks: j.AllowPrivateCallbacks, RejectReplays: j.RejectReplays}
}

// JobSpec is the body of POST /api/v1/fetch/jobs.
type JobSpec struct {
	Dest string `json:"dest"`
	// Credentials are environment variables (US3_*, AWS_*, FERRY_DST_*)
	// that open Dest; they are sent only to agents.
	Credentials      map[string]string `json:"credentials,omitempty"`
	AllowedBuckets   []string          `json:"allowed_buckets,omitempty"`
	Keys             []JobKey          `json:"keys"`
	Concurrency      int               `json:"concurrency,omitempty"`
	AllowPrivateURLs bool              `json:"allow_private_urls,omitempty"`
	MaxQueue         int               `json:"max_queue,omitempty"`
	// AllowPrivateCallbacks and RejectReplays: see Job.
	AllowPrivateCallbacks bool `json:"allow_private_callbacks,omitempty"`
	RejectReplays         bool `json:"reject_replays,omitempty"`
}

// JobKey is a key pair in a JobSpec.
type JobKey struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// JobView is a fetch job as the routes /api/v1/fetch/jobs[/{id}] show it
// (public keys and credential names only): the fields of the fetch section
// of the master's one agent.JobView, beside id, type, dest and created_at.
// GET /api/v1/jobs[/{id}] shows the same job as an agent.JobView.
type JobView struct {
	ID   string `json:"id"`
	Type string `json:"type"` // "fetch"
	Dest string `json:"dest"`
	agent.FetchView
	CreatedAt time.Time `json:"created_at"`
}

// JobAPIOptions tune the job API.
type JobAPIOptions struct {
	// Check, when set, opens the new job's destination with its
	// credentials; a failure refuses the job (422).
	Check  func(ctx context.Context, j Job) error
	Logger *slog.Logger
	Now    func() time.Time
}

// NewJobAPI serves fetch jobs on full paths; the master must put its
// admin-token check in front:
//
//	POST   /api/v1/fetch/jobs       JobSpec → 201 JobView
//	GET    /api/v1/fetch/jobs       → [JobView]
//	GET    /api/v1/fetch/jobs/{id}  → JobView
//	DELETE /api/v1/fetch/jobs/{id}  → 204 (unfinished tasks fail)
func NewJobAPI(db *catalog.FetchQueue, opts JobAPIOptions) http.Handler {
	return newJobAPI(db, opts).handler()
}

// newJobAPI is the job API over db; it is also the master's fetch JobType.
func newJobAPI(db *catalog.FetchQueue, opts JobAPIOptions) *jobAPI {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &jobAPI{db: db, opts: opts}
}

// handler serves the job API's routes.
func (a *jobAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathJobs, a.create)
	mux.HandleFunc("GET "+PathJobs, a.list)
	mux.HandleFunc("GET "+pathJob, a.show)
	mux.HandleFunc("DELETE "+pathJob, a.remove)
	return mux
}

type jobAPI struct {
	db   *catalog.FetchQueue
	opts JobAPIOptions
}

// credentialPrefixes are the variables a job may carry.
var credentialPrefixes = []string{"US3_", "AWS_", "FERRY_DST_", "FERRY_SRC_"}

// validateSpec checks a spec without I/O.
func validateSpec(s JobSpec) error {
	u, err := fs.ParseURI(s.Dest)
	if err != nil {
		return fmt.Errorf("dest: %w", err)
	}
	if u.Scheme == "urllist" {
		return errors.New("dest: a URL list cannot be written to")
	}
	if u.Bucket == "" && len(s.AllowedBuckets) == 0 {
		return errors.New("a local destination needs allowed_buckets (each becomes a directory in it)")
	}
	if len(s.Keys) == 0 {
		return errors.New("a fetch job needs at least one key pair")
	}
	seen := map[string]bool{}
	for _, k := range s.Keys {
		if k.Public == "" || k.Private == "" || strings.ContainsAny(k.Public, " \t") {
			return errors.New("every key pair needs a public key (no spaces) and a private key")
		}
		if seen[k.Public] {
			return fmt.Errorf("public key %q given twice", k.Public)
		}
		seen[k.Public] = true
	}
	probe := Job{}
	for _, b := range s.AllowedBuckets {
		if !probe.bucketName(b) {
			return fmt.Errorf("allowed bucket %q is not a valid bucket name", b)
		}
	}
	for k := range s.Credentials {
		ok := false
		for _, p := range credentialPrefixes {
			ok = ok || (strings.HasPrefix(k, p) && len(k) > len(p))
		}
		if !ok {
			return fmt.Errorf("credentials: %q is not a US3_*, AWS_*, FERRY_DST_* or FERRY_SRC_* variable", k)
		}
	}
	if s.Concurrency < 0 || s.Concurrency > 256 || s.MaxQueue < 0 {
		return errors.New("concurrency must be 0..256 and max_queue not negative")
	}
	return nil
}

func (a *jobAPI) create(w http.ResponseWriter, r *http.Request) {
	var spec JobSpec
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		apiError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if err := validateSpec(spec); err != nil {
		apiError(w, http.StatusBadRequest, "invalid fetch job: "+err.Error())
		return
	}
	fj := catalog.FetchJob{ID: newJobID(), Dest: spec.Dest, Creds: spec.Credentials, AllowedBuckets: spec.AllowedBuckets,
		Concurrency: spec.Concurrency, AllowPrivateURLs: spec.AllowPrivateURLs, MaxQueue: spec.MaxQueue,
		AllowPrivateCallbacks: spec.AllowPrivateCallbacks, RejectReplays: spec.RejectReplays}
	for _, k := range spec.Keys {
		fj.Keys = append(fj.Keys, catalog.FetchKey{Public: k.Public, Private: k.Private})
	}
	if a.opts.Check != nil {
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		if err := a.opts.Check(ctx, jobOf(fj)); err != nil {
			apiError(w, http.StatusUnprocessableEntity, fmt.Sprintf("cannot open destination %s: %v", spec.Dest, err))
			return
		}
	}
	now := a.opts.Now()
	if err := a.db.CreateFetchJob(r.Context(), fj, now); err != nil {
		a.opts.Logger.Error("create fetch job", "err", err)
		apiError(w, http.StatusInternalServerError, "create fetch job: internal error")
		return
	}
	fj.CreatedAt = now
	a.opts.Logger.Info("fetch job created", "job", fj.ID, "dest", fj.Dest)
	v, err := a.view(r.Context(), fj)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "read fetch job: internal error")
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (a *jobAPI) list(w http.ResponseWriter, r *http.Request) {
	jobs, err := a.db.FetchJobs(r.Context())
	if err != nil {
		a.opts.Logger.Error("list fetch jobs", "err", err)
		apiError(w, http.StatusInternalServerError, "list fetch jobs: internal error")
		return
	}
	out := []JobView{}
	for _, j := range jobs {
		v, err := a.view(r.Context(), j)
		if err != nil {
			apiError(w, http.StatusInternalServerError, "list fetch jobs: internal error")
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *jobAPI) show(w http.ResponseWriter, r *http.Request) {
	j, err := a.db.FetchJob(r.Context(), r.PathValue("id"))
	if errors.Is(err, catalog.ErrJobNotFound) {
		apiError(w, http.StatusNotFound, "no fetch job "+r.PathValue("id"))
		return
	}
	var v JobView
	if err == nil {
		v, err = a.view(r.Context(), j)
	}
	if err != nil {
		a.opts.Logger.Error("show fetch job", "err", err)
		apiError(w, http.StatusInternalServerError, "read fetch job: internal error")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *jobAPI) remove(w http.ResponseWriter, r *http.Request) {
	err := a.db.DeleteFetchJob(r.Context(), r.PathValue("id"), a.opts.Now())
	switch {
	case errors.Is(err, catalog.ErrJobNotFound):
		apiError(w, http.StatusNotFound, "no fetch job "+r.PathValue("id"))
	case err != nil:
		a.opts.Logger.Error("delete fetch job", "err", err)
		apiError(w, http.StatusInternalServerError, "delete fetch job: internal error")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// view renders a job without secrets, with its task counts.
func (a *jobAPI) view(ctx context.Context, j catalog.FetchJob) (JobView, error) {
	v := JobView{ID: j.ID, Type: agent.TypeFetch, Dest: j.Dest, CreatedAt: j.CreatedAt, FetchView: agent.FetchView{
		AllowedBuckets: nonNil(j.AllowedBuckets), PublicKeys: []string{},
		Concurrency: j.Concurrency, AllowPrivateURLs: j.AllowPrivateURLs, MaxQueue: j.MaxQueue,
		AllowPrivateCallbacks: j.AllowPrivateCallbacks, RejectReplays: j.RejectReplays,
		Tasks: map[string]int{}, Callbacks: map[string]int{}}}
	for _, k := range j.Keys {
		v.PublicKeys = append(v.PublicKeys, k.Public)
	}
	for k := range j.Creds {
		v.CredentialNames = append(v.CredentialNames, k)
	}
	tasks, cbs, err := a.db.FetchCounts(ctx, j.ID)
	if err != nil {
		return JobView{}, err
	}
	for s, n := range tasks {
		v.Tasks[string(s)] = n
	}
	for s, n := range cbs {
		v.Callbacks[string(s)] = n
	}
	return v, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newJobID returns "fetch-" and 16 random hex digits.
func newJobID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "fetch-" + hex.EncodeToString(b[:])
}
