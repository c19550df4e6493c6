package agent

import (
	"context"
	"github.com/ferry-project/ferry/internal/syncbuf"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetries_failed: the pause doubles from 100ms with every failure in a
// row up to the limit (jitter keeps it within its upper half), only the
// 1st, 2nd, 4th, 8th… failure is logged, and a success starts over.
func TestRetries_failed(t *testing.T) {
	var r retries
	var logged []int
	var last time.Duration
	for i := 1; i <= 16; i++ {
		wait, log := r.failed(DefaultMaxBackoff)
		if log {
			logged = append(logged, i)
		}
		if wait > DefaultMaxBackoff || (i > 1 && wait < min(last, DefaultMaxBackoff/2)) {
			t.Fatalf("failure %d: wait %v after %v", i, wait, last)
		}
		last = wait
	}
	if last < DefaultMaxBackoff/2 {
		t.Fatalf("after 16 failures the wait is %v, want the cap %v (within jitter)", last, DefaultMaxBackoff)
	}
	if got := logged; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 4 || got[3] != 8 || got[4] != 16 {
		t.Fatalf("failures logged: %v, want [1 2 4 8 16]", got)
	}
	if !r.recovered() || r.recovered() {
		t.Fatal("recovered does not report the end of a run of failures once")
	}
	if wait, _ := r.failed(DefaultMaxBackoff); wait > 100*time.Millisecond {
		t.Fatalf("the first wait after a recovery is %v", wait)
	}
}

// TestAgent_Run_backsOffFromAnUnreachableMaster: while the master's
// connections fail, an agent asks less and less often and logs only a few
// of its failures; once the master answers it says so.
func TestAgent_Run_backsOffFromAnUnreachableMaster(t *testing.T) {
	var mu sync.Mutex
	var attempts []time.Time // requests more than 30ms apart (a transport may resend at once)
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if now := time.Now(); len(attempts) == 0 || now.Sub(attempts[len(attempts)-1]) > 30*time.Millisecond {
			attempts = append(attempts, now)
		}
		mu.Unlock()
		if healthy.Load() {
			w.WriteHeader(http.StatusNoContent) // no work
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // a master that is not there
		}
	}))
	defer srv.Close()
	client, err := NewClient(srv.URL, "cluster-token")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	a, err := New(Config{Client: client, Name: "a1", Opener: &localOpener{drivers: testDrivers(t)}, CatalogDir: t.TempDir(),
		IdleWait: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	time.Sleep(3 * time.Second)
	mu.Lock()
	failures := len(attempts)
	mu.Unlock()
	warnings := strings.Count(logs.String(), "cannot reach the master")
	healthy.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "the master is back") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Pauses of 50-100ms, 100-200ms, 200-400ms…: 5 to 6 tries in 3s.
	if failures < 4 || failures > 7 {
		t.Errorf("%d tries in 3s of outage, want 4-7 (exponential backoff)", failures)
	}
	if warnings < 2 || warnings > 3 {
		t.Errorf("%d warnings for %d failures, want the 1st, 2nd and 4th only:\n%s", warnings, failures, logs.String())
	}
	if !strings.Contains(logs.String(), "the master is back") {
		t.Errorf("no word that the master is back:\n%s", logs.String())
	}
}
