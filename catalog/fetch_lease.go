package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// FetchOutcome is what an agent reports when it ends a fetch task.
type FetchOutcome struct {
	OK bool // stored and verified
	// ETag (the destination's), SHA1 (lowercase hex) and Size of the stored
	// bytes, when OK.
	ETag, SHA1 string
	Size       int64
	// Error is the reason of a failure, shown in the failure callback.
	Error string
	// Retry marks a failure as transient: the task goes back to the queue
	// while it has been leased fewer than FetchMaxAttempts times.
	Retry bool
}

// LeaseFetchTasks hands agent up to n pending tasks, oldest first, until
// now+ttl. It first expires every lease whose deadline passed (see
// ExpireFetchLeases). Each granted lease counts as one attempt.
func (q *FetchQueue) LeaseFetchTasks(ctx context.Context, agent string, n int, now time.Time, ttl time.Duration) ([]FetchTask, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []FetchTask
	err := q.tx(ctx, func(tx *sql.Tx) error {
		if _, err := expireFetch(ctx, tx, now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE fetch_tasks SET state = 'leased', agent = ?, deadline = ?,
			attempts = attempts + 1, updated_at = ? WHERE id IN (SELECT id FROM fetch_tasks
			WHERE state = 'pending' ORDER BY created_at, id LIMIT ?) RETURNING `+fetchCols,
			agent, nanos(now.Add(ttl)), nanos(now), n)
		if err != nil {
			return fmt.Errorf("lease fetch tasks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanFetch(rows)
			if err != nil {
				return fmt.Errorf("lease fetch tasks: %w", err)
			}
			out = append(out, t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lease fetch tasks: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RenewFetchLease marks agent's task running and moves its deadline to
// now+ttl. It returns an error wrapping ErrFetchLeaseLost when agent no
// longer holds the task, and ErrFetchNotFound for an unknown ID.
func (q *FetchQueue) RenewFetchLease(ctx context.Context, id, agent string, now time.Time, ttl time.Duration) error {
	return q.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fetch_tasks SET state = 'running', deadline = ?, updated_at = ?
			WHERE id = ? AND agent = ? AND state IN ('leased', 'running')`, nanos(now.Add(ttl)), nanos(now), id, agent)
		if err != nil {
			return fmt.Errorf("renew fetch lease %s: %w", id, err)
		}
		return heldOrLost(ctx, tx, res, id)
	})
}

// heldOrLost turns an UPDATE that matched no row into ErrFetchLeaseLost or
// ErrFetchNotFound.
func heldOrLost(ctx context.Context, tx *sql.Tx, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update fetch task %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM fetch_tasks WHERE id = ?`, id).Scan(&one); err != nil {
		if err == sql.ErrNoRows {
			return fmt.Errorf("fetch task %s: %w", id, ErrFetchNotFound)
		}
		return fmt.Errorf("read fetch task %s: %w", id, err)
	}
	return fmt.Errorf("fetch task %s: %w", id, ErrFetchLeaseLost)
}

// FinishFetchTask records the outcome of agent's lease on a task. Success
// makes it done; a failure makes it failed, unless o.Retry is set and the
// task has been leased fewer than FetchMaxAttempts times, which queues it
// again. A final state schedules the matching callback for now (callback
// state pending), or sets callback state none when there is no URL for it.
// It returns an error wrapping ErrFetchLeaseLost when agent no longer holds
// the task (its report is then ignored).
func (q *FetchQueue) FinishFetchTask(ctx context.Context, id, agent string, o FetchOutcome, now time.Time) error {
	return q.tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		switch {
		case o.OK:
			res, err = tx.ExecContext(ctx, `UPDATE fetch_tasks SET state = 'done', etag = ?4, sha1 = ?5, size = ?6,
				last_error = '', deadline = 0, updated_at = ?1, finished_at = ?1,
				cb_state = CASE WHEN success_cb = '' THEN 'none' ELSE 'pending' END, cb_next = ?1
				WHERE id = ?2 AND agent = ?3 AND state IN ('leased', 'running')`,
				nanos(now), id, agent, o.ETag, o.SHA1, o.Size)
		case o.Retry:
			res, err = tx.ExecContext(ctx, `UPDATE fetch_tasks SET last_error = ?4, deadline = 0, updated_at = ?1,
				state = CASE WHEN attempts < ?5 THEN 'pending' ELSE 'failed' END,
				finished_at = CASE WHEN attempts < ?5 THEN 0 ELSE ?1 END,
				cb_state = CASE WHEN attempts < ?5 OR failure_cb = '' THEN 'none' ELSE 'pending' END,
				cb_next = ?1
				WHERE id = ?2 AND agent = ?3 AND state IN ('leased', 'running')`,
				nanos(now), id, agent, o.Error, FetchMaxAttempts)
		default:
			res, err = tx.ExecContext(ctx, `UPDATE fetch_tasks SET state = 'failed', last_error = ?4, deadline = 0,
				updated_at = ?1, finished_at = ?1, cb_next = ?1,
				cb_state = CASE WHEN failure_cb = '' THEN 'none' ELSE 'pending' END
				WHERE id = ?2 AND agent = ?3 AND state IN ('leased', 'running')`,
				nanos(now), id, agent, o.Error)
		}
		if err != nil {
			return fmt.Errorf("finish fetch task %s: %w", id, err)
		}
		return heldOrLost(ctx, tx, res, id)
	})
}

// ExpireFetchLeases returns every leased or running task whose deadline
// passed before now to the queue; a task already leased FetchMaxAttempts
// times fails instead ("abandoned") and its failure callback is scheduled.
// It returns how many leases expired.
func (q *FetchQueue) ExpireFetchLeases(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := q.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = expireFetch(ctx, tx, now)
		return err
	})
	return n, err
}

// expireFetch is ExpireFetchLeases inside tx.
func expireFetch(ctx context.Context, tx *sql.Tx, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE fetch_tasks SET updated_at = ?1, deadline = 0,
		state = CASE WHEN attempts < ?2 THEN 'pending' ELSE 'failed' END,
		last_error = CASE WHEN attempts < ?2 THEN last_error
			ELSE 'abandoned: the agent lease expired ' || attempts || ' times' ||
				CASE WHEN last_error = '' THEN '' ELSE ' (last error: ' || last_error || ')' END END,
		finished_at = CASE WHEN attempts < ?2 THEN 0 ELSE ?1 END,
		cb_state = CASE WHEN attempts < ?2 OR failure_cb = '' THEN 'none' ELSE 'pending' END,
		cb_next = ?1
		WHERE state IN ('leased', 'running') AND deadline < ?1`, nanos(now), FetchMaxAttempts)
	if err != nil {
		return 0, fmt.Errorf("expire fetch leases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("expire fetch leases: %w", err)
	}
	return int(n), nil
}

// ExtendFetchLeases moves every fetch lease deadline earlier than until to
// until. A restarted master calls it so that agents that kept working
// through its outage keep their tasks.
func (q *FetchQueue) ExtendFetchLeases(ctx context.Context, until time.Time) error {
	return q.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE fetch_tasks SET deadline = ?1
			WHERE state IN ('leased', 'running') AND deadline < ?1`, nanos(until))
		if err != nil {
			return fmt.Errorf("extend fetch leases: %w", err)
		}
		return nil
	})
}
