package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PauseJob stops handing out a pending or running job's ranges; agents
// holding its leases are told to stop at their next report (the ranges go
// back to the pool with their cursors). Other states give ErrJobState.
func (m *MasterDB) PauseJob(ctx context.Context, id string, now time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		s, err := jobState(ctx, tx, id)
		if err != nil {
			return err
		}
		if s != JobPending && s != JobRunning {
			return fmt.Errorf("pause job %s (%s): %w", id, s, ErrJobState)
		}
		return setJobState(ctx, tx, id, JobPaused, now)
	})
}

// ResumeJob lets a paused job's ranges be leased again. Other states give
// ErrJobState.
func (m *MasterDB) ResumeJob(ctx context.Context, id string, now time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		s, err := jobState(ctx, tx, id)
		if err != nil {
			return err
		}
		if s != JobPaused {
			return fmt.Errorf("resume job %s (%s): %w", id, s, ErrJobState)
		}
		if err := setJobState(ctx, tx, id, JobRunning, now); err != nil {
			return err
		}
		return m.refreshJob(ctx, tx, id, now)
	})
}

// CancelJob ends a pending, running or paused job for good: no more
// leases, agents stop at their next report, a schedule no longer re-runs
// it. A scheduled job can also be canceled between runs (done or failed).
// Canceling a canceled job, or a finished (done or failed) job without a
// schedule, gives ErrJobState: there is nothing left to stop.
func (m *MasterDB) CancelJob(ctx context.Context, id string, now time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		s, err := jobState(ctx, tx, id)
		if err != nil {
			return err
		}
		var sched string
		if err := tx.QueryRowContext(ctx, `SELECT schedule FROM jobs WHERE id = ?`, id).Scan(&sched); err != nil {
			return fmt.Errorf("cancel job %s: %w", id, err)
		}
		finished := (s == JobDone || s == JobFailed) && sched == ""
		if s == JobCanceled || finished {
			return fmt.Errorf("cancel job %s (%s): %w", id, s, ErrJobState)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET next_run = 0 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cancel job %s: %w", id, err)
		}
		return setJobState(ctx, tx, id, JobCanceled, now)
	})
}

// RetryFailed queues the current run's failed objects again: they leave the
// failed list and become retry ranges of at most perRange paths each (only
// those paths are copied), and failed ranges go back to the pool. It returns
// how many objects and ranges were queued; with nothing to retry, or a
// paused or canceled job, it gives ErrJobState.
func (m *MasterDB) RetryFailed(ctx context.Context, id string, perRange int, now time.Time) (objects, ranges int, err error) {
	if perRange <= 0 {
		perRange = 1000
	}
	err = m.tx(ctx, func(tx *sql.Tx) error {
		s, err := jobState(ctx, tx, id)
		if err != nil {
			return err
		}
		if s == JobPaused || s == JobCanceled {
			return fmt.Errorf("retry failed objects of job %s (%s): %w", id, s, ErrJobState)
		}
		res, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'pending', errors = 0, last_error = '',
			finished_at = 0 WHERE job_id = ? AND state = 'failed'`, id)
		if err != nil {
			return fmt.Errorf("retry failed ranges of job %s: %w", id, err)
		}
		n, _ := res.RowsAffected()
		ranges = int(n)
		if objects, err = m.queueFailed(ctx, tx, id, perRange); err != nil {
			return err
		}
		if objects == 0 && ranges == 0 {
			return fmt.Errorf("retry job %s: nothing failed: %w", id, ErrJobState)
		}
		ranges += (objects + perRange - 1) / perRange
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'running', error = '', finished_at = 0,
			next_run = 0, updated_at = ? WHERE id = ?`, nanos(now), id); err != nil {
			return fmt.Errorf("retry job %s: %w", id, err)
		}
		return m.refreshJob(ctx, tx, id, now)
	})
	return objects, ranges, err
}

