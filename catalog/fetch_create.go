package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// maxFetchBatch bounds the tasks one group commit stores.
const maxFetchBatch = 256

// fetchCreate is one waiting CreateFetchTask call.
type fetchCreate struct {
	t    NewFetchTask
	now  time.Time
	lim  QueueLimits
	id   string
	dup  bool
	err  error
	done chan struct{}
}

// CreateFetchTask durably stores t as a pending task and returns its ID,
// committed before it returns. When an unfinished task with the same JobID,
// URL, Bucket and Key exists, nothing is stored and that task's ID is
// returned with dup set. Otherwise, when lim is reached, it returns an
// error wrapping ErrQueueFull and stores nothing.
//
// Concurrent calls share one transaction (group commit: the first caller
// to find no commit in progress runs it for everyone waiting), and each
// call still returns only after its own task is committed. The answers are
// exactly those of the calls made one at a time in arrival order.
func (q *FetchQueue) CreateFetchTask(ctx context.Context, t NewFetchTask, now time.Time, lim QueueLimits) (string, bool, error) {
	if err := validFetch(t); err != nil {
		return "", false, err
	}
	c := &fetchCreate{t: t, now: now, lim: lim, done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, c)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	if lead {
		// The batch must not fail because this caller went away.
		q.lead(context.WithoutCancel(ctx))
	}
	select {
	case <-c.done:
		return c.id, c.dup, c.err
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

// lead commits batches until nobody waits.
func (q *FetchQueue) lead(ctx context.Context) {
	for {
		q.mu.Lock()
		n := min(len(q.pending), maxFetchBatch)
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		if n == 0 {
			q.leading = false
			q.pending = nil
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if err := q.commit(ctx, batch); err != nil {
			// Something other than a refusal went wrong: give each call
			// its own transaction, so one bad task cannot fail the others.
			for _, c := range batch {
				c.id, c.dup, c.err = q.createOne(ctx, c.t, c.now, c.lim)
			}
		}
		for _, c := range batch {
			close(c.done)
		}
	}
}

// commit stores a batch in one transaction, setting each call's answer.
func (q *FetchQueue) commit(ctx context.Context, batch []*fetchCreate) error {
	return q.tx(ctx, func(tx *sql.Tx) error {
		s, err := prepareCreate(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range batch {
			c.id, c.dup, c.err = createFetch(ctx, s, c.t, c.now, c.lim)
			if c.err != nil && !errors.Is(c.err, ErrQueueFull) {
				return c.err
			}
		}
		return nil
	})
}

// validFetch refuses a task without an ID, job, URL, bucket or key.
func validFetch(t NewFetchTask) error {
	if t.ID == "" || t.JobID == "" || t.URL == "" || t.Bucket == "" || t.Key == "" {
		return fmt.Errorf("create fetch task: ID, JobID, URL, Bucket and Key are required")
	}
	return nil
}

// createOne is CreateFetchTask in a transaction of its own, without group
// commit: what a call whose batch failed for another reason than a
// refusal falls back to.
func (q *FetchQueue) createOne(ctx context.Context, t NewFetchTask, now time.Time, lim QueueLimits) (id string, dup bool, err error) {
	if err := validFetch(t); err != nil {
		return "", false, err
	}
	err = q.tx(ctx, func(tx *sql.Tx) error {
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
