package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lease is a range handed to one agent until Deadline, renewed by reports.
// It carries the job's credentials: only the agent that holds it sees them.
type Lease struct {
	ID      string
	JobID   string
	RangeID int
	Run     int
	// Start is where the agent begins: the range start, or just after the
	// cursor the range's last holder reported. End is exclusive ("" = none).
	Start, End string
	Cursor     string
	Retry      bool     // a retry-failed range
	Listed     bool     // the range copies only Paths
	Paths      []string // for a listed range: its paths after Cursor, sorted
	Source     string
	Dest       string
	Options    string
	Creds      map[string]string
	Deadline   time.Time
}

// FailedObject is one object that failed permanently in a job's run.
type FailedObject struct {
	JobID   string
	Run     int
	Path    string
	RangeID int
	Size    int64
	Error   string
	Agent   string
	At      time.Time
}

// Report is what an agent tells the master about its lease: counters are
// cumulative for the lease; Failures are new failed objects (repeating one
// is harmless); Done ends the lease, with Error set when the range could
// not be run at all (the source could not be opened, say).
type Report struct {
	LeaseID                          string
	JobID                            string
	RangeID                          int
	Agent                            string
	Cursor                           string
	Applied                          string // the lowered end the agent applied ("" none)
	Walked                           string // the last key its walk handed out
	Copied, Bytes, Unchanged, Failed int64
	Failures                         []FailedObject
	Done                             bool
	Error                            string
}

// ReportResult is the master's answer: the range's current End (lower than
// the lease's when the range was split meanwhile) and whether the agent
// must stop (job paused or canceled).
type ReportResult struct {
	End    string
	Stop   bool
	Reason string
}

// leaseCols selects a range with its job for a lease.
const leaseCols = `SELECT r.job_id, r.id, j.run, r.start, r.end, r.cursor, r.retry, r.listed,
	j.source, j.dest, j.options FROM ranges r JOIN jobs j ON j.id = r.job_id `

// AcquireLease hands agent a range for ttl: first the range it already
// holds (the agent restarted), then a pending range it held before (its
// lease expired), then the oldest job's first pending range. ok is false
// when there is nothing to do. The new lease gets leaseID.
func (m *MasterDB) AcquireLease(ctx context.Context, agent, leaseID string, now time.Time, ttl time.Duration) (l Lease, ok bool, err error) {
	err = m.tx(ctx, func(tx *sql.Tx) error {
		for _, where := range []string{
			`WHERE r.state = 'leased' AND r.agent = ? AND j.state IN ('pending', 'running') ORDER BY r.job_id, r.id LIMIT 1`,
			`WHERE r.state = 'pending' AND r.agent = ? AND j.state IN ('pending', 'running') ORDER BY r.job_id, r.id LIMIT 1`,
			`WHERE r.state = 'pending' AND j.state IN ('pending', 'running') ORDER BY j.created_at, r.job_id, r.id LIMIT 1`,
		} {
			var args []any
			if strings.Contains(where, "r.agent = ?") {
				args = []any{agent}
			}
			err := tx.QueryRowContext(ctx, leaseCols+where, args...).Scan(&l.JobID, &l.RangeID, &l.Run,
				&l.Start, &l.End, &l.Cursor, &l.Retry, &l.Listed, &l.Source, &l.Dest, &l.Options)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("find a range to lease: %w", err)
			}
			ok = true
			break
		}
		if !ok {
			return touchAgent(ctx, tx, agent, now)
		}
		return m.grant(ctx, tx, &l, agent, leaseID, now, ttl)
	})
	if err != nil || !ok {
		return Lease{}, false, err
	}
	if l.Creds, err = m.JobCreds(ctx, l.JobID); err != nil {
		return Lease{}, false, err
	}
	return l, true, nil
}

