package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Range is one path range [Start, End) of a job's current run.
type Range struct {
	JobID  string
	ID     int
	Start  string
	End    string // "" = no upper bound
	Cursor string // every path up to it is finished
	State  RangeState
	Listed bool // copies only its path list
	Retry  bool // made by RetryFailed

	Agent     string // holder of the lease, or the last holder
	LeaseID   string
	Deadline  time.Time
	LeasedAt  time.Time
	Leases    int    // how often it was leased
	Errors    int    // whole-range errors
	LastError string // the last of them

	Totals
	StartedAt, FinishedAt time.Time
}

// ErrNoSplit: SplitRange found the range no longer splittable at that key
// (finished, released, or its cursor already past the key).
var ErrNoSplit = errors.New("range cannot be split there")

const rangeCols = `SELECT r.job_id, r.id, r.start, r.end, r.cursor, r.state, r.listed, r.retry,
	r.agent, r.lease_id, r.deadline, r.leased_at, r.leases, r.errors, r.last_error,
	r.copied + r.l_copied, r.bytes + r.l_bytes, r.unchanged + r.l_unchanged,
	(SELECT count(*) FROM failed_objects f WHERE f.job_id = r.job_id AND f.range_id = r.id
		AND f.run = (SELECT run FROM jobs WHERE id = r.job_id)),
	r.started_at, r.finished_at FROM ranges r `

func scanRange(s scanner) (Range, error) {
	var r Range
	var state string
	var dl, la, st, fin int64
	err := s.Scan(&r.JobID, &r.ID, &r.Start, &r.End, &r.Cursor, &state, &r.Listed, &r.Retry,
		&r.Agent, &r.LeaseID, &dl, &la, &r.Leases, &r.Errors, &r.LastError,
		&r.Copied, &r.Bytes, &r.Unchanged, &r.Failed, &st, &fin)
	if err != nil {
		return Range{}, err
	}
	r.State = RangeState(state)
	r.Deadline, r.LeasedAt, r.StartedAt, r.FinishedAt = fromNanos(dl), fromNanos(la), fromNanos(st), fromNanos(fin)
	return r, nil
}

// queryRanges runs a range query and collects the rows.
func (m *MasterDB) queryRanges(ctx context.Context, q string, args ...any) ([]Range, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, "read ranges", scanRange, rangeCols+q, args...)
}

// Ranges returns the ranges of a job ordered by Start (retry ranges after
// the others).
func (m *MasterDB) Ranges(ctx context.Context, job string) ([]Range, error) {
	return m.queryRanges(ctx, `WHERE r.job_id = ? ORDER BY r.retry, r.start, r.id`, job)
}

// Range returns one range; an unknown one gives an error wrapping
// ErrJobNotFound.
func (m *MasterDB) Range(ctx context.Context, job string, id int) (Range, error) {
	rs, err := m.queryRanges(ctx, `WHERE r.job_id = ? AND r.id = ?`, job, id)
	if err != nil {
		return Range{}, err
	}
	if len(rs) == 0 {
		return Range{}, fmt.Errorf("range %d of job %s: %w", id, job, ErrJobNotFound)
	}
	return rs[0], nil
}

// SplitCandidates returns up to limit leased ranges of pending or running
// jobs, the longest-held lease first: the ranges worth splitting when
// agents are idle.
func (m *MasterDB) SplitCandidates(ctx context.Context, limit int) ([]Range, error) {
	return m.queryRanges(ctx, `JOIN jobs j ON j.id = r.job_id WHERE r.state = 'leased'
		AND j.state IN ('pending', 'running') AND NOT EXISTS (SELECT 1 FROM ranges h
		WHERE h.job_id = r.job_id AND h.parent = r.id AND h.state = 'held')
		ORDER BY r.leased_at, r.job_id, r.id LIMIT ?`, limit)
}

// ListedPaths returns up to limit paths of a listed range after after.
func (m *MasterDB) ListedPaths(ctx context.Context, job string, id int, after string, limit int) ([]string, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, fmt.Sprintf("read paths of range %d", id), scanString,
		`SELECT path FROM range_paths WHERE job_id = ? AND range_id = ? AND path > ? ORDER BY path LIMIT ?`, job, id, after, limit)
}

// SplitRange cuts the leased range id of job at key at: it keeps [Start,
// at) and a new range [at, End) is returned, held until the holder, told
// the lower end in the answer to its next report, confirms the cut with the
// key its walk reached (see Report). It fails with ErrNoSplit unless the
// range is still leased, has no other cut waiting, and at lies strictly
// after both its start and its cursor and before its end.
func (m *MasterDB) SplitRange(ctx context.Context, job string, id int, at string, now time.Time) (Range, error) {
	var nr Range
	err := m.tx(ctx, func(tx *sql.Tx) error {
		var start, end, cursor, state string
		var listed, retry bool
		err := tx.QueryRowContext(ctx, `SELECT start, end, cursor, state, listed, retry FROM ranges
			WHERE job_id = ? AND id = ?`, job, id).Scan(&start, &end, &cursor, &state, &listed, &retry)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("split range %d of job %s: %w", id, job, ErrNoSplit)
		}
		if err != nil {
			return fmt.Errorf("split range %d of job %s: %w", id, job, err)
		}
		if state != string(RangeLeased) || at <= start || at <= cursor || (end != "" && at >= end) {
			return fmt.Errorf("split range %d of job %s at %q: %w", id, job, at, ErrNoSplit)
		}
		if _, ok, err := findTail(ctx, tx, job, id); err != nil || ok {
			if err != nil {
				return err
			}
			return fmt.Errorf("split range %d of job %s: a cut waits for its holder: %w", id, job, ErrNoSplit)
		}
		var next int
		if err := tx.QueryRowContext(ctx, `SELECT max(id) + 1 FROM ranges WHERE job_id = ?`, job).Scan(&next); err != nil {
			return fmt.Errorf("split range %d of job %s: %w", id, job, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ranges (job_id, id, start, end, listed, retry, state, parent)
			VALUES (?, ?, ?, ?, ?, ?, 'held', ?)`, job, next, at, end, listed, retry, id); err != nil {
			return fmt.Errorf("split range %d of job %s: %w", id, job, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ranges SET end = ? WHERE job_id = ? AND id = ?`, at, job, id); err != nil {
			return fmt.Errorf("split range %d of job %s: %w", id, job, err)
		}
		if listed {
			if _, err := tx.ExecContext(ctx, `UPDATE range_paths SET range_id = ?
				WHERE job_id = ? AND range_id = ? AND path >= ?`, next, job, id, at); err != nil {
				return fmt.Errorf("split paths of range %d of job %s: %w", id, job, err)
			}
		}
		nr = Range{JobID: job, ID: next, Start: at, End: end, State: RangeHeld, Listed: listed, Retry: retry}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET updated_at = ? WHERE id = ?`, nanos(now), job); err != nil {
			return fmt.Errorf("split range %d of job %s: %w", id, job, err)
		}
		return addCounter(ctx, tx, "splits", 1)
	})
	return nr, err
}
