package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Totals are a job's (or a range's) object counters for the current run.
type Totals struct {
	Copied    int64 // objects copied and verified
	Bytes     int64 // bytes copied
	Unchanged int64 // objects already at the destination (skipped)
	Failed    int64 // objects that failed permanently (the failed list)
}

// RangeCounts counts a job's ranges by state.
type RangeCounts struct {
	Total, Pending, Leased, Done, Failed int // Pending includes held ranges
}

// Job is one job as the master stores it. Credentials are not part of it:
// only JobCreds and a lease carry them.
type Job struct {
	ID       string
	Source   string
	Dest     string
	Options  string // the caller's options, opaque JSON
	Schedule string // "" = run once
	State    JobState
	Run      int    // run number, 1 for the first run
	Error    string // why ranges failed (a whole-range error), "" none

	CreatedAt, UpdatedAt time.Time
	RunStartedAt         time.Time // first lease of the current run
	FinishedAt           time.Time // end of the current run (zero while it runs)
	NextRun              time.Time // next scheduled run (zero: none)

	Totals
	Ranges RangeCounts
}

// RangeSpec is one planned range [Start, End) of a new job. Paths, when
// set, are the only paths the range copies (a file list), sorted, all
// inside [Start, End).
type RangeSpec struct {
	Start, End string
	Paths      []string
}

// NewJob is what CreateJob stores.
type NewJob struct {
	ID, Source, Dest string
	Options          string            // opaque JSON ("" = "{}")
	Creds            map[string]string // stored with the job, handed out only in leases
	Schedule         string
	Ranges           []RangeSpec // at least one; together they must cover the job
}

// CreateJob stores a job and its ranges in one transaction. An ID already
// used gives an error wrapping ErrJobExists.
func (m *MasterDB) CreateJob(ctx context.Context, j NewJob, now time.Time) error {
	if j.ID == "" || j.Source == "" || j.Dest == "" {
		return fmt.Errorf("create job: ID, source and destination are required")
	}
	if len(j.Ranges) == 0 {
		return fmt.Errorf("create job %s: no ranges", j.ID)
	}
	if j.Options == "" {
		j.Options = "{}"
	}
	plain, err := json.Marshal(nonNilMap(j.Creds))
	if err != nil {
		return fmt.Errorf("create job %s: encode credentials: %w", j.ID, err)
	}
	creds, err := m.st.sealValue(plain)
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	return m.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs
			(id, source, dest, options, creds, schedule, state, run, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?)`,
			j.ID, j.Source, j.Dest, j.Options, creds, j.Schedule, nanos(now), nanos(now))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("create job %s: %w", j.ID, ErrJobExists)
			}
			return fmt.Errorf("create job %s: %w", j.ID, err)
		}
		for i, r := range j.Ranges {
			if err := insertRange(ctx, tx, j.ID, i+1, r, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertRange adds range id of job with its path list.
func insertRange(ctx context.Context, tx *sql.Tx, job string, id int, r RangeSpec, retry bool) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ranges (job_id, id, start, end, listed, retry)
		VALUES (?, ?, ?, ?, ?, ?)`, job, id, r.Start, r.End, r.Paths != nil, retry)
	if err != nil {
		return fmt.Errorf("insert range %d of job %s: %w", id, job, err)
	}
	if len(r.Paths) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO range_paths (job_id, range_id, path) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert paths of range %d: %w", id, err)
	}
	defer st.Close()
	for _, p := range r.Paths {
		if _, err := st.ExecContext(ctx, job, id, p); err != nil {
			return fmt.Errorf("insert paths of range %d: %w", id, err)
		}
	}
	return nil
}