// grant records the lease of l's range for agent and fills in the rest of l.
func (m *MasterDB) grant(ctx context.Context, tx *sql.Tx, l *Lease, agent, leaseID string, now time.Time, ttl time.Duration) error {
	l.ID, l.Deadline = leaseID, now.Add(ttl)
	_, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'leased', agent = ?, lease_id = ?, deadline = ?,
		leased_at = ?, leases = leases + 1, copied = copied + l_copied, bytes = bytes + l_bytes,
		unchanged = unchanged + l_unchanged, l_copied = 0, l_bytes = 0, l_unchanged = 0,
		started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END
		WHERE job_id = ? AND id = ?`,
		agent, leaseID, nanos(l.Deadline), nanos(now), nanos(now), l.JobID, l.RangeID)
	if err != nil {
		return fmt.Errorf("lease range %d of job %s: %w", l.RangeID, l.JobID, err)
	}
	if err := releaseTails(ctx, tx, l.JobID, l.RangeID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET run_started_at = ?, updated_at = ?
		WHERE id = ? AND run_started_at = 0`, nanos(now), nanos(now), l.JobID); err != nil {
		return fmt.Errorf("start job %s: %w", l.JobID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agents (name, first_seen, last_seen, job_id, range_id, lease_id)
		VALUES (?1, ?2, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET last_seen = ?2, job_id = ?3,
		range_id = ?4, lease_id = ?5, last_lease_copied = 0, last_lease_bytes = 0`,
		agent, nanos(now), l.JobID, l.RangeID, leaseID); err != nil {
		return fmt.Errorf("record agent %s: %w", agent, err)
	}
	if l.Cursor != "" {
		l.Start = l.Cursor + "\x00"
	}
	if l.Listed {
		paths, err := rangePaths(ctx, tx, l.JobID, l.RangeID, l.Cursor)
		if err != nil {
			return err
		}
		l.Paths = paths
	}
	if err := addCounter(ctx, tx, "leases_granted", 1); err != nil {
		return err
	}
	return m.refreshJob(ctx, tx, l.JobID, now)
}

// rangePaths returns the listed paths of a range after cursor, sorted.
func rangePaths(ctx context.Context, tx *sql.Tx, job string, rangeID int, after string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT path FROM range_paths WHERE job_id = ? AND range_id = ? AND path > ?
		ORDER BY path`, job, rangeID, after)
	if err != nil {
		return nil, fmt.Errorf("read paths of range %d: %w", rangeID, err)
	}
	defer rows.Close()
	paths := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("read paths of range %d: %w", rangeID, err)
		}
		paths = append(paths, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read paths of range %d: %w", rangeID, err)
	}
	return paths, nil
}

// touchAgent records that agent asked for work and holds no lease.
func touchAgent(ctx context.Context, tx *sql.Tx, agent string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO agents (name, first_seen, last_seen) VALUES (?1, ?2, ?2)
		ON CONFLICT(name) DO UPDATE SET last_seen = ?2, job_id = '', range_id = 0, lease_id = '',
		rate_objects = 0, rate_bytes = 0`, agent, nanos(now))
	if err != nil {
		return fmt.Errorf("record agent %s: %w", agent, err)
	}
	return nil
}

// ExpireLeases returns every lease whose deadline passed before now to the
// pool, cursor kept (and holder remembered, so that agent can revive it),
// and counts them in the lease_expiries counter.
func (m *MasterDB) ExpireLeases(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := m.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'pending' WHERE state = 'held' AND EXISTS
			(SELECT 1 FROM ranges p WHERE p.job_id = ranges.job_id AND p.id = ranges.parent
			AND p.state = 'leased' AND p.deadline < ?)`, nanos(now))
		if err != nil {
			return fmt.Errorf("expire leases: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE ranges SET state = 'pending' WHERE state = 'leased' AND deadline < ?`, nanos(now))
		if err != nil {
			return fmt.Errorf("expire leases: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return addCounter(ctx, tx, "lease_expiries", n)
	})
	return int(n), err
}

// ExtendLeases moves every lease deadline earlier than until to until. A
// restarted master calls it so that agents that kept working through its
// outage keep their leases.
func (m *MasterDB) ExtendLeases(ctx context.Context, until time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ranges SET deadline = ? WHERE state = 'leased' AND deadline < ?`,
			nanos(until), nanos(until))
		if err != nil {
			return fmt.Errorf("extend leases: %w", err)
		}
		return nil
	})
}
