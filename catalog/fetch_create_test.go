package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestFetchQueue_CreateFetchTask(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	m := mustOpenMaster(t, path)
	db := m.Fetch()
	mustCreate(t, db, newFetch("a"), ft0)
	// An identical request while the first is unfinished returns its ID.
	again := newFetch("a2")
	again.URL, again.Key = "http://origin/a", "k/a"
	id, dup, err := db.CreateFetchTask(ctx, again, ft0.Add(time.Second), QueueLimits{PerJob: 1})
	if err != nil || !dup || id != "a" {
		t.Fatalf("duplicate = %q, dup %v, %v; want a, true", id, dup, err)
	}
	// Missing fields are refused.
	if _, _, err := db.CreateFetchTask(ctx, NewFetchTask{ID: "x", JobID: "j"}, ft0, QueueLimits{}); err == nil {
		t.Fatal("CreateFetchTask without URL succeeded")
	}
	// Committed: visible after a reopen, with every field.
	m.Close()
	m = mustOpenMaster(t, path)
	defer m.Close()
	db = m.Fetch()
	got, err := db.FetchTask(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.NewFetchTask != newFetch("a") || got.State != FetchPending || got.CallbackState != CallbackNone ||
		!got.CreatedAt.Equal(ft0) || got.Attempts != 0 {
		t.Fatalf("task after reopen = %+v", got)
	}
	if _, err := db.FetchTask(ctx, "a2"); !errors.Is(err, ErrFetchNotFound) {
		t.Fatalf("duplicate was stored: %v", err)
	}
}

func TestFetchQueue_CreateFetchTask_queueFull(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	mustCreate(t, db, newFetch("a"), ft0)
	mustCreate(t, db, newFetch("b"), ft0)
	other := newFetch("c")
	other.JobID = "job2"
	mustCreate(t, db, other, ft0)
	if _, _, err := db.CreateFetchTask(ctx, newFetch("d"), ft0, QueueLimits{PerJob: 2}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("per-job limit: err = %v, want ErrQueueFull", err)
	}
	if _, _, err := db.CreateFetchTask(ctx, newFetch("d"), ft0, QueueLimits{Total: 3}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("total limit: err = %v, want ErrQueueFull", err)
	}
	if _, err := db.FetchTask(ctx, "d"); !errors.Is(err, ErrFetchNotFound) {
		t.Fatalf("refused task was stored: %v", err)
	}
	// A finished task frees its slot.
	ts, err := db.LeaseFetchTasks(ctx, "ag", 1, ft0, time.Minute)
	if err != nil || len(ts) != 1 || ts[0].ID != "a" {
		t.Fatalf("lease = %+v, %v", ts, err)
	}
	if err := db.FinishFetchTask(ctx, "a", "ag", FetchOutcome{OK: true}, ft0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateFetchTask(ctx, newFetch("d"), ft0, QueueLimits{PerJob: 2, Total: 3}); err != nil {
		t.Fatalf("after a task finished: %v", err)
	}
	checkOpenCounts(t, db)
}

func TestFetchQueue_CreateFetchTask_groupCommit(t *testing.T) {
	ctx := context.Background()
	q := openQueue(t)
	var mu sync.Mutex
	byKey := map[string]map[string]bool{}
	full := 0
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Keys 0..149, each twice; the job may hold 100 unfinished tasks.
			nt := newFetch(fmt.Sprintf("id%d", i))
			nt.URL, nt.Key = fmt.Sprintf("http://origin/%d", i%150), fmt.Sprintf("k/%d", i%150)
			id, _, err := q.CreateFetchTask(ctx, nt, ft0, QueueLimits{PerJob: 100})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrQueueFull):
				full++
			case err != nil:
				t.Error(err)
			default:
				if byKey[nt.Key] == nil {
					byKey[nt.Key] = map[string]bool{}
				}
				byKey[nt.Key][id] = true
			}
		}()
	}
	wg.Wait()
	tasks, _, err := q.FetchCounts(ctx, "")
	if err != nil || tasks[FetchPending] != 100 {
		t.Fatalf("pending = %v, %v; want 100", tasks, err)
	}
	if len(byKey) != 100 {
		t.Fatalf("%d keys accepted, want 100", len(byKey))
	}
	for k, ids := range byKey {
		if len(ids) != 1 {
			t.Fatalf("key %s got TaskIds %v", k, ids)
		}
		for id := range ids {
			if got, err := q.FetchTask(ctx, id); err != nil || got.Key != k {
				t.Fatalf("answered TaskId %s for %s is not stored: %+v %v", id, k, got, err)
			}
		}
	}
	if full != 100 {
		t.Fatalf("%d refusals, want 100 (50 keys, twice each)", full)
	}
	// A canceled caller gets its context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := q.CreateFetchTask(cctx, newFetch("late"), ft0, QueueLimits{}); !errors.Is(err, context.Canceled) && err != nil {
		t.Fatalf("canceled create: %v", err)
	}
	checkOpenCounts(t, q)
}

// Without group commit (the path a failed batch falls back to), each call
// in its own transaction.
func TestFetchQueue_createOne_concurrent(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every pair i, i+100 is the same request: one of the two wins.
			nt := newFetch(fmt.Sprintf("id%d", i))
			nt.URL, nt.Key = fmt.Sprintf("http://origin/%d", i%100), fmt.Sprintf("k/%d", i%100)
			if _, _, err := db.createOne(ctx, nt, ft0, QueueLimits{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tasks, _, err := db.FetchCounts(ctx, "")
	if err != nil || tasks[FetchPending] != 100 {
		t.Fatalf("pending = %v, %v; want 100", tasks, err)
	}
}
