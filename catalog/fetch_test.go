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

var ft0 = time.Unix(1700000000, 0)

func newFetch(id string) NewFetchTask {
	return NewFetchTask{ID: id, JobID: "job1", URL: "http://origin/" + id, Bucket: "b", Key: "k/" + id,
		SuccessCallback: "http://app/ok", FailureCallback: "http://app/fail"}
}

func mustCreate(t *testing.T, db *FetchQueue, nt NewFetchTask, now time.Time) string {
	t.Helper()
	id, dup, err := db.CreateFetchTask(context.Background(), nt, now, QueueLimits{})
	if err != nil || dup {
		t.Fatalf("CreateFetchTask(%s) = %q, dup %v, %v", nt.ID, id, dup, err)
	}
	return id
}

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

func TestFetchQueue_LeaseFetchTasks(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	for i := range 5 {
		mustCreate(t, db, newFetch(fmt.Sprintf("t%d", i)), ft0.Add(time.Duration(i)*time.Second))
	}
	a, err := db.LeaseFetchTasks(ctx, "agent-a", 3, ft0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 || a[0].ID != "t0" || a[2].ID != "t2" {
		t.Fatalf("first lease = %v", fetchIDs(a))
	}
	for _, ts := range a {
		if ts.State != FetchLeased || ts.Agent != "agent-a" || ts.Attempts != 1 || !ts.Deadline.Equal(ft0.Add(time.Minute)) {
			t.Fatalf("leased task = %+v", ts)
		}
	}
	b, err := db.LeaseFetchTasks(ctx, "agent-b", 10, ft0, time.Minute)
	if err != nil || len(b) != 2 || b[0].ID != "t3" {
		t.Fatalf("second lease = %v, %v", fetchIDs(b), err)
	}
	// agent-b cannot renew or finish agent-a's task.
	if err := db.RenewFetchLease(ctx, "t0", "agent-b", ft0, time.Minute); !errors.Is(err, ErrFetchLeaseLost) {
		t.Fatalf("renew by another agent: %v", err)
	}
	if err := db.RenewFetchLease(ctx, "nope", "agent-b", ft0, time.Minute); !errors.Is(err, ErrFetchNotFound) {
		t.Fatalf("renew unknown: %v", err)
	}
	// agent-a renews t0 (running) but lets t1 and t2 expire.
	if err := db.RenewFetchLease(ctx, "t0", "agent-a", ft0.Add(50*time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	c, err := db.LeaseFetchTasks(ctx, "agent-c", 10, ft0.Add(90*time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// t1, t2 (agent-a) and t3, t4 (agent-b) expired; t0 was renewed.
	if got := fetchIDs(c); fmt.Sprint(got) != "[t1 t2 t3 t4]" {
		t.Fatalf("after expiry agent-c got %v", got)
	}
	if c[0].Attempts != 2 {
		t.Fatalf("re-leased attempts = %d, want 2", c[0].Attempts)
	}
	if err := db.FinishFetchTask(ctx, "t1", "agent-a", FetchOutcome{OK: true}, ft0); !errors.Is(err, ErrFetchLeaseLost) {
		t.Fatalf("finish by the expired holder: %v", err)
	}
	got, _ := db.FetchTask(ctx, "t0")
	if got.State != FetchRunning {
		t.Fatalf("renewed task state = %s", got.State)
	}
}

func TestFetchQueue_FinishFetchTask(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	nocb := newFetch("nocb")
	nocb.SuccessCallback, nocb.FailureCallback = "", ""
	for _, nt := range []NewFetchTask{newFetch("ok"), newFetch("bad"), newFetch("flaky"), nocb} {
		mustCreate(t, db, nt, ft0)
	}
	if _, err := db.LeaseFetchTasks(ctx, "ag", 10, ft0, time.Minute); err != nil {
		t.Fatal(err)
	}
	now := ft0.Add(time.Second)
	fmust(t, db.FinishFetchTask(ctx, "ok", "ag", FetchOutcome{OK: true, ETag: "E", SHA1: "s1", Size: 42}, now))
	fmust(t, db.FinishFetchTask(ctx, "bad", "ag", FetchOutcome{Error: "source returned 404 Not Found"}, now))
	fmust(t, db.FinishFetchTask(ctx, "flaky", "ag", FetchOutcome{Error: "reset", Retry: true}, now))
	fmust(t, db.FinishFetchTask(ctx, "nocb", "ag", FetchOutcome{OK: true, Size: 1}, now))

	ok, _ := db.FetchTask(ctx, "ok")
	if ok.State != FetchDone || ok.ETag != "E" || ok.SHA1 != "s1" || ok.Size != 42 ||
		ok.CallbackState != CallbackPending || !ok.CallbackNext.Equal(now) || ok.CallbackURL() != "http://app/ok" ||
		!ok.FinishedAt.Equal(now) {
		t.Fatalf("done task = %+v", ok)
	}
	bad, _ := db.FetchTask(ctx, "bad")
	if bad.State != FetchFailed || bad.LastError != "source returned 404 Not Found" ||
		bad.CallbackState != CallbackPending || bad.CallbackURL() != "http://app/fail" {
		t.Fatalf("failed task = %+v", bad)
	}
	n, _ := db.FetchTask(ctx, "nocb")
	if n.State != FetchDone || n.CallbackState != CallbackNone {
		t.Fatalf("task without callbacks = %+v", n)
	}
	// The transient failure is retried until FetchMaxAttempts leases.
	for i := 2; i <= FetchMaxAttempts; i++ {
		f, _ := db.FetchTask(ctx, "flaky")
		if f.State != FetchPending || f.LastError != "reset" || f.CallbackState != CallbackNone {
			t.Fatalf("attempt %d: flaky = %+v", i, f)
		}
		ts, err := db.LeaseFetchTasks(ctx, "ag", 10, now, time.Minute)
		if err != nil || len(ts) != 1 || ts[0].Attempts != i {
			t.Fatalf("attempt %d: lease = %+v, %v", i, ts, err)
		}
		fmust(t, db.FinishFetchTask(ctx, "flaky", "ag", FetchOutcome{Error: "reset", Retry: true}, now))
	}
	checkOpenCounts(t, db)
	f, _ := db.FetchTask(ctx, "flaky")
	if f.State != FetchFailed || f.CallbackState != CallbackPending {
		t.Fatalf("after %d attempts flaky = %+v", FetchMaxAttempts, f)
	}
	tasks, cbs, err := db.FetchCounts(ctx, "job1")
	if err != nil || tasks[FetchDone] != 2 || tasks[FetchFailed] != 2 || cbs[CallbackPending] != 3 || cbs[CallbackNone] != 1 {
		t.Fatalf("counts = %v %v %v", tasks, cbs, err)
	}
}

func TestFetchQueue_ExpireFetchLeases(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	mustCreate(t, db, newFetch("a"), ft0)
	now := ft0
	for i := 1; i <= FetchMaxAttempts; i++ {
		ts, err := db.LeaseFetchTasks(ctx, "ag", 1, now, time.Minute)
		if err != nil || len(ts) != 1 {
			t.Fatalf("lease %d: %v %v", i, ts, err)
		}
		now = now.Add(2 * time.Minute)
		n, err := db.ExpireFetchLeases(ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("expire %d = %d, %v", i, n, err)
		}
	}
	checkOpenCounts(t, db)
	a, _ := db.FetchTask(ctx, "a")
	if a.State != FetchFailed || a.CallbackState != CallbackPending || a.LastError == "" {
		t.Fatalf("abandoned task = %+v", a)
	}
	// ExtendFetchLeases keeps a lease alive past its deadline.
	mustCreate(t, db, newFetch("b"), now)
	if _, err := db.LeaseFetchTasks(ctx, "ag", 1, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	fmust(t, db.ExtendFetchLeases(ctx, now.Add(time.Hour)))
	if n, err := db.ExpireFetchLeases(ctx, now.Add(30*time.Minute)); err != nil || n != 0 {
		t.Fatalf("expired after extension: %d, %v", n, err)
	}
}

func TestFetchQueue_DueCallbacks(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	for _, id := range []string{"a", "b", "c"} {
		mustCreate(t, db, newFetch(id), ft0)
	}
	if _, err := db.LeaseFetchTasks(ctx, "ag", 10, ft0, time.Minute); err != nil {
		t.Fatal(err)
	}
	fmust(t, db.FinishFetchTask(ctx, "a", "ag", FetchOutcome{OK: true}, ft0))
	fmust(t, db.FinishFetchTask(ctx, "b", "ag", FetchOutcome{Error: "x"}, ft0.Add(time.Second)))
	if at, ok, err := db.NextCallback(ctx); err != nil || !ok || !at.Equal(ft0) {
		t.Fatalf("NextCallback = %v %v %v", at, ok, err)
	}
	due, err := db.DueCallbacks(ctx, ft0.Add(time.Second), 10, time.Minute)
	if err != nil || fmt.Sprint(fetchIDs(due)) != "[a b]" {
		t.Fatalf("due = %v, %v", fetchIDs(due), err)
	}
	// Claimed: not due again until the hold passes.
	if again, _ := db.DueCallbacks(ctx, ft0.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("claimed callbacks returned again: %v", fetchIDs(again))
	}
	fmust(t, db.MarkCallback(ctx, "a", CallbackAttempt{Delivered: true}, ft0))
	fmust(t, db.MarkCallback(ctx, "b", CallbackAttempt{Error: "503", Next: ft0.Add(10 * time.Second)}, ft0))
	due, _ = db.DueCallbacks(ctx, ft0.Add(10*time.Second), 10, time.Minute)
	if fmt.Sprint(fetchIDs(due)) != "[b]" || due[0].CallbackAttempts != 1 || due[0].CallbackError != "503" {
		t.Fatalf("due after retry = %+v", due)
	}
	fmust(t, db.MarkCallback(ctx, "b", CallbackAttempt{Error: "503 again"}, ft0))
	b, _ := db.FetchTask(ctx, "b")
	if b.CallbackState != CallbackFailed || b.CallbackAttempts != 2 {
		t.Fatalf("given-up callback = %+v", b)
	}
	a, _ := db.FetchTask(ctx, "a")
	if a.CallbackState != CallbackDelivered || a.CallbackAttempts != 1 {
		t.Fatalf("delivered callback = %+v", a)
	}
	// A delivered callback is never marked again.
	fmust(t, db.MarkCallback(ctx, "a", CallbackAttempt{Error: "late"}, ft0))
	if a, _ = db.FetchTask(ctx, "a"); a.CallbackState != CallbackDelivered {
		t.Fatalf("delivered callback changed: %+v", a)
	}
	if _, ok, _ := db.NextCallback(ctx); ok {
		t.Fatal("NextCallback reports a pending callback after all were settled")
	}
	if err := db.MarkCallback(ctx, "zz", CallbackAttempt{Delivered: true}, ft0); !errors.Is(err, ErrFetchNotFound) {
		t.Fatalf("mark unknown: %v", err)
	}
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

func fetchIDs(ts []FetchTask) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func fmust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFetchQueue_CreateFetchJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	m := mustOpenMaster(t, path)
	db := m.Fetch()
	j := FetchJob{ID: "fj1", Dest: "us3://b", Creds: map[string]string{"US3_PUBLIC_KEY": "p"},
		AllowedBuckets: []string{"b", "c"}, Keys: []FetchKey{{"pub", "priv"}, {"pub2", "priv2"}},
		Concurrency: 3, AllowPrivateURLs: true, MaxQueue: 7}
	fmust(t, db.CreateFetchJob(ctx, j, ft0))
	if err := db.CreateFetchJob(ctx, j, ft0); !errors.Is(err, ErrJobExists) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if err := db.CreateFetchJob(ctx, FetchJob{ID: "x", Dest: "us3://b"}, ft0); err == nil {
		t.Fatal("job without keys stored")
	}
	fmust(t, db.CreateFetchJob(ctx, FetchJob{ID: "fj2", Dest: "/data", Keys: []FetchKey{{"a", "b"}}}, ft0.Add(time.Second)))
	m.Close()
	m = mustOpenMaster(t, path)
	defer m.Close()
	db = m.Fetch()
	got, err := db.FetchJob(ctx, "fj1")
	if err != nil {
		t.Fatal(err)
	}
	j.CreatedAt = ft0
	if fmt.Sprint(got) != fmt.Sprint(j) {
		t.Fatalf("job after reopen = %+v, want %+v", got, j)
	}
	all, err := db.FetchJobs(ctx)
	if err != nil || len(all) != 2 || all[1].ID != "fj2" || all[1].Creds == nil || all[1].AllowedBuckets == nil {
		t.Fatalf("FetchJobs = %+v, %v", all, err)
	}
	if _, err := db.FetchJob(ctx, "nope"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
	// Deleting fails its unfinished tasks and keeps finished ones.
	open, done := newFetch("open"), newFetch("done")
	open.JobID, done.JobID = "fj1", "fj1"
	mustCreate(t, db, open, ft0)
	mustCreate(t, db, done, ft0.Add(time.Second))
	if _, err := db.LeaseFetchTasks(ctx, "ag", 2, ft0, time.Minute); err != nil {
		t.Fatal(err)
	}
	fmust(t, db.FinishFetchTask(ctx, "done", "ag", FetchOutcome{OK: true}, ft0))
	fmust(t, db.DeleteFetchJob(ctx, "fj1", ft0))
	if err := db.DeleteFetchJob(ctx, "fj1", ft0); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	checkOpenCounts(t, db)
	o, _ := db.FetchTask(ctx, "open")
	d, _ := db.FetchTask(ctx, "done")
	if o.State != FetchFailed || o.LastError != "fetch job deleted" || o.CallbackState != CallbackPending || d.State != FetchDone {
		t.Fatalf("after delete: open %+v, done %+v", o, d)
	}
}

// checkOpenCounts compares the trigger-kept counts with the tasks.
func checkOpenCounts(t *testing.T, db *FetchQueue) {
	t.Helper()
	rows, err := db.st.r.Query(`SELECT j, a, b FROM (
		SELECT job_id AS j, n AS a, (SELECT COUNT(*) FROM fetch_tasks t WHERE t.job_id = c.job_id
			AND t.state IN ('pending', 'leased', 'running')) AS b FROM fetch_open_counts c
		UNION ALL
		SELECT job_id, 0, COUNT(*) FROM fetch_tasks WHERE state IN ('pending', 'leased', 'running')
			AND job_id NOT IN (SELECT job_id FROM fetch_open_counts) GROUP BY job_id)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var j string
		var a, b int
		if err := rows.Scan(&j, &a, &b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("job %s: open count %d, %d unfinished tasks", j, a, b)
		}
	}
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
