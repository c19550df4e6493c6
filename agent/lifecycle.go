package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// IdleHorizon is how far ahead a scheduled job counts as work: an agent
// run with ExitWhenIdle keeps waiting for a run due within it.
const IdleHorizon = time.Minute

// WorkView answers GET /api/v1/work (cluster token): whether the master
// has work for agents now or soon. Idle is true when no migrate job is
// pending or running (paused, done, failed and canceled jobs hold no
// work), no scheduled job's next run is due within IdleHorizon, and no job
// of another type is running (a fetch job with tasks waiting or running).
// Otherwise Reason names the first job that keeps agents busy.
type WorkView struct {
	Idle   bool   `json:"idle"`
	Reason string `json:"reason,omitempty"`
}

// ready is the master's readiness: its catalog is open (migrated at open)
// and answers, and it is not stopping.
func (m *Master) ready(ctx context.Context) error {
	if m.stopping.Load() {
		return errors.New("the master is stopping")
	}
	return m.db.Ping(ctx)
}

// Stop marks the master as stopping: /readyz answers 503 from then on, so
// that load balancers send no new requests while the server shuts down.
func (m *Master) Stop() { m.stopping.Store(true) }

// work handles GET /api/v1/work.
func (m *Master) work(w http.ResponseWriter, r *http.Request) error {
	v, err := m.workState(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// workState decides WorkView as its doc says.
func (m *Master) workState(ctx context.Context) (WorkView, error) {
	jobs, err := m.db.Jobs(ctx)
	if err != nil {
		return WorkView{}, err
	}
	soon := m.now().Add(IdleHorizon)
	for _, j := range jobs {
		switch {
		case j.State == catalog.JobPending || j.State == catalog.JobRunning:
			return WorkView{Reason: fmt.Sprintf("job %s is %s", j.ID, j.State)}, nil
		case j.State != catalog.JobCanceled && j.State != catalog.JobPaused && !j.NextRun.IsZero() && j.NextRun.Before(soon):
			return WorkView{Reason: fmt.Sprintf("job %s runs again at %s", j.ID, j.NextRun.UTC().Format(time.RFC3339))}, nil
		}
	}
	for _, t := range m.cfg.JobTypes {
		views, err := t.Jobs(ctx)
		if err != nil {
			return WorkView{}, err
		}
		for _, v := range views {
			if v.State == string(catalog.JobRunning) {
				return WorkView{Reason: fmt.Sprintf("%s job %s is running", t.Type(), v.ID)}, nil
			}
		}
	}
	return WorkView{Idle: true}, nil
}

// release handles POST /api/v1/leases/{id}/release: a stopping agent's
// last report (a ReportRequest); the range goes back to the pool at once
// (catalog.MasterDB.ReleaseLease). 204 when released, 409 when the lease
// is not the range's any more.
func (m *Master) release(w http.ResponseWriter, r *http.Request) error {
	var req ReportRequest
	if err := decodeJSON(w, r, maxReportBody, &req); err != nil {
		return err
	}
	if !validAgentName(req.Agent) || req.JobID == "" {
		return errStatus(http.StatusBadRequest, "a release needs an agent name and a job ID")
	}
	rep := catalog.Report{
		LeaseID: r.PathValue("id"), JobID: req.JobID, RangeID: req.RangeID, Agent: req.Agent,
		Cursor: req.Cursor, Applied: req.Applied, Walked: req.Walked,
		Copied: req.Copied, Bytes: req.Bytes, Unchanged: req.Unchanged, Failed: req.Failed,
	}
	for _, f := range req.Failures {
		rep.Failures = append(rep.Failures, catalog.FailedObject{Path: f.Path, Size: f.Size, Error: f.Error, At: f.At})
	}
	err := m.db.ReleaseLease(r.Context(), rep, m.now())
	if errors.Is(err, catalog.ErrLeaseLost) {
		return errStatus(http.StatusConflict, "lease lost: range %d of job %s belongs to another lease now", req.RangeID, req.JobID)
	}
	if err != nil {
		return err
	}
	m.setFrontier(rangeKey{req.JobID, req.RangeID}, "", true)
	m.log.Info("lease released", "agent", req.Agent, "job", req.JobID, "range", req.RangeID, "cursor", req.Cursor)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Release gives a lease back with the agent's last report on it, so the
// master re-leases the range at once. An error for which IsLeaseLost is
// true means the range was no longer the agent's.
func (c *Client) Release(ctx context.Context, leaseID string, r ReportRequest) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/leases/"+url.PathEscape(leaseID)+"/release", r, nil)
}

// Work asks the master whether it has work for agents (WorkView).
func (c *Client) Work(ctx context.Context) (WorkView, error) {
	var v WorkView
	return v, c.Do(ctx, http.MethodGet, "/api/v1/work", nil, &v)
}
