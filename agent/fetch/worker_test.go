package fetch

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/syncbuf"
)

// TestWorker_Run_backsOffFromAnUnreachableMaster: while the master's
// connections fail, the fetch worker asks less and less often (not every
// Poll) and logs only a few of its failures; once the master answers it
// says so and polls at its Poll again.
func TestWorker_Run_backsOffFromAnUnreachableMaster(t *testing.T) {
	var mu sync.Mutex
	var attempts []time.Time // requests more than 30ms apart (a transport may resend at once)
	var healthy atomic.Bool
	var healthyLeases atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PathLease {
			http.Error(w, `{"error":"unexpected"}`, http.StatusBadRequest)
			return
		}
		if healthy.Load() {
			healthyLeases.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"tasks":[],"ttl_seconds":30}`)) // no work
			return
		}
		mu.Lock()
		if now := time.Now(); len(attempts) == 0 || now.Sub(attempts[len(attempts)-1]) > 30*time.Millisecond {
			attempts = append(attempts, now)
		}
		mu.Unlock()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // a master that is not there
		}
	}))
	defer srv.Close()
	var logs syncbuf.Buffer
	w, err := NewWorker(WorkerOptions{
		Client: testClient(t, srv.URL, "cluster-token"), Agent: "a1", Slots: 1,
		Poll: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Open: func(context.Context, string, map[string]string) (fs.Sink, error) {
			return nil, errors.New("no tasks expected")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
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
	back := healthyLeases.Load()
	time.Sleep(500 * time.Millisecond)
	polls := healthyLeases.Load() - back
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	// Pauses of 50-100ms, 100-200ms, 200-400ms…: 5 to 6 tries in 3s
	// (polling every 50ms would be 60).
	if failures < 4 || failures > 7 {
		t.Errorf("%d tries in 3s of outage, want 4-7 (exponential backoff)", failures)
	}
	if warnings < 2 || warnings > 3 {
		t.Errorf("%d warnings for %d failures, want the 1st, 2nd and 4th only:\n%s", warnings, failures, logs.String())
	}
	if n := strings.Count(logs.String(), "the master is back"); n != 1 {
		t.Errorf("%d words that the master is back, want 1:\n%s", n, logs.String())
	}
	if polls < 4 {
		t.Errorf("%d lease requests in 500ms once the master is back, want Poll (50ms) again", polls)
	}
}
