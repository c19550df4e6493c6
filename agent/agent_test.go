package agent

import (
	"context"

	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAgent_Run_threeAgents(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.Plan.Ranges = 32 })
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 10, 3000, "three")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Workers: 4}})
	for _, name := range []string{"a1", "a2", "a3"} {
		runAgent(t, tm, name, 4)
	}
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	if v.Copied != 3000 || v.Failed != 0 || v.RangesDone != v.RangesTotal {
		t.Fatalf("finished job = %+v", v)
	}
	byAgent := map[string]int{}
	for _, r := range v.Ranges {
		byAgent[r.Agent]++
	}
	if len(byAgent) != 3 {
		t.Fatalf("ranges per agent = %v, want all three agents to have worked", byAgent)
	}
	agents, err := tm.admin.Agents(context.Background())
	if err != nil || len(agents) != 3 || agents[0].Objects == 0 || !agents[0].Active {
		t.Fatalf("agents = %+v, %v", agents, err)
	}
}

func TestAgent_Run_splitForIdleAgent(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) {
		c.Plan.Ranges = 1 // one range: only a split lets a second agent help
		c.SplitMin, c.SplitProbe = 20, 5000
	})
	// More objects than the engine walks ahead of its copies (which stay
	// with the holder), at a pace that leaves the idle agent work.
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 4, 4000, "split")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Workers: 1, BWLimit: 64 << 10}})
	runAgent(t, tm, "slow", 1)
	waitJob(t, tm.admin, id, "leased", func(v JobView) bool { return v.RangesLeased == 1 })
	runAgent(t, tm, "idle", 1)
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	if v.RangesTotal < 2 {
		t.Fatalf("the range was never split: %+v", v.Ranges)
	}
	byAgent := map[string]int64{}
	for _, r := range v.Ranges {
		byAgent[r.Agent] += r.Copied
	}
	if byAgent["slow"]+byAgent["idle"] != 4000 {
		t.Fatalf("objects copied per agent = %v: a split must not copy an object twice", byAgent)
	}
	if byAgent["slow"] == 0 || byAgent["idle"] == 0 {
		t.Fatalf("objects copied per agent = %v; the idle agent should have taken the split tail; ranges %+v", byAgent, v.Ranges)
	}
	c, _ := tm.db.Counters(context.Background())
	if c["splits"] < 1 {
		t.Fatalf("counters = %v", c)
	}
}

func TestAgent_Run_expiredLease(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.Plan.Ranges = 4; c.LeaseTTL = 300 * time.Millisecond })
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 4, 200, "exp")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst})
	// A "ghost" agent takes a range and dies without a word.
	ghost, ok, err := tm.cluster.Lease(context.Background(), "ghost")
	if err != nil || !ok {
		t.Fatalf("ghost lease: %v, %v", ok, err)
	}
	runAgent(t, tm, "a1", 4)
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	for _, r := range v.Ranges {
		if r.ID == ghost.RangeID && (r.Agent != "a1" || r.Leases < 2) {
			t.Fatalf("the ghost's range = %+v, want it re-leased to a1", r)
		}
	}
	c, _ := tm.db.Counters(context.Background())
	if c["lease_expiries"] < 1 {
		t.Fatalf("counters = %v, want a lease expiry", c)
	}
	// The ghost's late report is refused: its lease is gone.
	_, err = tm.cluster.SendReport(context.Background(), ghost.ID, ReportRequest{Agent: "ghost", JobID: id, RangeID: ghost.RangeID})
	if !IsLeaseLost(err) {
		t.Fatalf("late report = %v, want lease lost", err)
	}
}

// flakyHandler serves the master, or drops every connection while down.
type flakyHandler struct {
	h    http.Handler
	down atomic.Bool
}

func (f *flakyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	f.h.ServeHTTP(w, r)
}

func TestAgent_Run_masterOutage(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.Plan.Ranges = 2 })
	flaky := &flakyHandler{h: tm.m}
	tm.srv.Config.Handler = flaky
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 2, 400, "out")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Workers: 1, BWLimit: 6 << 10}})
	runAgent(t, tm, "a1", 1)
	waitJob(t, tm.admin, id, "copying", func(v JobView) bool { return v.Copied > 0 })
	flaky.down.Store(true)
	before := len(readFiles(t, dst))
	deadline := time.Now().Add(30 * time.Second)
	for len(readFiles(t, dst)) < before+20 {
		if time.Now().After(deadline) {
			t.Fatal("the agent stopped copying while the master was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	flaky.down.Store(false)
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	if v.Copied+v.Unchanged != 400 {
		t.Fatalf("counters after the outage = %+v", v)
	}
}

func TestAgent_Run_scheduledSync(t *testing.T) {
	tm := startMaster(t, nil)
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 3, 60, "old")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Schedule: "@every 1s", Options: JobOptions{Delete: true}})
	stop := runAgent(t, tm, "first", 4)
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	stop()
	if v.Copied != 60 || v.NextRun == nil {
		t.Fatalf("first run = %+v", v)
	}
	sameFiles(t, want, readFiles(t, dst))
	oldInfo, _ := os.Stat(filepath.Join(dst, "d00/f00000-old.txt"))

	// New files appear, two vanish; another agent runs the next run, so only
	// the destination listing can tell what is unchanged.
	for k, v := range makeFiles(t, filepath.Join(src, "new"), 2, 7, "new") {
		want["new/"+k] = v
	}
	for _, gone := range []string{"d01/f00001-old.txt", "d02/f00002-old.txt"} {
		os.Remove(filepath.Join(src, gone))
		delete(want, gone)
	}
	runAgent(t, tm, "second", 4)
	v = waitJob(t, tm.admin, id, "re-run", func(v JobView) bool { return v.Run >= 2 && v.State == "done" })
	sameFiles(t, want, readFiles(t, dst))
	if len(v.Runs) < 2 || v.Runs[0].Copied != 60 || v.Runs[1].Copied != 7 || v.Runs[1].Unchanged != 58 {
		t.Fatalf("run history = %+v; want 60 copied, then 7 copied and 58 unchanged", v.Runs)
	}
	if newInfo, _ := os.Stat(filepath.Join(dst, "d00/f00000-old.txt")); !newInfo.ModTime().Equal(oldInfo.ModTime()) {
		t.Fatal("an unchanged object was copied again")
	}
}

