package catalog

import (
	"context"
	"fmt"
	"time"
)

// AgentInfo is what the master knows of one agent.
type AgentInfo struct {
	Name        string
	FirstSeen   time.Time
	LastSeen    time.Time // last lease request or report
	JobID       string    // current lease ("" when idle)
	RangeID     int
	LeaseID     string
	Copied      int64   // objects copied or found unchanged, over its life
	Bytes       int64   // bytes copied over its life
	RateObjects float64 // smoothed objects per second
	RateBytes   float64 // smoothed bytes per second
}

// Agents returns every agent the master has heard from, by name.
func (m *MasterDB) Agents(ctx context.Context) ([]AgentInfo, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, "list agents", func(sc scanner) (AgentInfo, error) {
		var a AgentInfo
		var first, last int64
		err := sc.Scan(&a.Name, &first, &last, &a.JobID, &a.RangeID, &a.LeaseID, &a.Copied, &a.Bytes, &a.RateObjects, &a.RateBytes)
		a.FirstSeen, a.LastSeen = fromNanos(first), fromNanos(last)
		return a, err
	}, `SELECT name, first_seen, last_seen, job_id, range_id, lease_id,
		copied, bytes, rate_objects, rate_bytes FROM agents ORDER BY name`)
}

// failedPage is how many failed objects Failed reads per query.
const failedPage = 1000

// Failed calls fn for each failed object of the job's current run in path
// order, a page at a time (never the whole list in memory). An error from
// fn stops it and is returned unchanged.
func (m *MasterDB) Failed(ctx context.Context, job string, fn func(FailedObject) error) error {
	return m.FailedAfter(ctx, job, "", fn)
}

// FailedAfter is Failed from the first path after after ("" for the start):
// a caller showing the list a page at a time starts each page where the
// last one ended, whatever the list's length.
func (m *MasterDB) FailedAfter(ctx context.Context, job, after string, fn func(FailedObject) error) error {
	r, err := m.reader()
	if err != nil {
		return err
	}
	var run int
	if err := r.QueryRowContext(ctx, `SELECT run FROM jobs WHERE id = ?`, job).Scan(&run); err != nil {
		return fmt.Errorf("job %s: %w", job, ErrJobNotFound)
	}
	for {
		page, err := m.failedPage(ctx, job, run, after)
		if err != nil {
			return err
		}
		for _, f := range page {
			if err := fn(f); err != nil {
				return err
			}
		}
		if len(page) < failedPage {
			return nil
		}
		after = page[len(page)-1].Path
	}
}

func (m *MasterDB) failedPage(ctx context.Context, job string, run int, after string) ([]FailedObject, error) {
	return collect(ctx, m.st.r, "list failed objects of job "+job, func(sc scanner) (FailedObject, error) {
		f := FailedObject{JobID: job, Run: run}
		var at int64
		err := sc.Scan(&f.Path, &f.RangeID, &f.Size, &f.Error, &f.Agent, &at)
		f.At = fromNanos(at)
		return f, err
	}, `SELECT path, range_id, size, error, agent, at FROM failed_objects
		WHERE job_id = ? AND run = ? AND path > ? ORDER BY path LIMIT ?`, job, run, after, failedPage)
}

// RunInfo is one finished run of a job.
type RunInfo struct {
	Run                   int
	State                 JobState
	StartedAt, FinishedAt time.Time
	Totals
}

// Runs returns the finished runs of a job, oldest first.
func (m *MasterDB) Runs(ctx context.Context, job string) ([]RunInfo, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, "list runs of job "+job, func(sc scanner) (RunInfo, error) {
		var ri RunInfo
		var state string
		var st, fin int64
		err := sc.Scan(&ri.Run, &state, &st, &fin, &ri.Copied, &ri.Bytes, &ri.Unchanged, &ri.Failed)
		ri.State, ri.StartedAt, ri.FinishedAt = JobState(state), fromNanos(st), fromNanos(fin)
		return ri, err
	}, `SELECT run, state, started_at, finished_at, copied, bytes, unchanged, failed
		FROM runs WHERE job_id = ? ORDER BY run`, job)
}
