package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

// The job API is also the master's fetch JobType: GET /api/v1/jobs lists
// fetch jobs beside migrate jobs, and /api/v1/jobs/{id} shows and deletes
// them.
var _ agent.JobType = (*jobAPI)(nil)

// idPrefix starts every fetch job ID (newJobID); migrate jobs start "job-".
const idPrefix = "fetch-"

// Type is agent.TypeFetch.
func (a *jobAPI) Type() string { return agent.TypeFetch }

// Owns reports whether id has the form of a fetch job ID.
func (a *jobAPI) Owns(id string) bool { return strings.HasPrefix(id, idPrefix) }

// Jobs lists the fetch jobs, oldest first.
func (a *jobAPI) Jobs(ctx context.Context) ([]agent.JobView, error) {
	jobs, err := a.db.FetchJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fetch jobs: %w", err)
	}
	out := make([]agent.JobView, 0, len(jobs))
	for _, j := range jobs {
		v, err := a.jobView(ctx, j)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Job returns one fetch job; an unknown ID wraps agent.ErrUnknownJob.
func (a *jobAPI) Job(ctx context.Context, id string) (agent.JobView, error) {
	j, err := a.db.FetchJob(ctx, id)
	if errors.Is(err, catalog.ErrJobNotFound) {
		return agent.JobView{}, fmt.Errorf("fetch job %q: %w", id, agent.ErrUnknownJob)
	}
	if err != nil {
		return agent.JobView{}, fmt.Errorf("read fetch job: %w", err)
	}
	return a.jobView(ctx, j)
}

// Act deletes a fetch job (its unfinished tasks fail, and their failure
// callbacks are sent); a fetch job takes no other action: it has no runs
// to pause, resume or cancel.
func (a *jobAPI) Act(ctx context.Context, id, action string) (agent.JobView, error) {
	if action != "delete" {
		return agent.JobView{}, fmt.Errorf("%s a fetch job: %w", action, agent.ErrUnsupported)
	}
	err := a.db.DeleteFetchJob(ctx, id, a.opts.Now())
	if errors.Is(err, catalog.ErrJobNotFound) {
		return agent.JobView{}, fmt.Errorf("fetch job %q: %w", id, agent.ErrUnknownJob)
	}
	if err != nil {
		return agent.JobView{}, fmt.Errorf("delete fetch job: %w", err)
	}
	return agent.JobView{}, nil
}

// jobView is a fetch job as the master's one JobView: running while any
// task is pending, leased or running, idle otherwise; its objects are its
// finished tasks (copied: done, failed: failed); the fetch section holds
// the rest.
func (a *jobAPI) jobView(ctx context.Context, j catalog.FetchJob) (agent.JobView, error) {
	fv, err := a.view(ctx, j)
	if err != nil {
		return agent.JobView{}, fmt.Errorf("read fetch job %s: %w", j.ID, err)
	}
	v := agent.JobView{ID: fv.ID, Type: agent.TypeFetch, Dest: fv.Dest, State: "idle", CreatedAt: fv.CreatedAt.UTC(),
		Copied: int64(fv.Tasks[string(catalog.FetchDone)]), Failed: int64(fv.Tasks[string(catalog.FetchFailed)])}
	v.Objects = v.Copied + v.Failed
	for s, n := range fv.Tasks {
		if n > 0 && catalog.FetchState(s).Open() {
			v.State = "running"
		}
	}
	v.Fetch = &fv.FetchView
	return v, nil
}
