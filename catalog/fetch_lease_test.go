package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

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
