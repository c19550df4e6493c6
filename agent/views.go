package agent

import (
	"net/http"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// timePtr returns &t, or nil for the zero time (omitted in JSON).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// jobView renders a job; its rate is the sum of the rates of the active
// agents holding its leases, and its ETA a rough estimate from the share
// of ranges finished.
func (m *Master) jobView(j catalog.Job, agents []catalog.AgentInfo) JobView {
	opts, _ := decodeOptions(j.Options)
	v := JobView{
		ID: j.ID, Type: TypeMigrate, Source: j.Source, Dest: j.Dest, Options: opts, Schedule: j.Schedule,
		State: string(j.State), Run: j.Run, Error: j.Error,
		Objects: j.Copied + j.Unchanged + j.Failed, Copied: j.Copied, Unchanged: j.Unchanged,
		Failed: j.Failed, Bytes: j.Bytes,
		RangesTotal: j.Ranges.Total, RangesPending: j.Ranges.Pending, RangesLeased: j.Ranges.Leased,
		RangesDone: j.Ranges.Done, RangesFailed: j.Ranges.Failed,
		CreatedAt: j.CreatedAt.UTC(), StartedAt: timePtr(j.RunStartedAt),
		FinishedAt: timePtr(j.FinishedAt), NextRun: timePtr(j.NextRun),
	}
	if j.State != catalog.JobRunning {
		return v
	}
	for _, a := range agents {
		if a.JobID == j.ID && m.active(a) {
			v.RateObjects += a.RateObjects
			v.RateBytes += a.RateBytes
		}
	}
	done := float64(j.Ranges.Done) + 0.5*float64(j.Ranges.Leased)
	if v.RateObjects > 0 && done > 0 && j.Ranges.Total > 0 {
		estTotal := float64(v.Objects) * float64(j.Ranges.Total) / done
		eta := max(estTotal-float64(v.Objects), 0) / v.RateObjects
		v.ETASeconds = &eta
	}
	return v
}

// rangeView renders one range.
func (m *Master) rangeView(r catalog.Range) RangeView {
	v := RangeView{
		ID: r.ID, Start: r.Start, End: r.End, Cursor: r.Cursor, State: string(r.State), Retry: r.Retry,
		Agent: r.Agent, Leases: r.Leases, Errors: r.Errors, LastError: r.LastError,
		Copied: r.Copied, Unchanged: r.Unchanged, Failed: r.Failed, Bytes: r.Bytes,
		StartedAt: timePtr(r.StartedAt), FinishedAt: timePtr(r.FinishedAt),
	}
	if !r.StartedAt.IsZero() {
		end := r.FinishedAt
		if end.IsZero() {
			end = m.now()
		}
		v.Seconds = end.Sub(r.StartedAt).Seconds()
	}
	return v
}

// active reports whether an agent was heard from within three lease TTLs.
func (m *Master) active(a catalog.AgentInfo) bool {
	return m.now().Sub(a.LastSeen) < 3*m.cfg.LeaseTTL
}

func (m *Master) listAgents(w http.ResponseWriter, r *http.Request) error {
	agents, err := m.db.Agents(r.Context())
	if err != nil {
		return err
	}
	out := make([]AgentView, 0, len(agents))
	for _, a := range agents {
		v := AgentView{Name: a.Name, LastSeen: a.LastSeen.UTC(), Active: m.active(a),
			Objects: a.Copied, Bytes: a.Bytes}
		if v.Active {
			v.JobID, v.RangeID, v.RateObjects, v.RateBytes = a.JobID, a.RangeID, a.RateObjects, a.RateBytes
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
