package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxFetchBatch bounds the tasks one group commit stores.
const maxFetchBatch = 256

// FetchQueue stores fetch tasks from many goroutines with group commit:
// concurrent CreateFetchTask calls share one transaction (the first caller
// to find no commit in progress runs it for everyone waiting), and each
// call still returns only after its own task is committed. Its answers are
// exactly those of DB.CreateFetchTask called one at a time in arrival
// order. Other methods are the DB's.
type FetchQueue struct {
	*DB

	mu      sync.Mutex
	pending []*fetchCreate
	leading bool
}

// NewFetchQueue returns a FetchQueue over db.
func NewFetchQueue(db *DB) *FetchQueue { return &FetchQueue{DB: db} }

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

// CreateFetchTask is DB.CreateFetchTask with group commit.
func (q *FetchQueue) CreateFetchTask(ctx context.Context, t NewFetchTask, now time.Time, lim QueueLimits) (string, bool, error) {
	if t.ID == "" || t.JobID == "" || t.URL == "" || t.Bucket == "" || t.Key == "" {
		return "", false, fmt.Errorf("create fetch task: ID, JobID, URL, Bucket and Key are required")
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
				c.id, c.dup, c.err = q.DB.CreateFetchTask(ctx, c.t, c.now, c.lim)
			}
		}
		for _, c := range batch {
			close(c.done)
		}
	}
}

// commit stores a batch in one transaction, setting each call's answer.
func (q *FetchQueue) commit(ctx context.Context, batch []*fetchCreate) error {
	return q.fetchTx(ctx, func(tx *sql.Tx) error {
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
