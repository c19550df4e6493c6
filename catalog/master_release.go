package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReleaseLease ends an agent's lease on its own initiative (the agent is
// stopping): the final report rep is applied as Report applies one (cursor,
// counters, failures, a split's confirmation) and the range goes back to
// the pool at once, pending with its cursor and no holder, so the next
// agent that asks resumes after the cursor instead of waiting for the lease
// to expire. Its held tails are released too. It is counted in the
// leases_released counter. A lease the range no longer has (released
// before, expired and re-leased, the job deleted) gives an error wrapping
// ErrLeaseLost and changes nothing; releasing the lease of a range that
// finished does nothing. A lease that expired but was not re-leased is
// released as a live one (its cursor is kept).
func (m *MasterDB) ReleaseLease(ctx context.Context, rep Report, now time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		var state, agent, leaseID string
		var run int
		err := tx.QueryRowContext(ctx, `SELECT r.state, r.agent, r.lease_id, j.run
			FROM ranges r JOIN jobs j ON j.id = r.job_id WHERE r.job_id = ? AND r.id = ?`,
			rep.JobID, rep.RangeID).Scan(&state, &agent, &leaseID, &run)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("release range %d of job %s: %w", rep.RangeID, rep.JobID, ErrLeaseLost)
		}
		if err != nil {
			return fmt.Errorf("release range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
		if rep.LeaseID == "" || leaseID != rep.LeaseID || agent != rep.Agent {
			return fmt.Errorf("release range %d of job %s: %w", rep.RangeID, rep.JobID, ErrLeaseLost)
		}
		if st := RangeState(state); st == RangeDone || st == RangeFailed {
			return nil // a final report came first
		}
		if err := m.recordFailures(ctx, tx, rep, run, now); err != nil {
			return err
		}
		if err := updateAgent(ctx, tx, rep, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE ranges SET cursor = CASE WHEN ? > cursor THEN ? ELSE cursor END,
			l_copied = ?, l_bytes = ?, l_unchanged = ? WHERE job_id = ? AND id = ?`,
			rep.Cursor, rep.Cursor, rep.Copied, rep.Bytes, rep.Unchanged, rep.JobID, rep.RangeID)
		if err != nil {
			return fmt.Errorf("release range %d of job %s: %w", rep.RangeID, rep.JobID, err)
		}
		if err := settleTail(ctx, tx, rep.JobID, rep.RangeID, rep.Applied, rep.Walked, false); err != nil {
			return err
		}
		if err := releaseRange(ctx, tx, rep.JobID, rep.RangeID, RangePending, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE agents SET job_id = '', range_id = 0, lease_id = '',
			rate_objects = 0, rate_bytes = 0 WHERE name = ? AND lease_id = ?`, rep.Agent, rep.LeaseID); err != nil {
			return fmt.Errorf("record agent %s: %w", rep.Agent, err)
		}
		if err := addCounter(ctx, tx, "leases_released", 1); err != nil {
			return err
		}
		return m.refreshJob(ctx, tx, rep.JobID, now)
	})
}
