package catalog

import (
	"context"
	"errors"
	"testing"
	"time"
)

// finishRanges leases and finishes every range of a three-range job, with
// one failed object when fail is set.
func finishRanges(t *testing.T, m *MasterDB, job string, fail bool) {
	t.Helper()
	for _, agent := range []string{"a", "b", "c"} {
		l := mustLease(t, m, agent, job+"-L"+agent, t0)
		rep := Report{Copied: 1, Done: true}
		if fail && agent == "b" {
			rep.Failures = []FailedObject{{Path: "b1", Error: "boom"}}
		}
		mustReport(t, m, l, agent, rep, t0)
	}
}

// TestMasterDB_CancelJob: a pending, running or paused job is canceled; a
// finished job without a schedule (done or failed) is refused with
// ErrJobState and keeps its state; a scheduled job between runs is
// canceled and never re-run; canceling twice is refused.
func TestMasterDB_CancelJob(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	// Leases go to any job with work: finish each job before the next.
	threeRanges(t, m, "done", "")
	finishRanges(t, m, "done", false)
	threeRanges(t, m, "failed", "")
	finishRanges(t, m, "failed", true)
	threeRanges(t, m, "scheduled", "@every 1h")
	finishRanges(t, m, "scheduled", false)
	if j := mustJob(t, m, "scheduled"); j.State != JobDone || j.NextRun.IsZero() {
		t.Fatalf("scheduled job between runs = %+v", j)
	}
	threeRanges(t, m, "running", "")
	mustLease(t, m, "a", "running-L", t0)
	threeRanges(t, m, "paused", "")
	if err := m.PauseJob(ctx, "paused", t0); err != nil {
		t.Fatal(err)
	}
	threeRanges(t, m, "pending", "")

	for id, want := range map[string]JobState{"done": JobDone, "failed": JobFailed} {
		if j := mustJob(t, m, id); j.State != want {
			t.Fatalf("%s job is %s before cancel", id, j.State)
		}
		if err := m.CancelJob(ctx, id, t0); !errors.Is(err, ErrJobState) {
			t.Fatalf("cancel a finished (%s) job = %v, want ErrJobState", id, err)
		}
		if j := mustJob(t, m, id); j.State != want {
			t.Fatalf("%s job after a refused cancel: %s", id, j.State)
		}
	}
	for _, id := range []string{"pending", "running", "paused", "scheduled"} {
		if err := m.CancelJob(ctx, id, t0); err != nil {
			t.Fatalf("cancel %s job: %v", id, err)
		}
		if j := mustJob(t, m, id); j.State != JobCanceled {
			t.Fatalf("%s job after cancel: %s", id, j.State)
		}
		if err := m.CancelJob(ctx, id, t0); !errors.Is(err, ErrJobState) {
			t.Fatalf("canceling the %s job twice = %v, want ErrJobState", id, err)
		}
	}
	if due, err := m.DueJobs(ctx, t0.Add(2*time.Hour)); err != nil || len(due) != 0 {
		t.Fatalf("due after canceling the scheduled job: %v, %v", due, err)
	}
	if err := m.CancelJob(ctx, "nope", t0); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("cancel an unknown job = %v, want ErrJobNotFound", err)
	}
}
