package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// JobType is a kind of job that the master serves under /api/v1/jobs
// beside its own migrate jobs: GET /api/v1/jobs lists its jobs, and
// GET, DELETE and the actions of /api/v1/jobs/{id} reach it for the IDs it
// owns. The fetch service (agent/fetch) is one; each type adds its own
// section to JobView.
//
// IDs never collide between types: each type owns the IDs of its own form
// (a prefix such as "fetch-"), the master's migrate jobs own "job-", and
// an ID no type owns is looked up among the migrate jobs.
type JobType interface {
	// Type is the type's name, as JobView.Type shows it ("fetch").
	Type() string
	// Owns reports whether id has this type's form; the job need not exist.
	Owns(id string) bool
	// Jobs lists every job of this type, oldest first.
	Jobs(ctx context.Context) ([]JobView, error)
	// Job returns one job in full; an unknown ID wraps ErrUnknownJob.
	Job(ctx context.Context, id string) (JobView, error)
	// Act runs an action on a job: "delete", "pause", "resume" or
	// "cancel", and returns the job's view afterwards (the zero view after
	// "delete"). An action the type does not take wraps ErrUnsupported; an
	// unknown ID wraps ErrUnknownJob.
	Act(ctx context.Context, id, action string) (JobView, error)
}

// Errors of a JobType, answered 404 and 400.
var (
	ErrUnknownJob  = errors.New("unknown job")
	ErrUnsupported = errors.New("not supported by this job type")
)

// Mount adds routes to the master's API (a service such as fetch, or the
// console): admin and cluster put a handler behind that role's token
// check; routes it registers unwrapped do their own authentication. The
// master answers every failure of a mounted route as JSON, like its own.
type Mount func(mux *http.ServeMux, admin, cluster func(http.Handler) http.Handler)

// checkJobTypes refuses types without a name, named as another or as the
// master's migrate jobs, or owning the master's own job IDs.
func checkJobTypes(types []JobType) error {
	seen := map[string]bool{TypeMigrate: true}
	for _, t := range types {
		name := t.Type()
		if name == "" || seen[name] {
			return fmt.Errorf("job type %q: empty or given twice (%q is the master's own)", name, TypeMigrate)
		}
		seen[name] = true
		if t.Owns(newID("job-")) {
			return fmt.Errorf("job type %q claims the IDs of migrate jobs (job-…)", name)
		}
	}
	return nil
}

// mount registers the mounted routes, turning a route ServeMux refuses
// (a pattern that conflicts with another) into an error.
func (m *Master) mount(mux *http.ServeMux, i int, mt Mount) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mount %d: %v", i, p)
		}
	}()
	wrap := func(role func(apiHandler) http.Handler) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler {
			return role(func(w http.ResponseWriter, r *http.Request) error { h.ServeHTTP(w, r); return nil })
		}
	}
	mt(mux, wrap(m.admin), wrap(m.cluster))
	return nil
}

// typeOf returns the JobType that owns id, or nil for the master's own
// migrate jobs.
func (m *Master) typeOf(id string) JobType {
	for _, t := range m.cfg.JobTypes {
		if t.Owns(id) {
			return t
		}
	}
	return nil
}

// listJobs handles GET /api/v1/jobs: the jobs of every type, oldest first.
func (m *Master) listJobs(w http.ResponseWriter, r *http.Request) error {
	out, err := m.migrateJobs(r.Context())
	if err != nil {
		return err
	}
	for _, t := range m.cfg.JobTypes {
		jobs, err := t.Jobs(r.Context())
		if err != nil {
			return fmt.Errorf("list %s jobs: %w", t.Type(), err)
		}
		out = append(out, jobs...)
	}
	slices.SortStableFunc(out, func(a, b JobView) int { return cmp.Compare(a.CreatedAt.UnixNano(), b.CreatedAt.UnixNano()) })
	writeJSON(w, http.StatusOK, out)
	return nil
}

// byType routes a request about the job {id} to the type that owns the ID,
// and to h (the migrate handler) when none does. action is what h does:
// "show", "delete", "pause", "resume", "cancel", "retry-failed", "failed"
// or "report".
func (m *Master) byType(action string, h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		t := m.typeOf(id)
		if t == nil {
			return h(w, r)
		}
		var v JobView
		var err error
		switch action {
		case "show":
			v, err = t.Job(r.Context(), id)
		case "delete", "pause", "resume", "cancel":
			v, err = t.Act(r.Context(), id, action)
		default:
			err = ErrUnsupported
		}
		switch {
		case errors.Is(err, ErrUnknownJob):
			return errStatus(http.StatusNotFound, "unknown job %q", id)
		case errors.Is(err, ErrUnsupported):
			return errStatus(http.StatusBadRequest, "job %s is a %s job: %s is not supported for %s jobs", id, t.Type(), action, t.Type())
		case err != nil:
			return err
		case action == "delete":
			m.log.Info("job deleted", "job", id, "type", t.Type())
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
		default:
			writeJSON(w, http.StatusOK, v)
		}
		return nil
	}
}
