package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// rangeLease is the lease-related part of a range row.
type rangeLease struct {
	state    RangeState
	agent    string
	leaseID  string
	end      string
	jobState JobState
	run      int
}

// Report applies an agent's report on its lease in one transaction and
// renews the lease for ttl. A report for a lease the range no longer has
// (re-leased to another agent, or the job deleted) gives an error wrapping
// ErrLeaseLost and changes nothing. A lease that expired but was not yet
// handed to anyone else is revived. Repeating a Done report is harmless.
func (m *MasterDB) Report(ctx context.Context, rep Report, now time.Time, ttl time.Duration) (ReportResult, error) {
	var res ReportResult
	err := m.tx(ctx, func(tx *sql.Tx) error {
		var rl rangeLease
		var state, jstate string
		err := tx.QueryRowContext(ctx, `SELECT r.state, r.agent, r.lease_id, r.end, j.state, j.run
			FROM ranges r JOIN jobs j ON j.id = r.job_id WHERE r.job_id = ? AND r.id = ?`,
			rep.JobID, rep.RangeID).Scan(&state, &rl.agent, &rl.leaseID, &rl.end, &jstate, &rl.run)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("report on range %d of job %s: %w", rep.RangeID, rep.JobID, ErrLeaseLost)
		}
		if err != nil {
			return fmt.Errorf("report on range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
		rl.state, rl.jobState = RangeState(state), JobState(jstate)
		if rep.LeaseID == "" || rl.leaseID != rep.LeaseID || rl.agent != rep.Agent {
			return fmt.Errorf("report on range %d of job %s: %w", rep.RangeID, rep.JobID, ErrLeaseLost)
		}
		if rl.state == RangeDone || rl.state == RangeFailed {
			res.End = rl.end
			return nil // a repeated final report
		}
		if err := m.recordFailures(ctx, tx, rep, rl.run, now); err != nil {
			return err
		}
		if err := updateAgent(ctx, tx, rep, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE ranges SET state = 'leased', deadline = ?,
			cursor = CASE WHEN ? > cursor THEN ? ELSE cursor END,
			l_copied = ?, l_bytes = ?, l_unchanged = ? WHERE job_id = ? AND id = ?`,
			nanos(now.Add(ttl)), rep.Cursor, rep.Cursor, rep.Copied, rep.Bytes, rep.Unchanged, rep.JobID, rep.RangeID)
		if err != nil {
			return fmt.Errorf("report on range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
		switch {
		case rep.Done:
			err = m.finishRange(ctx, tx, rep, now)
		case rl.jobState == JobPaused || rl.jobState == JobCanceled:
			res.Stop, res.Reason = true, "job "+string(rl.jobState)
			err = releaseRange(ctx, tx, rep.JobID, rep.RangeID, RangePending, "")
		default:
			err = settleTail(ctx, tx, rep.JobID, rep.RangeID, rep.Applied, rep.Walked, false)
		}
		if err != nil {
			return err
		}
		return rangeEnd(ctx, tx, rep.JobID, rep.RangeID, &res.End)
	})
	return res, err
}

// rangeEnd reads a range's current end.
func rangeEnd(ctx context.Context, tx *sql.Tx, job string, id int, end *string) error {
	if err := tx.QueryRowContext(ctx, `SELECT end FROM ranges WHERE job_id = ? AND id = ?`, job, id).Scan(end); err != nil {
		return fmt.Errorf("read range %d of job %s: %w", id, job, err)
	}
	return nil
}

// recordFailures adds the reported failures to the run's failed list.
func (m *MasterDB) recordFailures(ctx context.Context, tx *sql.Tx, rep Report, run int, now time.Time) error {
	if len(rep.Failures) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO failed_objects (job_id, run, path, range_id, size, error, agent, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, run, path) DO UPDATE SET range_id = excluded.range_id,
		size = excluded.size, error = excluded.error, agent = excluded.agent, at = excluded.at`)
	if err != nil {
		return fmt.Errorf("record failures: %w", err)
	}
	defer st.Close()
	for _, f := range rep.Failures {
		at := f.At
		if at.IsZero() {
			at = now
		}
		if _, err := st.ExecContext(ctx, rep.JobID, run, f.Path, rep.RangeID, f.Size, f.Error, rep.Agent, nanos(at)); err != nil {
			return fmt.Errorf("record failure of %q: %w", f.Path, err)
		}
	}
	return nil
}

// updateAgent records the agent's progress: totals grow by what the lease
// did since the last report, and the rate is a smoothed per-second value.
func updateAgent(ctx context.Context, tx *sql.Tx, rep Report, now time.Time) error {
	var last, lc, lb int64
	var ro, rb float64
	err := tx.QueryRowContext(ctx, `SELECT last_seen, last_lease_copied, last_lease_bytes, rate_objects, rate_bytes
		FROM agents WHERE name = ?`, rep.Agent).Scan(&last, &lc, &lb, &ro, &rb)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read agent %s: %w", rep.Agent, err)
	}
	dc, dbytes := max(rep.Copied+rep.Unchanged-lc, 0), max(rep.Bytes-lb, 0)
	if secs := float64(nanos(now)-last) / 1e9; last > 0 && secs > 0.05 {
		const keep = 0.5 // smoothing: half the old rate, half the new
		ro = keep*ro + (1-keep)*float64(dc)/secs
		rb = keep*rb + (1-keep)*float64(dbytes)/secs
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO agents (name, first_seen, last_seen, job_id, range_id, lease_id,
		copied, bytes, last_lease_copied, last_lease_bytes, rate_objects, rate_bytes)
		VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
		ON CONFLICT(name) DO UPDATE SET last_seen = ?2, job_id = ?3, range_id = ?4, lease_id = ?5,
		copied = copied + ?6, bytes = bytes + ?7, last_lease_copied = ?8, last_lease_bytes = ?9,
		rate_objects = ?10, rate_bytes = ?11`,
		rep.Agent, nanos(now), rep.JobID, rep.RangeID, rep.LeaseID, dc, dbytes,
		rep.Copied+rep.Unchanged, rep.Bytes, ro, rb)
	if err != nil {
		return fmt.Errorf("record agent %s: %w", rep.Agent, err)
	}
	return nil
}

// finishRange ends a lease whose agent reported Done: the range is done,
// or after a whole-range error back in the pool (failed after
// maxRangeErrors such errors).
func (m *MasterDB) finishRange(ctx context.Context, tx *sql.Tx, rep Report, now time.Time) error {
	if rep.Error == "" {
		if err := settleTail(ctx, tx, rep.JobID, rep.RangeID, rep.Applied, rep.Walked, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'done', finished_at = ?, deadline = 0,
			copied = copied + l_copied, bytes = bytes + l_bytes, unchanged = unchanged + l_unchanged,
			l_copied = 0, l_bytes = 0, l_unchanged = 0 WHERE job_id = ? AND id = ?`, nanos(now), rep.JobID, rep.RangeID)
		if err != nil {
			return fmt.Errorf("finish range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
	} else {
		var errs int
		err := tx.QueryRowContext(ctx, `UPDATE ranges SET errors = errors + 1, last_error = ?
			WHERE job_id = ? AND id = ? RETURNING errors`, rep.Error, rep.JobID, rep.RangeID).Scan(&errs)
		if err != nil {
			return fmt.Errorf("record error of range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
		next := RangePending
		if errs >= maxRangeErrors {
			next = RangeFailed
		}
		if err := releaseRange(ctx, tx, rep.JobID, rep.RangeID, next, ""); err != nil {
			return err
		}
		if next == RangeFailed {
			if _, err := tx.ExecContext(ctx, `UPDATE ranges SET finished_at = ? WHERE job_id = ? AND id = ?`,
				nanos(now), rep.JobID, rep.RangeID); err != nil {
				return fmt.Errorf("fail range %d of job %s: %w", rep.RangeID, rep.JobID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET error = ? WHERE id = ?`, rep.Error, rep.JobID); err != nil {
			return fmt.Errorf("record error of job %s: %w", rep.JobID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agents SET job_id = '', range_id = 0, lease_id = ''
		WHERE name = ? AND lease_id = ?`, rep.Agent, rep.LeaseID); err != nil {
		return fmt.Errorf("record agent %s: %w", rep.Agent, err)
	}
	return m.refreshJob(ctx, tx, rep.JobID, now)
}

// releaseRange ends the range's lease: counters folded in, lease cleared,
// state set (pending puts it back in the pool with its cursor).
func releaseRange(ctx context.Context, tx *sql.Tx, job string, id int, state RangeState, agent string) error {
	if err := releaseTails(ctx, tx, job, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE ranges SET state = ?, agent = ?, lease_id = '', deadline = 0,
		copied = copied + l_copied, bytes = bytes + l_bytes, unchanged = unchanged + l_unchanged,
		l_copied = 0, l_bytes = 0, l_unchanged = 0 WHERE job_id = ? AND id = ?`, string(state), agent, job, id)
	if err != nil {
		return fmt.Errorf("release range %d of job %s: %w", id, job, err)
	}
	return nil
}
