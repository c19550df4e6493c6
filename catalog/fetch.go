package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FetchState is the life-cycle state of a fetch task:
// pending → leased → running → done | failed (a retryable failure or an
// expired lease returns it to pending).
type FetchState string

// Fetch task states.
const (
	FetchPending FetchState = "pending" // waiting for an agent
	FetchLeased  FetchState = "leased"  // handed to an agent, not yet started
	FetchRunning FetchState = "running" // the agent is downloading it
	FetchDone    FetchState = "done"    // stored and verified
	FetchFailed  FetchState = "failed"  // gave up; LastError says why
)

// Open reports whether a task in state s is not finished yet.
func (s FetchState) Open() bool {
	return s == FetchPending || s == FetchLeased || s == FetchRunning
}

// CallbackState is the delivery state of a finished task's callback.
type CallbackState string

// Callback states.
const (
	CallbackNone      CallbackState = "none"      // no callback URL for the outcome (or not finished yet)
	CallbackPending   CallbackState = "pending"   // to be delivered at CallbackNext
	CallbackDelivered CallbackState = "delivered" // the receiver answered 2xx
	CallbackFailed    CallbackState = "failed"    // gave up after every attempt
)

// FetchMaxAttempts is how many times a task is leased before a retryable
// failure (or an abandoned lease) becomes final.
const FetchMaxAttempts = 5

// Errors of the fetch store; test with errors.Is.
var (
	// ErrFetchNotFound: no fetch task has the given ID.
	ErrFetchNotFound = errors.New("fetch task not found")
	// ErrQueueFull: the job's (or the master's) queue of unfinished fetch
	// tasks is at its limit; nothing was stored.
	ErrQueueFull = errors.New("fetch queue full")
	// ErrFetchLeaseLost: the agent no longer holds the task's lease (it
	// expired and the task went back to the queue or to another agent).
	ErrFetchLeaseLost = errors.New("fetch lease lost")
)

// NewFetchTask is what an accepted POST /fetch/ stores.
type NewFetchTask struct {
	ID, JobID, URL, Bucket, Key string
	SuccessCallback             string // "" = no success callback
	FailureCallback             string // "" = no failure callback
}

// FetchTask is one fetch task with its outcome and callback state.
type FetchTask struct {
	NewFetchTask
	State    FetchState
	Attempts int       // leases granted so far
	Agent    string    // holder of the current (or last) lease
	Deadline time.Time // lease deadline while leased or running
	// LastError is the reason of the last failed attempt ("" none).
	LastError string
	// ETag, SHA1 (lowercase hex) and Size describe the stored object once done.
	ETag, SHA1 string
	Size       int64

	CallbackState    CallbackState
	CallbackAttempts int       // deliveries tried so far
	CallbackNext     time.Time // next delivery attempt while pending
	CallbackError    string    // why the last delivery failed ("" none)

	CreatedAt, UpdatedAt, FinishedAt time.Time
}

// CallbackURL is the URL the task's outcome is reported to: the success
// callback when done, the failure callback when failed, else "".
func (t FetchTask) CallbackURL() string {
	switch t.State {
	case FetchDone:
		return t.SuccessCallback
	case FetchFailed:
		return t.FailureCallback
	}
	return ""
}

// QueueLimits bound the unfinished fetch tasks; zero means no limit.
type QueueLimits struct {
	PerJob int // unfinished tasks of the task's job
	Total  int // unfinished tasks of every job
}

// fetchTx runs fn in one write transaction on the writer connection.
func (db *DB) fetchTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.usable(true); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin fetch write: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit fetch write: %w", err)
	}
	return nil
}

// CreateFetchTask durably stores t as a pending task and returns its ID,
// committed before it returns. When an unfinished task with the same JobID,
// URL, Bucket and Key exists, nothing is stored and that task's ID is
// returned with dup set. Otherwise, when lim is reached, it returns an
// error wrapping ErrQueueFull and stores nothing.
func (db *DB) CreateFetchTask(ctx context.Context, t NewFetchTask, now time.Time, lim QueueLimits) (id string, dup bool, err error) {
	if t.ID == "" || t.JobID == "" || t.URL == "" || t.Bucket == "" || t.Key == "" {
		return "", false, fmt.Errorf("create fetch task: ID, JobID, URL, Bucket and Key are required")
	}
	err = db.fetchTx(ctx, func(tx *sql.Tx) error {
		s, err := prepareCreate(ctx, tx)
		if err != nil {
			return err
		}
		id, dup, err = createFetch(ctx, s, t, now, lim)
		return err
	})
	if err != nil {
		return "", false, err
	}
	return id, dup, nil
}

// createStmts are the statements of createFetch, prepared once per
// transaction.
type createStmts struct {
	dup, countJob, countAll, insert *sql.Stmt
}

