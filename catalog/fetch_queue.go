package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// FetchQueue is the fetch queue in the master's catalog file: fetch jobs
// (with their sealed credentials and keys), fetch tasks, the agents' leases
// on them and the callback schedule of finished ones. Get it from
// MasterDB.Fetch. Every change is one committed SQLite transaction before
// the method returns, so the queue survives a master killed at any point.
// It is safe for concurrent use; concurrent CreateFetchTask calls share a
// transaction (group commit). It has no object-catalog or master methods,
// and no Close: the MasterDB it came from owns the file.
type FetchQueue struct {
	st *store

	// Group commit of CreateFetchTask (fetch_create.go).
	mu      sync.Mutex
	pending []*fetchCreate
	leading bool
}

// newFetchQueue returns the fetch queue over s.
func newFetchQueue(s *store) *FetchQueue { return &FetchQueue{st: s} }

// tx runs fn in one write transaction on the writer connection.
func (q *FetchQueue) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return q.st.tx(ctx, "fetch", fn)
}

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
func (q *FetchQueue) FetchTask(ctx context.Context, id string) (FetchTask, error) {
	r, err := q.st.reader()
	if err != nil {
		return FetchTask{}, err
	}
	t, err := scanFetch(r.QueryRowContext(ctx, `SELECT `+fetchCols+` FROM fetch_tasks WHERE id = ?`, id))
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
func (q *FetchQueue) FetchCounts(ctx context.Context, jobID string) (tasks map[FetchState]int, callbacks map[CallbackState]int, err error) {
	r, err := q.st.reader()
	if err != nil {
		return nil, nil, err
	}
	tasks, callbacks = map[FetchState]int{}, map[CallbackState]int{}
	rows, err := r.QueryContext(ctx, `SELECT state, cb_state, COUNT(*) FROM fetch_tasks
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
