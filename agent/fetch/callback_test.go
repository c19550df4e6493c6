package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// receiver records callbacks; status is what it answers.
type receiver struct {
	mu     sync.Mutex
	bodies map[string][]string // path → bodies
	status int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	if rc.bodies == nil {
		rc.bodies = map[string][]string{}
	}
	rc.bodies[r.URL.Path] = append(rc.bodies[r.URL.Path], string(b))
	st := rc.status
	rc.mu.Unlock()
	if r.Header.Get("Content-Type") != "application/json" {
		st = http.StatusUnsupportedMediaType
	}
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
}

func (rc *receiver) got(path string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies[path]...)
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveAt serves h on addr until the test ends.
func serveAt(t testing.TB, addr string, h http.Handler) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// eventually polls cond until it holds or the test's patience runs out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finished stores two tasks and finishes them: "ok" done, "bad" failed.
func finished(t testing.TB, db *catalog.FetchQueue, cbBase string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for _, id := range []string{"ok", "bad"} {
		if _, _, err := db.CreateFetchTask(ctx, catalog.NewFetchTask{ID: id, JobID: "j", URL: "http://origin/" + id + "?a=b",
			Bucket: "b", Key: "key/" + id, SuccessCallback: cbBase + "/ok", FailureCallback: cbBase + "/fail"}, now, catalog.QueueLimits{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.LeaseFetchTasks(ctx, "ag", 2, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishFetchTask(ctx, "ok", "ag", catalog.FetchOutcome{OK: true, ETag: "ETAG", SHA1: "0bc5", Size: 638304718}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishFetchTask(ctx, "bad", "ag", catalog.FetchOutcome{Error: "source returned 404 Not Found"}, now); err != nil {
		t.Fatal(err)
	}
}

// fastDispatch retries quickly; jobs decide the callback policy.
func fastDispatch(jobs JobLookup) DispatcherOptions {
	return DispatcherOptions{BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond, Poll: 10 * time.Millisecond,
		Hold: 5 * time.Second, Jobs: jobs}
}

// callbackJob is the job "j" of the tasks finished stores; private says
// whether it allows private callbacks (the receivers are on loopback).
func callbackJob(private bool) StaticJobs {
	return StaticJobs{"j": {ID: "j", AllowPrivateURLs: true, AllowPrivateCallbacks: private}}
}

// The receiver is down for a while, then up; the dispatcher is restarted
// over a reopened catalog meanwhile: each callback is delivered once.
func TestDispatcher_Run_receiverDownThenUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.db")
	m, err := catalog.OpenMaster(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := m.Fetch()
	addr := freeAddr(t)
	finished(t, db, "http://"+addr)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewDispatcher(db, fastDispatch(callbackJob(true))).Run(ctx) }()
	eventually(t, "three failed deliveries", func() bool {
		task, err := db.FetchTask(context.Background(), "ok")
		return err == nil && task.CallbackAttempts >= 3
	})
	cancel()
	<-done
	task, _ := db.FetchTask(context.Background(), "ok")
	if task.CallbackState != catalog.CallbackPending || task.CallbackError == "" {
		t.Fatalf("after failures: %+v", task)
	}
	m.Close()

	// "Master restart": a new catalog handle and dispatcher; receiver up.
	m, err = catalog.OpenMaster(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	db = m.Fetch()
	rc := &receiver{}
	serveAt(t, addr, rc)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	d := NewDispatcher(db, fastDispatch(callbackJob(true)))
	go d.Run(ctx)
	eventually(t, "both callbacks delivered", func() bool {
		a, _ := db.FetchTask(context.Background(), "ok")
		b, _ := db.FetchTask(context.Background(), "bad")
		return a.CallbackState == catalog.CallbackDelivered && b.CallbackState == catalog.CallbackDelivered
	})
	ok, fail := rc.got("/ok"), rc.got("/fail")
	if len(ok) != 1 || len(fail) != 1 {
		t.Fatalf("deliveries: %d success, %d failure; want 1 each", len(ok), len(fail))
	}
	var s map[string]any
	json.Unmarshal([]byte(ok[0]), &s)
	if s["Code"] != 0.0 || s["TaskId"] != "ok" || s["ETag"] != "ETAG" || s["Key"] != "key/ok" || s["SHA1"] != "0bc5" ||
		s["Size"] != 638304718.0 || len(s) != 6 {
		t.Fatalf("success body = %s", ok[0])
	}
	var f map[string]any
	json.Unmarshal([]byte(fail[0]), &f)
	if f["Code"] != 1.0 || f["TaskId"] != "bad" || f["Message"] != "source returned 404 Not Found" ||
		f["Resource"] != "http://origin/bad?a=b" || len(f) != 4 {
		t.Fatalf("failure body = %s", fail[0])
	}
}

// A receiver that always answers 500 is given up on after MaxAttempts.
func TestDispatcher_DeliverDue_givesUp(t *testing.T) {
	db := openDB(t)
	rc := &receiver{status: http.StatusInternalServerError}
	addr := freeAddr(t)
	serveAt(t, addr, rc)
	finished(t, db, "http://"+addr)
	opts := fastDispatch(callbackJob(true))
	opts.MaxAttempts = 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go NewDispatcher(db, opts).Run(ctx)
	eventually(t, "callbacks given up", func() bool {
		a, _ := db.FetchTask(context.Background(), "ok")
		b, _ := db.FetchTask(context.Background(), "bad")
		return a.CallbackState == catalog.CallbackFailed && b.CallbackState == catalog.CallbackFailed
	})
	if n := len(rc.got("/ok")); n != 3 {
		t.Fatalf("%d success attempts, want 3", n)
	}
	a, _ := db.FetchTask(context.Background(), "ok")
	if a.CallbackAttempts != 3 || a.CallbackError == "" {
		t.Fatalf("given-up task = %+v", a)
	}
}

func TestDispatcher_backoff(t *testing.T) {
	d := NewDispatcher(nil, DispatcherOptions{})
	prev := time.Duration(0)
	total := time.Duration(0)
	for n := 1; n < 20; n++ {
		b := d.backoff(n)
		if b < 2*time.Second*4/5 || b > 5*time.Minute*6/5 {
			t.Fatalf("backoff(%d) = %v out of bounds", n, b)
		}
		if n < 5 && b <= prev*4/5 {
			t.Fatalf("backoff(%d) = %v not growing from %v", n, b, prev)
		}
		prev = b
		total += b
	}
	// The default 20 attempts span roughly an hour.
	if total < 40*time.Minute || total > 90*time.Minute {
		t.Fatalf("20 attempts span %v", total)
	}
}

// A job that does not allow private callbacks (even one that allows
// private URLs), a job that is gone, and a dispatcher that cannot look
// jobs up never have a callback delivered to a loopback receiver: the
// receiver hears nothing and the callback fails at once, refused by the
// policy.
func TestDispatcher_DeliverDue_refusesPrivate(t *testing.T) {
	for name, jobs := range map[string]JobLookup{"strict job": callbackJob(false), "no job": StaticJobs{}, "no lookup": nil} {
		t.Run(name, func(t *testing.T) { testRefusesPrivate(t, jobs) })
	}
}

func testRefusesPrivate(t *testing.T, jobs JobLookup) {
	db := openDB(t)
	rc := &receiver{}
	addr := freeAddr(t)
	serveAt(t, addr, rc)
	finished(t, db, "http://"+addr)
	if _, err := NewDispatcher(db, fastDispatch(jobs)).DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, fail := rc.got("/ok"), rc.got("/fail"); len(ok)+len(fail) != 0 {
		t.Fatalf("the loopback receiver got %d success and %d failure callbacks", len(ok), len(fail))
	}
	for _, id := range []string{"ok", "bad"} {
		task, err := db.FetchTask(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if task.CallbackState != catalog.CallbackFailed || task.CallbackAttempts != 1 || !strings.Contains(task.CallbackError, "refused") {
			t.Fatalf("callback of %s: state %s, error %q; want failed, refused by policy", id, task.CallbackState, task.CallbackError)
		}
	}
}

// The callback clients enforce the policy past the URL check too: a
// redirect to a private address is refused, and so is a name that resolves
// to one, when dialed (the loopback receiver hears nothing).
func TestDispatcher_callbackClient(t *testing.T) {
	rc := &receiver{}
	addr := freeAddr(t)
	serveAt(t, addr, rc)
	d := NewDispatcher(nil, fastDispatch(nil))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/redirected", nil)
	if err := d.clients[false].CheckRedirect(req, []*http.Request{{}}); !errors.Is(err, ErrRefused) {
		t.Fatalf("strict CheckRedirect to %s = %v, want ErrRefused", addr, err)
	}
	if err := d.clients[true].CheckRedirect(req, []*http.Request{{}}); err != nil {
		t.Fatalf("private CheckRedirect to %s = %v", addr, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	err := d.post(context.Background(), d.clients[false], "http://localhost:"+port+"/named", Payload(catalog.FetchTask{}))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("strict POST to localhost = %v, want a loopback refusal at dial time", err)
	}
	if got := rc.got("/named"); len(got) != 0 {
		t.Fatalf("the receiver got %d callbacks", len(got))
	}
	if err := d.post(context.Background(), d.clients[true], "http://localhost:"+port+"/named", Payload(catalog.FetchTask{})); err != nil {
		t.Fatalf("private POST to localhost = %v", err)
	}
}
