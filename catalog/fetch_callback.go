package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CallbackAttempt is the result of one callback delivery.
type CallbackAttempt struct {
	Delivered bool   // the receiver answered 2xx
	Error     string // why delivery failed
	// Next is when to try again after a failure; zero gives up (state failed).
	Next time.Time
}

// DueCallbacks claims up to n callbacks whose next attempt is due at now,
// earliest first: it returns their tasks and moves each one's next attempt
// to now+hold, so that neither a second call nor another dispatcher takes
// them while they are being delivered, and a dispatcher that dies
// mid-delivery (a master killed) tries them again once hold has passed.
// The claim is committed before DueCallbacks returns.
func (q *FetchQueue) DueCallbacks(ctx context.Context, now time.Time, n int, hold time.Duration) ([]FetchTask, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []FetchTask
	err := q.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+fetchCols+` FROM fetch_tasks
			WHERE cb_state = 'pending' AND cb_next <= ? ORDER BY cb_next, id LIMIT ?`, nanos(now), n)
		if err != nil {
			return fmt.Errorf("find due callbacks: %w", err)
		}
		for rows.Next() {
			t, err := scanFetch(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("find due callbacks: %w", err)
			}
			out = append(out, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find due callbacks: %w", err)
		}
		until := nanos(now.Add(hold))
		for _, t := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE fetch_tasks SET cb_next = ? WHERE id = ?`, until, t.ID); err != nil {
				return fmt.Errorf("claim callback of %s: %w", t.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkCallback records one delivery attempt of a task's callback: it counts
// the attempt, then marks the callback delivered, or pending again at
// a.Next with a.Error, or failed when a.Next is zero. A task whose callback
// is not pending (already delivered or given up) is left unchanged.
func (q *FetchQueue) MarkCallback(ctx context.Context, id string, a CallbackAttempt, now time.Time) error {
	state := CallbackPending
	switch {
	case a.Delivered:
		state, a.Error, a.Next = CallbackDelivered, "", time.Time{}
	case a.Next.IsZero():
		state = CallbackFailed
	}
	return q.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fetch_tasks SET cb_state = ?, cb_error = ?, cb_next = ?,
			cb_attempts = cb_attempts + 1, updated_at = ? WHERE id = ? AND cb_state = 'pending'`,
			state, a.Error, nanos(a.Next), nanos(now), id)
		if err != nil {
			return fmt.Errorf("mark callback of %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("mark callback of %s: %w", id, err)
		} else if n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM fetch_tasks WHERE id = ?`, id).Scan(&one); err == sql.ErrNoRows {
				return fmt.Errorf("fetch task %s: %w", id, ErrFetchNotFound)
			}
		}
		return nil
	})
}

// NextCallback returns when the earliest pending callback is due (ok false
// when none is pending), so a dispatcher can sleep until then.
func (q *FetchQueue) NextCallback(ctx context.Context) (at time.Time, ok bool, err error) {
	r, err := q.st.reader()
	if err != nil {
		return time.Time{}, false, err
	}
	var n sql.NullInt64
	if err := r.QueryRowContext(ctx, `SELECT MIN(cb_next) FROM fetch_tasks WHERE cb_state = 'pending'`).Scan(&n); err != nil {
		return time.Time{}, false, fmt.Errorf("find next callback: %w", err)
	}
	if !n.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, n.Int64), true, nil
}
