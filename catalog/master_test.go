package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 0)

const ttl = 10 * time.Second

// openMasterTemp opens a fresh master catalog whose schedules run every hour.
func openMasterTemp(t testing.TB) (*MasterDB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.db")
	m, err := OpenMaster(context.Background(), path, hourly)
	if err != nil {
		t.Fatalf("OpenMaster: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}

func hourly(s string, t time.Time) time.Time { return t.Add(time.Hour) }

// threeRanges creates job j with ranges ["", "b"), ["b", "d"), ["d", "").
func threeRanges(t testing.TB, m *MasterDB, id, schedule string) {
	t.Helper()
	err := m.CreateJob(context.Background(), NewJob{
		ID: id, Source: "/src", Dest: "us3://b/p", Options: `{"workers":4}`,
		Creds:    map[string]string{"US3_PRIVATE_KEY": "secret"},
		Schedule: schedule,
		Ranges:   []RangeSpec{{"", "b", nil}, {"b", "d", nil}, {"d", "", nil}},
	}, t0)
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
}

func mustLease(t testing.TB, m *MasterDB, agent, id string, now time.Time) Lease {
	t.Helper()
	l, ok, err := m.AcquireLease(context.Background(), agent, id, now, ttl)
	if err != nil || !ok {
		t.Fatalf("AcquireLease(%s) = %v, %v", agent, ok, err)
	}
	return l
}

func mustReport(t testing.TB, m *MasterDB, l Lease, agent string, rep Report, now time.Time) ReportResult {
	t.Helper()
	rep.LeaseID, rep.JobID, rep.RangeID, rep.Agent = l.ID, l.JobID, l.RangeID, agent
	res, err := m.Report(context.Background(), rep, now, ttl)
	if err != nil {
		t.Fatalf("Report(%s range %d): %v", agent, l.RangeID, err)
	}
	return res
}

func mustJob(t testing.TB, m *MasterDB, id string) Job {
	t.Helper()
	j, err := m.Job(context.Background(), id)
	if err != nil {
		t.Fatalf("Job(%s): %v", id, err)
	}
	return j
}

func TestMasterDB_CreateJob(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	j := mustJob(t, m, "j1")
	if j.State != JobPending || j.Run != 1 || j.Ranges.Total != 3 || j.Ranges.Pending != 3 || j.Options != `{"workers":4}` {
		t.Fatalf("new job = %+v", j)
	}
	if err := m.CreateJob(ctx, NewJob{ID: "j1", Source: "/x", Dest: "/y", Ranges: []RangeSpec{{}}}, t0); !errors.Is(err, ErrJobExists) {
		t.Fatalf("duplicate CreateJob = %v, want ErrJobExists", err)
	}
	if _, err := m.Job(ctx, "nope"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("Job(nope) = %v, want ErrJobNotFound", err)
	}
	creds, err := m.JobCreds(ctx, "j1")
	if err != nil || creds["US3_PRIVATE_KEY"] != "secret" {
		t.Fatalf("JobCreds = %v, %v", creds, err)
	}
	jobs, err := m.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "j1" {
		t.Fatalf("Jobs = %+v, %v", jobs, err)
	}
}

func TestMasterDB_AcquireLease(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	a := mustLease(t, m, "a", "L1", t0)
	b := mustLease(t, m, "b", "L2", t0)
	if a.RangeID != 1 || b.RangeID != 2 || a.Start != "" || a.End != "b" || b.Start != "b" || b.End != "d" {
		t.Fatalf("leases a=%+v b=%+v", a, b)
	}
	if a.Creds["US3_PRIVATE_KEY"] != "secret" || a.Source != "/src" || a.Dest != "us3://b/p" {
		t.Fatalf("lease lacks the job: %+v", a)
	}
	if j := mustJob(t, m, "j1"); j.State != JobRunning || j.Ranges.Leased != 2 || j.RunStartedAt.IsZero() {
		t.Fatalf("job after leases = %+v", j)
	}
	// A restarted agent gets its own range back under a new lease.
	again := mustLease(t, m, "a", "L3", t0.Add(time.Second))
	if again.RangeID != 1 || again.ID != "L3" {
		t.Fatalf("restarted agent got %+v, want range 1", again)
	}
	// The old lease ID is dead.
	_, err := m.Report(ctx, Report{LeaseID: "L1", JobID: "j1", RangeID: 1, Agent: "a"}, t0, ttl)
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("report on a replaced lease = %v, want ErrLeaseLost", err)
	}
	mustLease(t, m, "c", "L4", t0)
	if _, ok, err := m.AcquireLease(ctx, "d", "L5", t0, ttl); ok || err != nil {
		t.Fatalf("fourth agent got a lease (%v, %v); all three ranges are leased", ok, err)
	}
	agents, err := m.Agents(ctx)
	if err != nil || len(agents) != 4 || agents[3].Name != "d" || agents[3].JobID != "" || agents[0].LeaseID != "L3" {
		t.Fatalf("Agents = %+v, %v", agents, err)
	}
}

func TestMasterDB_Report(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	l := mustLease(t, m, "a", "L1", t0)
	mustReport(t, m, l, "a", Report{Cursor: "a5", Copied: 5, Bytes: 500}, t0.Add(time.Second))
	// A stale cursor never moves the range back.
	mustReport(t, m, l, "a", Report{Cursor: "a3", Copied: 7, Bytes: 700, Failed: 1,
		Failures: []FailedObject{{Path: "a4", Size: 9, Error: "403 forbidden"}}}, t0.Add(2*time.Second))
	r, err := m.Range(ctx, "j1", 1)
	if err != nil || r.Cursor != "a5" || r.Copied != 7 || r.Bytes != 700 || r.Failed != 1 || r.State != RangeLeased {
		t.Fatalf("range after reports = %+v, %v", r, err)
	}
	if !r.Deadline.Equal(t0.Add(2*time.Second + ttl)) {
		t.Fatalf("deadline %v not renewed", r.Deadline)
	}
	mustReport(t, m, l, "a", Report{Cursor: "a9", Copied: 9, Bytes: 900, Unchanged: 2, Done: true}, t0.Add(3*time.Second))
	// A repeated final report (its answer was lost) is harmless.
	mustReport(t, m, l, "a", Report{Cursor: "a9", Copied: 9, Bytes: 900, Unchanged: 2, Done: true}, t0.Add(3*time.Second))
	for i, agent := range []string{"b", "c"} {
		l := mustLease(t, m, agent, "L"+agent, t0)
		mustReport(t, m, l, agent, Report{Copied: int64(i + 1), Done: true}, t0.Add(4*time.Second))
	}
	j := mustJob(t, m, "j1")
	if j.State != JobFailed || j.Copied != 12 || j.Bytes != 900 || j.Unchanged != 2 || j.Failed != 1 || j.FinishedAt.IsZero() {
		t.Fatalf("finished job = %+v", j)
	}
	var failed []FailedObject
	if err := m.Failed(ctx, "j1", func(f FailedObject) error { failed = append(failed, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Path != "a4" || failed[0].Error != "403 forbidden" || failed[0].Agent != "a" {
		t.Fatalf("failed list = %+v", failed)
	}
	runs, err := m.Runs(ctx, "j1")
	if err != nil || len(runs) != 1 || runs[0].State != JobFailed || runs[0].Copied != 12 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
}

func TestMasterDB_ExpireLeases(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	l := mustLease(t, m, "a", "L1", t0)
	mustReport(t, m, l, "a", Report{Cursor: "a5", Copied: 5}, t0.Add(time.Second))
	if n, err := m.ExpireLeases(ctx, t0.Add(time.Second+ttl-time.Millisecond)); err != nil || n != 0 {
		t.Fatalf("ExpireLeases before the deadline = %d, %v", n, err)
	}
	if n, err := m.ExpireLeases(ctx, t0.Add(time.Second+ttl+time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("ExpireLeases after the deadline = %d, %v", n, err)
	}
	// Not yet re-leased: the old holder's report revives it.
	mustReport(t, m, l, "a", Report{Cursor: "a6", Copied: 6}, t0.Add(20*time.Second))
	if r, _ := m.Range(ctx, "j1", 1); r.State != RangeLeased || r.Copied != 6 {
		t.Fatalf("revived range = %+v", r)
	}
	m.ExpireLeases(ctx, t0.Add(time.Hour))
	// Another agent resumes after the cursor; the old holder has lost it.
	b := mustLease(t, m, "b", "L2", t0.Add(time.Hour))
	if b.RangeID != 1 || b.Start != "a6\x00" || b.Cursor != "a6" {
		t.Fatalf("re-lease = %+v, want range 1 from just after a6", b)
	}
	_, err := m.Report(ctx, Report{LeaseID: "L1", JobID: "j1", RangeID: 1, Agent: "a", Copied: 99}, t0.Add(time.Hour), ttl)
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("old holder's report = %v, want ErrLeaseLost", err)
	}
	mustReport(t, m, b, "b", Report{Copied: 3}, t0.Add(time.Hour))
	if r, _ := m.Range(ctx, "j1", 1); r.Copied != 9 {
		t.Fatalf("counters after re-lease = %d, want 6 + 3", r.Copied)
	}
	c, _ := m.Counters(ctx)
	if c["lease_expiries"] != 2 || c["leases_granted"] != 2 {
		t.Fatalf("counters = %v", c)
	}
	// A restarted master extends leases that lapsed during its outage.
	if err := m.ExtendLeases(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _ := m.ExpireLeases(ctx, t0.Add(2*time.Hour-time.Second)); n != 0 {
		t.Fatalf("%d leases expired after ExtendLeases", n)
	}
}

func TestMasterDB_SplitRange(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	paths := []string{"a", "b", "c", "d", "e", "f"}
	err := m.CreateJob(ctx, NewJob{ID: "j", Source: "/s", Dest: "/d", Ranges: []RangeSpec{{Paths: paths}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := mustLease(t, m, "a", "L1", t0)
	if !l.Listed || len(l.Paths) != 6 {
		t.Fatalf("listed lease = %+v", l)
	}
	mustReport(t, m, l, "a", Report{Cursor: "b"}, t0)
	if _, err := m.SplitRange(ctx, "j", 1, "b", t0); !errors.Is(err, ErrNoSplit) {
		t.Fatalf("split at the cursor = %v, want ErrNoSplit", err)
	}
	nr, err := m.SplitRange(ctx, "j", 1, "d", t0)
	if err != nil || nr.ID != 2 || nr.Start != "d" || nr.End != "" || nr.State != RangeHeld {
		t.Fatalf("SplitRange = %+v, %v", nr, err)
	}
	if _, err := m.SplitRange(ctx, "j", 1, "c", t0); !errors.Is(err, ErrNoSplit) {
		t.Fatalf("a second cut while one waits = %v, want ErrNoSplit", err)
	}
	// Held until the holder confirms: nobody can lease the tail yet.
	if _, ok, _ := m.AcquireLease(ctx, "b", "L2", t0, ttl); ok {
		t.Fatal("a held tail was leased before its holder confirmed the cut")
	}
	if res := mustReport(t, m, l, "a", Report{Cursor: "c", Walked: "d"}, t0); res.End != "d" {
		t.Fatalf("holder's answer End = %q, want the cut", res.End)
	}
	// The holder applied the cut but had already handed out "d": the cut
	// moves just past it, and "d" stays with the holder.
	if res := mustReport(t, m, l, "a", Report{Cursor: "c", Applied: "d", Walked: "d"}, t0); res.End != "d\x00" {
		t.Fatalf("End after the confirmation = %q, want just past the walked key", res.End)
	}
	got, err := m.ListedPaths(ctx, "j", 2, "", 10)
	if err != nil || len(got) != 2 || got[0] != "e" {
		t.Fatalf("paths of the new range = %v, %v", got, err)
	}
	l2 := mustLease(t, m, "b", "L2", t0)
	if l2.RangeID != 2 || len(l2.Paths) != 2 || l2.Start != "d\x00" {
		t.Fatalf("lease of the split tail = %+v", l2)
	}
	if cands, _ := m.SplitCandidates(ctx, 5); len(cands) != 2 || cands[0].ID != 1 {
		t.Fatalf("SplitCandidates = %+v", cands)
	}

	// A holder that finishes without ever applying a cut covered the tail:
	// it is merged back.
	if _, err := m.SplitRange(ctx, "j", 2, "f", t0); err != nil {
		t.Fatal(err)
	}
	mustReport(t, m, l2, "b", Report{Cursor: "f", Walked: "f", Done: true}, t0)
	rs, _ := m.Ranges(ctx, "j")
	if len(rs) != 2 || rs[1].End != "" || rs[1].State != RangeDone {
		t.Fatalf("ranges after an unapplied cut = %+v", rs)
	}

	// A holder whose lease expires releases its waiting tail.
	if _, err := m.SplitRange(ctx, "j", 1, "d", t0); err != nil {
		t.Fatal(err)
	}
	m.ExpireLeases(ctx, t0.Add(time.Hour))
	if l3 := mustLease(t, m, "c", "L3", t0.Add(time.Hour)); l3.RangeID != 1 || l3.End != "d" || len(l3.Paths) != 0 {
		t.Fatalf("after expiry = %+v, want range 1 ending at the cut, with nothing left", l3)
	}
	if l4 := mustLease(t, m, "d", "L4", t0.Add(time.Hour)); l4.RangeID != 3 || len(l4.Paths) != 1 || l4.Paths[0] != "d" {
		t.Fatalf("the released tail = %+v", l4)
	}
}

func TestMasterDB_PauseJob(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	l := mustLease(t, m, "a", "L1", t0)
	if err := m.PauseJob(ctx, "j1", t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.AcquireLease(ctx, "b", "L2", t0, ttl); ok {
		t.Fatal("a paused job handed out a lease")
	}
	res := mustReport(t, m, l, "a", Report{Cursor: "a1", Copied: 1}, t0)
	if !res.Stop {
		t.Fatal("report on a paused job did not say stop")
	}
	if err := m.PauseJob(ctx, "j1", t0); !errors.Is(err, ErrJobState) {
		t.Fatalf("pausing twice = %v, want ErrJobState", err)
	}
	if err := m.ResumeJob(ctx, "j1", t0); err != nil {
		t.Fatal(err)
	}
	l = mustLease(t, m, "b", "L3", t0)
	if l.RangeID != 1 || l.Start != "a1\x00" {
		t.Fatalf("lease after resume = %+v, want range 1 after its cursor", l)
	}
	if err := m.CancelJob(ctx, "j1", t0); err != nil {
		t.Fatal(err)
	}
	if res := mustReport(t, m, l, "b", Report{}, t0); !res.Stop {
		t.Fatal("report on a canceled job did not say stop")
	}
	if err := m.ResumeJob(ctx, "j1", t0); !errors.Is(err, ErrJobState) {
		t.Fatalf("resuming a canceled job = %v", err)
	}
	if err := m.DeleteJob(ctx, "j1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Job(ctx, "j1"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("deleted job still there: %v", err)
	}
	if err := m.DeleteJob(ctx, "j1"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("deleting twice = %v", err)
	}
}

func TestMasterDB_RetryFailed(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	if _, _, err := m.RetryFailed(ctx, "j1", 2, t0); !errors.Is(err, ErrJobState) {
		t.Fatalf("retry with nothing failed = %v", err)
	}
	for _, agent := range []string{"a", "b", "c"} {
		l := mustLease(t, m, agent, "L"+agent, t0)
		var fails []FailedObject
		if agent == "b" {
			fails = []FailedObject{{Path: "b1"}, {Path: "b2"}, {Path: "c7"}}
		}
		mustReport(t, m, l, agent, Report{Copied: 10, Unchanged: 1, Failures: fails, Done: true}, t0)
	}
	objs, ranges, err := m.RetryFailed(ctx, "j1", 2, t0)
	if err != nil || objs != 3 || ranges != 2 {
		t.Fatalf("RetryFailed = %d, %d, %v; want 3 objects in 2 ranges", objs, ranges, err)
	}
	j := mustJob(t, m, "j1")
	if j.State != JobRunning || j.Failed != 0 || j.Ranges.Total != 5 {
		t.Fatalf("job after retry = %+v", j)
	}
	l := mustLease(t, m, "a", "R1", t0)
	if !l.Retry || !l.Listed || len(l.Paths) != 2 || l.Paths[0] != "b1" || l.Start != "b1" || l.End != "b2\x00" {
		t.Fatalf("retry lease = %+v", l)
	}
	mustReport(t, m, l, "a", Report{Copied: 2, Unchanged: 5, Done: true}, t0)
	l = mustLease(t, m, "a", "R2", t0)
	mustReport(t, m, l, "a", Report{Copied: 1, Done: true}, t0)
	j = mustJob(t, m, "j1")
	if j.State != JobDone || j.Copied != 33 || j.Unchanged != 3 {
		t.Fatalf("job after retries = %+v; retry ranges' unchanged must not count", j)
	}
}

func TestMasterDB_StartRun(t *testing.T) {
	ctx := context.Background()
	m, path := openMasterTemp(t)
	threeRanges(t, m, "j1", "@every 1h")
	for _, agent := range []string{"a", "b", "c"} {
		l := mustLease(t, m, agent, "L"+agent, t0)
		mustReport(t, m, l, agent, Report{Cursor: "x", Copied: 4, Done: true}, t0)
	}
	j := mustJob(t, m, "j1")
	if j.State != JobDone || !j.NextRun.Equal(t0.Add(time.Hour)) {
		t.Fatalf("finished scheduled job = %+v", j)
	}
	if due, _ := m.DueJobs(ctx, t0.Add(time.Minute)); len(due) != 0 {
		t.Fatalf("due too early: %v", due)
	}
	if ok, err := m.StartRun(ctx, "j1", t0.Add(time.Minute)); ok || err != nil {
		t.Fatalf("StartRun before due = %v, %v", ok, err)
	}
	// The state survives a reopen (as after kill -9: every change is committed).
	m.Close()
	m, err := OpenMaster(ctx, path, hourly)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	due, err := m.DueJobs(ctx, t0.Add(time.Hour))
	if err != nil || len(due) != 1 {
		t.Fatalf("DueJobs = %v, %v", due, err)
	}
	if ok, err := m.StartRun(ctx, "j1", t0.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("StartRun = %v, %v", ok, err)
	}
	j = mustJob(t, m, "j1")
	if j.State != JobPending || j.Run != 2 || j.Copied != 0 || j.Ranges.Pending != 3 {
		t.Fatalf("job in its second run = %+v", j)
	}
	l := mustLease(t, m, "a", "L2", t0.Add(time.Hour))
	if l.Start != "" || l.Cursor != "" || l.Run != 2 {
		t.Fatalf("second-run lease = %+v, want a fresh range", l)
	}
}
