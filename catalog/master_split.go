package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// heldTail is a range split off a leased one, waiting for the cut to be
// confirmed.
type heldTail struct {
	id         int
	start, end string
}

// findTail returns the held tail of range parent, if any.
func findTail(ctx context.Context, tx *sql.Tx, job string, parent int) (heldTail, bool, error) {
	var t heldTail
	err := tx.QueryRowContext(ctx, `SELECT id, start, end FROM ranges WHERE job_id = ? AND parent = ? AND state = 'held'`,
		job, parent).Scan(&t.id, &t.start, &t.end)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("find held range of range %d of job %s: %w", parent, job, err)
	}
	return t, true, nil
}

// releaseTails lets the held tails of range parent be leased: its holder is
// gone (or a new holder's lease already ends at the cut).
func releaseTails(ctx context.Context, tx *sql.Tx, job string, parent int) error {
	_, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'pending' WHERE job_id = ? AND parent = ? AND state = 'held'`, job, parent)
	if err != nil {
		return fmt.Errorf("release held ranges of range %d of job %s: %w", parent, job, err)
	}
	return nil
}

// settleTail applies a holder's report to the cut waiting on its range:
//
//   - applied equals the cut: the holder lowered its end there; walked is
//     the last key its walk handed out, so everything up to walked stays
//     with the holder and the tail starts just after max(cut, walked);
//   - the holder finished without applying the cut: it walked its whole
//     lease, the tail is covered and is merged back;
//   - otherwise the answer has not arrived yet: nothing changes.
func settleTail(ctx context.Context, tx *sql.Tx, job string, parent int, applied, walked string, done bool) error {
	t, ok, err := findTail(ctx, tx, job, parent)
	if err != nil || !ok {
		return err
	}
	switch {
	case applied != "" && applied == t.start:
		cut := t.start
		if walked >= cut {
			cut = walked + "\x00"
		}
		if t.end != "" && cut >= t.end {
			return mergeTail(ctx, tx, job, parent, t)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE ranges SET start = ?, state = 'pending' WHERE job_id = ? AND id = ?`, []any{cut, job, t.id}},
			{`UPDATE ranges SET end = ? WHERE job_id = ? AND id = ?`, []any{cut, job, parent}},
			{`UPDATE range_paths SET range_id = ? WHERE job_id = ? AND range_id = ? AND path < ?`, []any{parent, job, t.id, cut}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("settle the cut of range %d of job %s: %w", parent, job, err)
			}
		}
		return nil
	case done:
		return mergeTail(ctx, tx, job, parent, t)
	}
	return nil
}

// mergeTail gives a held tail back to its parent, which covered it.
func mergeTail(ctx context.Context, tx *sql.Tx, job string, parent int, t heldTail) error {
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE range_paths SET range_id = ? WHERE job_id = ? AND range_id = ?`, []any{parent, job, t.id}},
		{`DELETE FROM ranges WHERE job_id = ? AND id = ?`, []any{job, t.id}},
		{`UPDATE ranges SET end = ? WHERE job_id = ? AND id = ?`, []any{t.end, job, parent}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("merge range %d back into range %d of job %s: %w", t.id, parent, job, err)
		}
	}
	return nil
}
