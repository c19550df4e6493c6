package agent

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ferry-project/ferry/catalog"
)

// validAgentName accepts names of 1–128 printable characters without
// spaces or slashes (they name catalog directories too).
func validAgentName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '/' || r == '\\' || r == 0x7f })
}

// lease handles POST /api/v1/leases: the agent's own range if it holds
// one, else a pending range, else (agents are idle) a split of a busy
// range; 204 when there is nothing to do.
func (m *Master) lease(w http.ResponseWriter, r *http.Request) error {
	var req LeaseRequest
	if err := decodeJSON(w, r, maxSmallBody, &req); err != nil {
		return err
	}
	if !validAgentName(req.Agent) {
		return errStatus(http.StatusBadRequest, "invalid agent name %q", req.Agent)
	}
	ctx := r.Context()
	l, ok, err := m.db.AcquireLease(ctx, req.Agent, newID("lease-"), m.now(), m.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	if !ok && m.trySplit(ctx) {
		l, ok, err = m.db.AcquireLease(ctx, req.Agent, newID("lease-"), m.now(), m.cfg.LeaseTTL)
		if err != nil {
			return err
		}
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	opts, err := decodeOptions(l.Options)
	if err != nil {
		return err
	}
	m.log.Info("lease granted", "agent", req.Agent, "job", l.JobID, "range", l.RangeID, "start", l.Start, "end", l.End)
	writeJSON(w, http.StatusOK, LeaseView{
		ID: l.ID, JobID: l.JobID, RangeID: l.RangeID, Run: l.Run, Start: l.Start, End: l.End,
		Cursor: l.Cursor, Retry: l.Retry, Listed: l.Listed, Paths: l.Paths, Source: l.Source, Dest: l.Dest,
		Options: opts, Credentials: l.Creds,
		TTLSeconds: m.cfg.LeaseTTL.Seconds(), HeartbeatSeconds: m.cfg.Heartbeat.Seconds(),
	})
	return nil
}

// report handles POST /api/v1/leases/{id}/report: progress, failures and
// the end of a lease. 409 means the lease is gone: the agent must stop.
func (m *Master) report(w http.ResponseWriter, r *http.Request) error {
	var req ReportRequest
	if err := decodeJSON(w, r, maxReportBody, &req); err != nil {
		return err
	}
	if !validAgentName(req.Agent) || req.JobID == "" {
		return errStatus(http.StatusBadRequest, "a report needs an agent name and a job ID")
	}
	rep := catalog.Report{
		LeaseID: r.PathValue("id"), JobID: req.JobID, RangeID: req.RangeID, Agent: req.Agent,
		Cursor: req.Cursor, Applied: req.Applied, Walked: req.Walked,
		Copied: req.Copied, Bytes: req.Bytes, Unchanged: req.Unchanged, Failed: req.Failed,
		Done: req.Done, Error: req.Error,
	}
	for _, f := range req.Failures {
		rep.Failures = append(rep.Failures, catalog.FailedObject{Path: f.Path, Size: f.Size, Error: f.Error, At: f.At})
	}
	res, err := m.db.Report(r.Context(), rep, m.now(), m.cfg.LeaseTTL)
	if errors.Is(err, catalog.ErrLeaseLost) {
		return errStatus(http.StatusConflict, "lease lost: range %d of job %s belongs to another lease now", req.RangeID, req.JobID)
	}
	if err != nil {
		return err
	}
	m.setFrontier(rangeKey{req.JobID, req.RangeID}, req.Walked, req.Done || res.Stop)
	if req.Done {
		m.log.Info("range finished", "agent", req.Agent, "job", req.JobID, "range", req.RangeID,
			"copied", req.Copied, "failed", req.Failed, "error", req.Error)
	}
	writeJSON(w, http.StatusOK, ReportReply{End: res.End, Stop: res.Stop, Reason: res.Reason})
	return nil
}