// jobSelect reads a job with its totals and range counts.
const jobSelect = `SELECT j.id, j.source, j.dest, j.options, j.schedule, j.state, j.run, j.error,
	j.created_at, j.updated_at, j.run_started_at, j.finished_at, j.next_run,
	coalesce((SELECT sum(copied + l_copied) FROM ranges WHERE job_id = j.id), 0),
	coalesce((SELECT sum(bytes + l_bytes) FROM ranges WHERE job_id = j.id), 0),
	coalesce((SELECT sum(CASE WHEN retry = 1 THEN 0 ELSE unchanged + l_unchanged END) FROM ranges WHERE job_id = j.id), 0),
	(SELECT count(*) FROM failed_objects WHERE job_id = j.id AND run = j.run),
	(SELECT count(*) FROM ranges WHERE job_id = j.id),
	(SELECT count(*) FROM ranges WHERE job_id = j.id AND state IN ('pending', 'held')),
	(SELECT count(*) FROM ranges WHERE job_id = j.id AND state = 'leased'),
	(SELECT count(*) FROM ranges WHERE job_id = j.id AND state = 'done'),
	(SELECT count(*) FROM ranges WHERE job_id = j.id AND state = 'failed')
	FROM jobs j`

func scanJob(s scanner) (Job, error) {
	var j Job
	var state string
	var cr, up, rs, fin, next int64
	err := s.Scan(&j.ID, &j.Source, &j.Dest, &j.Options, &j.Schedule, &state, &j.Run, &j.Error,
		&cr, &up, &rs, &fin, &next, &j.Copied, &j.Bytes, &j.Unchanged, &j.Failed,
		&j.Ranges.Total, &j.Ranges.Pending, &j.Ranges.Leased, &j.Ranges.Done, &j.Ranges.Failed)
	if err != nil {
		return Job{}, err
	}
	j.State = JobState(state)
	j.CreatedAt, j.UpdatedAt, j.RunStartedAt = fromNanos(cr), fromNanos(up), fromNanos(rs)
	j.FinishedAt, j.NextRun = fromNanos(fin), fromNanos(next)
	return j, nil
}

// Job returns one job; an unknown ID gives an error wrapping ErrJobNotFound.
func (m *MasterDB) Job(ctx context.Context, id string) (Job, error) {
	r, err := m.reader()
	if err != nil {
		return Job{}, err
	}
	j, err := scanJob(r.QueryRowContext(ctx, jobSelect+" WHERE j.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("read job %s: %w", id, err)
	}
	return j, nil
}

// Jobs returns every job, oldest first.
func (m *MasterDB) Jobs(ctx context.Context) ([]Job, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, "list jobs", scanJob, jobSelect+" ORDER BY j.created_at, j.id")
}

// JobCreds returns the credentials stored with a job. Only the lease path
// of the master may use them; they are never part of an API answer. They
// are stored encrypted when the catalog has a secret key (OpenMaster).
func (m *MasterDB) JobCreds(ctx context.Context, id string) (map[string]string, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	var s string
	err = r.QueryRowContext(ctx, `SELECT creds FROM jobs WHERE id = ?`, id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read job %s: %w", id, err)
	}
	plain, err := m.st.openValue(s)
	if err != nil {
		return nil, fmt.Errorf("read job %s: credentials: %w", id, err)
	}
	creds := map[string]string{}
	if err := json.Unmarshal(plain, &creds); err != nil {
		return nil, fmt.Errorf("read job %s: decode credentials: %w", id, err)
	}
	return creds, nil
}

// DeleteJob removes a job with its ranges, failures and history. Agents
// still holding its leases lose them at their next report.
func (m *MasterDB) DeleteJob(ctx context.Context, id string) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		if _, err := jobState(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete job %s: %w", id, err)
		}
		return nil
	})
}

// jobState reads a job's state inside tx.
func jobState(ctx context.Context, tx *sql.Tx, id string) (JobState, error) {
	var s string
	err := tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read job %s: %w", id, err)
	}
	return JobState(s), nil
}

// setJobState writes a new state and bumps updated_at.
func setJobState(ctx context.Context, tx *sql.Tx, id string, s JobState, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?`, string(s), nanos(now), id)
	if err != nil {
		return fmt.Errorf("set state of job %s: %w", id, err)
	}
	return nil
}