// queueFailed moves the current run's failed objects of job into new retry
// ranges of at most perRange paths and returns how many it moved.
func (m *MasterDB) queueFailed(ctx context.Context, tx *sql.Tx, job string, perRange int) (int, error) {
	var next int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM ranges WHERE job_id = ?`, job).Scan(&next); err != nil {
		return 0, fmt.Errorf("queue failed objects of job %s: %w", job, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT path FROM failed_objects
		WHERE job_id = ? AND run = (SELECT run FROM jobs WHERE id = ?) ORDER BY path`, job, job)
	if err != nil {
		return 0, fmt.Errorf("queue failed objects of job %s: %w", job, err)
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, fmt.Errorf("queue failed objects of job %s: %w", job, err)
		}
		paths = append(paths, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("queue failed objects of job %s: %w", job, err)
	}
	for i := 0; i < len(paths); i += perRange {
		chunk := paths[i:min(i+perRange, len(paths))]
		r := RangeSpec{Start: chunk[0], End: chunk[len(chunk)-1] + "\x00", Paths: chunk}
		if err := insertRange(ctx, tx, job, next, r, true); err != nil {
			return 0, err
		}
		next++
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM failed_objects
		WHERE job_id = ? AND run = (SELECT run FROM jobs WHERE id = ?)`, job, job); err != nil {
		return 0, fmt.Errorf("queue failed objects of job %s: %w", job, err)
	}
	return len(paths), nil
}

// DueJobs returns the IDs of scheduled jobs whose next run is due at now.
func (m *MasterDB) DueJobs(ctx context.Context, now time.Time) ([]string, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	rows, err := r.QueryContext(ctx, `SELECT id FROM jobs WHERE schedule != ''
		AND state IN ('done', 'failed') AND next_run > 0 AND next_run <= ? ORDER BY next_run`, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("find due jobs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find due jobs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find due jobs: %w", err)
	}
	return ids, nil
}

// StartRun begins the next run of a finished scheduled job: the run number
// goes up, retry ranges are dropped and every range is reset to pending
// with no cursor and zero counters (the agents' skip rules make the run
// incremental). It reports false when the job is not (or no longer) due.
func (m *MasterDB) StartRun(ctx context.Context, id string, now time.Time) (bool, error) {
	started := false
	err := m.tx(ctx, func(tx *sql.Tx) error {
		var state, sched string
		var next int64
		err := tx.QueryRowContext(ctx, `SELECT state, schedule, next_run FROM jobs WHERE id = ?`, id).Scan(&state, &sched, &next)
		if err != nil {
			return fmt.Errorf("start run of job %s: %w", id, err)
		}
		if sched == "" || (state != string(JobDone) && state != string(JobFailed)) || next == 0 || next > nanos(now) {
			return nil
		}
		for _, q := range []string{
			`DELETE FROM ranges WHERE job_id = ? AND retry = 1`,
			`UPDATE ranges SET cursor = '', state = 'pending', parent = 0, agent = '', lease_id = '', deadline = 0,
				leased_at = 0, leases = 0, errors = 0, last_error = '', copied = 0, bytes = 0, unchanged = 0,
				l_copied = 0, l_bytes = 0, l_unchanged = 0, started_at = 0, finished_at = 0 WHERE job_id = ?`,
			`UPDATE jobs SET run = run + 1, state = 'pending', error = '', run_started_at = 0,
				finished_at = 0, next_run = 0 WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("start run of job %s: %w", id, err)
			}
		}
		started = true
		return addCounter(ctx, tx, "runs_started", 1)
	})
	return started, err
}

// refreshJob derives a running job's state from its ranges: pending before
// any lease, running while ranges remain, then done or failed. Entering
// done or failed records the run in the history and plans the next
// scheduled run. Paused, canceled and finished jobs are left alone.
func (m *MasterDB) refreshJob(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	var state, sched string
	var run int
	var runStart int64
	err := tx.QueryRowContext(ctx, `SELECT state, schedule, run, run_started_at FROM jobs WHERE id = ?`, id).
		Scan(&state, &sched, &run, &runStart)
	if err != nil {
		return fmt.Errorf("refresh job %s: %w", id, err)
	}
	if s := JobState(state); s != JobPending && s != JobRunning {
		return nil
	}
	var open, started, failedRanges int
	err = tx.QueryRowContext(ctx, `SELECT
		coalesce(sum(state IN ('pending', 'leased', 'held')), 0),
		coalesce(sum(state != 'pending' OR leases > 0), 0),
		coalesce(sum(state = 'failed'), 0) FROM ranges WHERE job_id = ?`, id).Scan(&open, &started, &failedRanges)
	if err != nil {
		return fmt.Errorf("refresh job %s: %w", id, err)
	}
	next := JobPending
	switch {
	case open > 0 && started > 0:
		next = JobRunning
	case open == 0:
		next = JobDone
	}
	if next != JobDone {
		if string(next) != state {
			return setJobState(ctx, tx, id, next, now)
		}
		return nil
	}
	var t Totals
	err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(copied + l_copied), 0), coalesce(sum(bytes + l_bytes), 0),
		coalesce(sum(CASE WHEN retry = 1 THEN 0 ELSE unchanged + l_unchanged END), 0),
		(SELECT count(*) FROM failed_objects WHERE job_id = ? AND run = ?)
		FROM ranges WHERE job_id = ?`, id, run, id).Scan(&t.Copied, &t.Bytes, &t.Unchanged, &t.Failed)
	if err != nil {
		return fmt.Errorf("refresh job %s: %w", id, err)
	}
	if t.Failed > 0 || failedRanges > 0 {
		next = JobFailed
	}
	var nextRun int64
	if sched != "" {
		nextRun = nanos(m.nextRun(sched, now))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, finished_at = ?, next_run = ?, updated_at = ?
		WHERE id = ?`, string(next), nanos(now), nextRun, nanos(now), id); err != nil {
		return fmt.Errorf("finish job %s: %w", id, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO runs (job_id, run, state, started_at, finished_at, copied, bytes, unchanged, failed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, run) DO UPDATE SET state = excluded.state,
		finished_at = excluded.finished_at, copied = excluded.copied, bytes = excluded.bytes,
		unchanged = excluded.unchanged, failed = excluded.failed`,
		id, run, string(next), runStart, nanos(now), t.Copied, t.Bytes, t.Unchanged, t.Failed)
	if err != nil {
		return fmt.Errorf("record run %d of job %s: %w", run, id, err)
	}
	return nil
}
