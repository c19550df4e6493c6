package agent

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The master's /healthz and /readyz need no token; /readyz turns 503 once
// the master stops. /api/v1/work says whether agents have work, and a
// release of a lease the range does not have is a 409.
func TestMaster_HealthWorkRelease(t *testing.T) {
	tm := startMaster(t, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, body := raw(t, tm, "GET", p, "", ""); code != 200 {
			t.Fatalf("GET %s = %d %s, want 200 without a token", p, code, body)
		}
	}
	ctx := context.Background()
	if w, err := tm.cluster.Work(ctx); err != nil || !w.Idle {
		t.Fatalf("work without jobs = %+v, %v; want idle", w, err)
	}
	if _, err := tm.admin.Work(ctx); !hasStatus(err, http.StatusForbidden) {
		t.Fatalf("work with the admin token = %v, want 403", err)
	}
	src := t.TempDir()
	makeFiles(t, src, 2, 10, "w")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: filepath.Join(t.TempDir(), "d")})
	if w, err := tm.cluster.Work(ctx); err != nil || w.Idle || !strings.Contains(w.Reason, id) {
		t.Fatalf("work with a pending job = %+v, %v; want busy naming %s", w, err, id)
	}
	err := tm.cluster.Release(ctx, "lease-nope", ReportRequest{Agent: "a1", JobID: id, RangeID: 1})
	if !IsLeaseLost(err) {
		t.Fatalf("release of an unknown lease = %v, want 409", err)
	}
	tm.m.Stop()
	if code, msg, _ := raw(t, tm, "GET", "/readyz", "", ""); code != 503 || !strings.Contains(msg, "stopping") {
		t.Fatalf("GET /readyz of a stopping master = %d %q, want 503", code, msg)
	}
}

// A drained agent stops its range within the grace period, releases the
// lease with its cursor and returns; the lease TTL is a minute, yet the
// next agent takes the range at once and the job completes with every
// file. An agent with ExitWhenIdle returns once the job is done.
func TestAgent_DrainReleasesLease(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.LeaseTTL = time.Minute })
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "d")
	// 240 files of 4 KiB read at 128 KiB/s: about 8 seconds of copying.
	want := map[string]string{}
	for i := range 240 {
		rel := fmt.Sprintf("d%02d/f%04d", i%4, i)
		data := strings.Repeat(fmt.Sprintf("%05d", i), 4096/5)
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, rel), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = data
	}
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst, Options: JobOptions{Workers: 2, BWLimit: 128 << 10}})
	a1, err := New(Config{Client: tm.cluster, Name: "a1", Opener: &localOpener{drivers: testDrivers(t)}, CatalogDir: t.TempDir(),
		IdleWait: 50 * time.Millisecond, Grace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a1.Run(ctx) }()
	var held int
	waitJob(t, tm.admin, id, "copying on a1", func(v JobView) bool {
		for _, r := range v.Ranges {
			if r.State == "leased" && r.Agent == "a1" && r.Copied > 0 {
				held = r.ID
				return true
			}
		}
		return false
	})
	if err := a1.Ready(ctx); err != nil {
		t.Fatalf("a working agent is not ready: %v", err)
	}
	a1.Drain()
	if err := a1.Ready(ctx); err == nil {
		t.Fatalf("a draining agent is ready")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("drained agent: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the drained agent did not return")
	}
	c, err := tm.db.Counters(ctx)
	if err != nil || c["leases_released"] != 1 {
		t.Fatalf("counters %v, %v; want one release", c, err)
	}
	r, err := tm.db.Range(ctx, id, held)
	if err != nil || r.State != "pending" || r.Cursor == "" || r.Agent != "" {
		t.Fatalf("released range = %+v, %v; want pending with a cursor and no holder", r, err)
	}
	a2, err := New(Config{Client: tm.cluster, Name: "a2", Opener: &localOpener{drivers: testDrivers(t)}, CatalogDir: t.TempDir(),
		IdleWait: 50 * time.Millisecond, ExitWhenIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a2.Run(ctx) }()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("agent a2: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("agent a2 (ExitWhenIdle) did not return after the job")
	}
	v := waitJob(t, tm.admin, id, "done", isState("done"))
	for _, r := range v.Ranges {
		if r.ID == held && (r.Agent != "a2" || r.Leases < 2) {
			t.Fatalf("the released range = %+v, want re-leased to a2", r)
		}
	}
	if c, _ := tm.db.Counters(ctx); c["lease_expiries"] != 0 {
		t.Fatalf("%d leases expired", c["lease_expiries"])
	}
	sameFiles(t, want, readFiles(t, dst))
}