func TestAgent_Run_failedAndRetried(t *testing.T) {
	tm := startMaster(t, nil)
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 2, 40, "f")
	// A directory where a file must go makes that copy fail for good.
	blocker := filepath.Join(dst, "d01", "f00001-f.txt")
	if err := os.MkdirAll(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Attempts: 1}})
	runAgent(t, tm, "a1", 4)
	v := waitJob(t, tm.admin, id, "failed", isState("failed"))
	if v.Failed != 1 || v.Copied != 39 {
		t.Fatalf("job with a blocked object = %+v", v)
	}
	var csv strings.Builder
	if err := tm.admin.Failed(context.Background(), id, "csv", &csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "d01/f00001-f.txt") || strings.Count(csv.String(), "\n") != 2 {
		t.Fatalf("failed CSV:\n%s", csv.String())
	}
	for _, format := range []string{"csv", "md", "html"} {
		var rep strings.Builder
		if err := tm.admin.Report(context.Background(), id, format, &rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rep.String(), "d01/f00001-f.txt") || !strings.Contains(rep.String(), id) {
			t.Fatalf("%s report lacks the job or its failed object:\n%s", format, rep.String())
		}
	}

	os.Remove(blocker)
	r, err := tm.admin.RetryFailed(context.Background(), id)
	if err != nil || r.Objects != 1 || r.Ranges != 1 {
		t.Fatalf("RetryFailed = %+v, %v", r, err)
	}
	v = waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	if v.Failed != 0 || v.Copied != 40 {
		t.Fatalf("job after the retry = %+v", v)
	}
	if _, err := tm.admin.RetryFailed(context.Background(), id); err == nil || !strings.Contains(err.Error(), "nothing failed") {
		t.Fatalf("second RetryFailed = %v", err)
	}
}

func TestAgent_Run_fileList(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.PathsPerRange = 2 })
	src, dst := t.TempDir(), t.TempDir()
	all := makeFiles(t, src, 2, 20, "l")
	pick := []string{"d00/f00004-l.txt", "/d01/f00007-l.txt", "d00/f00010-l.txt", "d00/missing.txt", "d00/f00004-l.txt"}
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Paths: pick})
	runAgent(t, tm, "a1", 2)
	v := waitJob(t, tm.admin, id, "failed", isState("failed"))
	want := map[string]string{}
	for _, p := range []string{"d00/f00004-l.txt", "d01/f00007-l.txt", "d00/f00010-l.txt"} {
		want[p] = all[p]
	}
	sameFiles(t, want, readFiles(t, dst))
	if v.Copied != 3 || v.Failed != 1 || v.RangesTotal != 2 {
		t.Fatalf("file-list job = %+v", v)
	}
	var js strings.Builder
	tm.admin.Failed(context.Background(), id, "json", &js)
	if !strings.Contains(js.String(), "d00/missing.txt") || !strings.Contains(js.String(), "not found") {
		t.Fatalf("failed list: %s", js.String())
	}
}

func TestAgent_Run_pauseResumeCancel(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.Plan.Ranges = 4 })
	src, dst := t.TempDir(), t.TempDir()
	want := makeFiles(t, src, 2, 300, "p")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Workers: 1, BWLimit: 8 << 10}})
	runAgent(t, tm, "a1", 1)
	waitJob(t, tm.admin, id, "copying", func(v JobView) bool { return v.Copied > 0 })
	ctx := context.Background()
	if v, err := tm.admin.JobAction(ctx, id, "pause"); err != nil || v.State != "paused" {
		t.Fatalf("pause = %+v, %v", v, err)
	}
	v := waitJob(t, tm.admin, id, "released", func(v JobView) bool { return v.RangesLeased == 0 })
	if v.State != "paused" {
		t.Fatalf("paused job = %+v", v)
	}
	if _, err := tm.admin.JobAction(ctx, id, "pause"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("pausing a paused job = %v, want a conflict", err)
	}
	if _, err := tm.admin.JobAction(ctx, id, "resume"); err != nil {
		t.Fatal(err)
	}
	waitJob(t, tm.admin, id, "done", isState("done"))
	sameFiles(t, want, readFiles(t, dst))
	// A finished job has nothing left to cancel: a conflict, and it stays done.
	if _, err := tm.admin.JobAction(ctx, id, "cancel"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("canceling a done job = %v, want a conflict", err)
	}
	if v, err := tm.admin.Job(ctx, id); err != nil || v.State != "done" {
		t.Fatalf("done job after a refused cancel = %+v, %v", v, err)
	}
	if err := tm.admin.DeleteJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Job(ctx, id); err == nil {
		t.Fatal("deleted job still shown")
	}
}