// prepareCreate prepares createStmts on tx (closed with the transaction).
func prepareCreate(ctx context.Context, tx *sql.Tx) (*createStmts, error) {
	var s createStmts
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.dup, `SELECT id FROM fetch_tasks WHERE job_id = ? AND bucket = ? AND key = ?
			AND url = ? AND state IN ('pending', 'leased', 'running') ORDER BY created_at LIMIT 1`},
		{&s.countJob, `SELECT n FROM fetch_open_counts WHERE job_id = ?`},
		{&s.countAll, `SELECT COALESCE(SUM(n), 0) FROM fetch_open_counts`},
		{&s.insert, `INSERT INTO fetch_tasks (id, job_id, url, bucket, key, success_cb,
			failure_cb, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, fmt.Errorf("prepare fetch task insert: %w", err)
		}
		*p.st = st
	}
	return &s, nil
}

// createFetch is CreateFetchTask inside the transaction of s.
func createFetch(ctx context.Context, s *createStmts, t NewFetchTask, now time.Time, lim QueueLimits) (id string, dup bool, err error) {
	err = s.dup.QueryRowContext(ctx, t.JobID, t.Bucket, t.Key, t.URL).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("find duplicate fetch task: %w", err)
	}
	if err := checkQueue(ctx, s, t.JobID, lim); err != nil {
		return "", false, err
	}
	_, err = s.insert.ExecContext(ctx, t.ID, t.JobID, t.URL, t.Bucket, t.Key, t.SuccessCallback, t.FailureCallback,
		nanos(now), nanos(now))
	if err != nil {
		return "", false, fmt.Errorf("insert fetch task: %w", err)
	}
	return t.ID, false, nil
}

// checkQueue returns ErrQueueFull when a limit of lim is reached. The
// counts come from fetch_open_counts (kept by triggers).
func checkQueue(ctx context.Context, s *createStmts, job string, lim QueueLimits) error {
	if lim.PerJob > 0 {
		var n int
		err := s.countJob.QueryRowContext(ctx, job).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("count queued fetch tasks: %w", err)
		}
		if n >= lim.PerJob {
			return fmt.Errorf("job %s has %d unfinished fetch tasks (limit %d): %w", job, n, lim.PerJob, ErrQueueFull)
		}
	}
	if lim.Total > 0 {
		var n int
		if err := s.countAll.QueryRowContext(ctx).Scan(&n); err != nil {
			return fmt.Errorf("count queued fetch tasks: %w", err)
		}
		if n >= lim.Total {
			return fmt.Errorf("%d unfinished fetch tasks (limit %d): %w", n, lim.Total, ErrQueueFull)
		}
	}
	return nil
}

// fetchCols are the columns scanFetch reads, in order.
const fetchCols = `id, job_id, url, bucket, key, success_cb, failure_cb, state, attempts, agent, deadline,
	last_error, etag, sha1, size, cb_state, cb_attempts, cb_next, cb_error, created_at, updated_at, finished_at`

// scanFetch reads one row selected with fetchCols.
func scanFetch(sc scanner) (FetchTask, error) {
	var t FetchTask
	var deadline, cbNext, created, updated, finished int64
	err := sc.Scan(&t.ID, &t.JobID, &t.URL, &t.Bucket, &t.Key, &t.SuccessCallback, &t.FailureCallback,
		&t.State, &t.Attempts, &t.Agent, &deadline, &t.LastError, &t.ETag, &t.SHA1, &t.Size,
		&t.CallbackState, &t.CallbackAttempts, &cbNext, &t.CallbackError, &created, &updated, &finished)
	if err != nil {
		return FetchTask{}, err
	}
	t.Deadline, t.CallbackNext = fromNanos(deadline), fromNanos(cbNext)
	t.CreatedAt, t.UpdatedAt, t.FinishedAt = fromNanos(created), fromNanos(updated), fromNanos(finished)
	return t, nil
}

// FetchTask returns the task with the given ID, or an error wrapping
// ErrFetchNotFound.
func (db *DB) FetchTask(ctx context.Context, id string) (FetchTask, error) {
	if err := db.usable(false); err != nil {
		return FetchTask{}, err
	}
	t, err := scanFetch(db.r.QueryRowContext(ctx, `SELECT `+fetchCols+` FROM fetch_tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return FetchTask{}, fmt.Errorf("fetch task %s: %w", id, ErrFetchNotFound)
	}
	if err != nil {
		return FetchTask{}, fmt.Errorf("read fetch task %s: %w", id, err)
	}
	return t, nil
}

// FetchCounts counts fetch tasks by state, and finished tasks by callback
// state; jobID "" counts every job.
func (db *DB) FetchCounts(ctx context.Context, jobID string) (tasks map[FetchState]int, callbacks map[CallbackState]int, err error) {
	if err := db.usable(false); err != nil {
		return nil, nil, err
	}
	tasks, callbacks = map[FetchState]int{}, map[CallbackState]int{}
	rows, err := db.r.QueryContext(ctx, `SELECT state, cb_state, COUNT(*) FROM fetch_tasks
		WHERE ?1 = '' OR job_id = ?1 GROUP BY state, cb_state`, jobID)
	if err != nil {
		return nil, nil, fmt.Errorf("count fetch tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s FetchState
		var cs CallbackState
		var n int
		if err := rows.Scan(&s, &cs, &n); err != nil {
			return nil, nil, fmt.Errorf("count fetch tasks: %w", err)
		}
		tasks[s] += n
		if !s.Open() {
			callbacks[cs] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("count fetch tasks: %w", err)
	}
	return tasks, callbacks, nil
}
