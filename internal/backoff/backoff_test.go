package backoff

import (
	"context"
	"testing"
	"time"
)

// TestRetries_Failed: the pause doubles from 100ms with every failure in a
// row up to the limit (jitter keeps it within its upper half), only the
// 1st, 2nd, 4th, 8th… failure is logged, and a success starts over.
func TestRetries_Failed(t *testing.T) {
	const limit = 30 * time.Second
	var r Retries
	var logged []int
	ceiling := time.Duration(0)
	for i := 1; i <= 16; i++ {
		wait, log := r.Failed(limit)
		if log {
			logged = append(logged, i)
		}
		ceiling = min(max(2*ceiling, First), limit)
		if wait < ceiling/2 || wait > ceiling {
			t.Fatalf("failure %d: wait %v, want %v to %v", i, wait, ceiling/2, ceiling)
		}
		if r.Failures() != i {
			t.Fatalf("failure %d counted as %d", i, r.Failures())
		}
	}
	if got := logged; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 4 || got[3] != 8 || got[4] != 16 {
		t.Fatalf("failures logged: %v, want [1 2 4 8 16]", got)
	}
	if !r.Recovered() || r.Recovered() {
		t.Fatal("Recovered does not report the end of a run of failures once")
	}
	if wait, log := r.Failed(limit); wait > First || !log || r.Failures() != 1 {
		t.Fatalf("the first failure after a recovery: wait %v, log %v, count %d", wait, log, r.Failures())
	}
}

// TestSleep: Sleep waits its duration, or returns when ctx ends.
func TestSleep(t *testing.T) {
	start := time.Now()
	Sleep(context.Background(), 20*time.Millisecond)
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("slept %v, want 20ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	Sleep(ctx, time.Hour)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a canceled Sleep took %v", d)
	}
}
