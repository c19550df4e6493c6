package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MasterDB is the master's state in its catalog file: jobs (with their
// sealed credentials), their path ranges and leases, agents, failed
// objects, counters and run history. Every state change is one committed
// SQLite transaction before the method returns, so a master killed at any
// point restarts exactly where it was. The fetch queue in the same file is
// a distinct type, reached through Fetch; MasterDB has no object-catalog
// or fetch methods.
//
// MasterDB knows nothing of cron or HTTP: the caller passes the clock
// (now) and a NextRun function for schedules.
type MasterDB struct {
	st    *store
	fetch *FetchQueue
	// nextRun computes a schedule's next run after t; zero means never.
	nextRun func(schedule string, t time.Time) time.Time
}

// JobState is the life-cycle state of a job.
type JobState string

// Job states. A job is pending until its first range is leased, running
// while ranges remain, and then done (every object copied or unchanged) or
// failed (finished, but some objects or ranges failed; the failed list says
// which). paused stops new leases and tells agents to stop; canceled is
// final. A scheduled job returns from done/failed to pending at its next run.
const (
	JobPending  JobState = "pending"
	JobRunning  JobState = "running"
	JobPaused   JobState = "paused"
	JobDone     JobState = "done"
	JobFailed   JobState = "failed"
	JobCanceled JobState = "canceled"
)

// RangeState is the state of one path range of a job's current run.
type RangeState string

// Range states: pending ranges wait for a lease (with their last cursor),
// leased ones are being copied, done ones are finished, failed ones gave a
// whole-range error (not an object error) too often. A held range was split
// off a leased one and waits until that range's holder confirms it will
// not walk past the cut (or its lease ends), so no object is copied by both.
const (
	RangePending RangeState = "pending"
	RangeLeased  RangeState = "leased"
	RangeDone    RangeState = "done"
	RangeFailed  RangeState = "failed"
	RangeHeld    RangeState = "held"
)

// Errors of the master store; test with errors.Is.
var (
	// ErrJobNotFound: no job has the given ID.
	ErrJobNotFound = errors.New("job not found")
	// ErrJobExists: CreateJob with an ID already taken.
	ErrJobExists = errors.New("job already exists")
	// ErrJobState: the action is not possible in the job's current state.
	ErrJobState = errors.New("not possible in the job's current state")
	// ErrLeaseLost: a report for a lease that is no longer the range's.
	ErrLeaseLost = errors.New("lease lost")
)

// maxRangeErrors is how many whole-range errors make a range failed.
const maxRangeErrors = 3

// OpenMaster opens (creating if missing) the catalog at path for the master.
// nextRun computes the next run of a schedule after a time (zero: never);
// nil means jobs are never re-run.
//
// opts give the secret key that encrypts job credentials and fetch keys
// (WithSecretKey, WithSecretKeyFile); `ferry master` always gives one. With
// a key, plain secrets of an older catalog are encrypted at open (migration
// 8, then on every open for any a keyless open wrote), and a key that is
// not the catalog's gives an error wrapping ErrSecretKey before anything is
// written. Without one it behaves as Open.
func OpenMaster(ctx context.Context, path string, nextRun func(schedule string, t time.Time) time.Time, opts ...Option) (*MasterDB, error) {
	s, err := openStore(ctx, path, allMigrations(), opts...)
	if err != nil {
		return nil, err
	}
	return newMasterDB(s, nextRun), nil
}

// newMasterDB wraps an open store; nil nextRun never re-runs a job.
func newMasterDB(s *store, nextRun func(schedule string, t time.Time) time.Time) *MasterDB {
	if nextRun == nil {
		nextRun = func(string, time.Time) time.Time { return time.Time{} }
	}
	return &MasterDB{st: s, fetch: newFetchQueue(s), nextRun: nextRun}
}

// Fetch returns the fetch queue stored in the master's file: fetch jobs,
// tasks, their leases and callbacks. There is one per MasterDB, so
// concurrent CreateFetchTask calls share its group commit; it is usable
// until the MasterDB is closed.
func (m *MasterDB) Fetch() *FetchQueue { return m.fetch }

// Close closes the catalog file (and with it the fetch queue) and releases
// its lock.
func (m *MasterDB) Close() error { return m.st.close() }

// tx runs fn in one write transaction on the writer connection.
func (m *MasterDB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return m.st.tx(ctx, "master", fn)
}

// reader returns the read pool after checking the catalog is open.
func (m *MasterDB) reader() (*sql.DB, error) { return m.st.reader() }

// addCounter adds delta to the named counter inside tx.
func addCounter(ctx context.Context, tx *sql.Tx, name string, delta int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET value = value + excluded.value`, name, delta)
	if err != nil {
		return fmt.Errorf("add counter %s: %w", name, err)
	}
	return nil
}

// Counters returns every named counter (lease_expiries, leases_granted,
// splits, runs_started, …).
func (m *MasterDB) Counters(ctx context.Context) (map[string]int64, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	rows, err := r.QueryContext(ctx, `SELECT name, value FROM counters`)
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return out, nil
}
