package catalog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A released lease puts its range back in the pool at once, cursor and
// counters kept, and the next agent leases it long before the lease TTL.
func TestMasterDB_ReleaseLease(t *testing.T) {
	ctx := context.Background()
	m, _ := openMasterTemp(t)
	threeRanges(t, m, "j1", "")
	l := mustLease(t, m, "a1", "L1", t0)
	mustReport(t, m, l, "a1", Report{Cursor: "a3", Copied: 3, Bytes: 30}, t0.Add(ttl/4))
	rel := Report{LeaseID: l.ID, JobID: l.JobID, RangeID: l.RangeID, Agent: "a1", Cursor: "a5", Copied: 5, Bytes: 50}
	if err := m.ReleaseLease(ctx, Report{LeaseID: "other", JobID: l.JobID, RangeID: l.RangeID, Agent: "a1"}, t0.Add(ttl/2)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release of a lease the range does not have = %v, want ErrLeaseLost", err)
	}
	if err := m.ReleaseLease(ctx, rel, t0.Add(ttl/2)); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if err := m.ReleaseLease(ctx, rel, t0.Add(ttl/2)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second ReleaseLease = %v, want ErrLeaseLost (the lease is gone)", err)
	}
	r, err := m.Range(ctx, "j1", l.RangeID)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != RangePending || r.Cursor != "a5" || r.Agent != "" || r.Copied != 5 || r.Bytes != 50 {
		t.Fatalf("released range = %+v, want pending, cursor a5, no agent, 5 copied, 50 bytes", r)
	}
	// Another agent gets it right away (well within the TTL), after the cursor.
	l2 := mustLease(t, m, "a2", "L2", t0.Add(ttl/2))
	if l2.RangeID != l.RangeID || l2.Start != "a5\x00" {
		t.Fatalf("next lease = range %d from %q, want range %d from after the cursor", l2.RangeID, l2.Start, l.RangeID)
	}
	// The old holder's reports are refused.
	if _, err := m.Report(ctx, rel, t0.Add(ttl/2), ttl); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("report on a released lease = %v, want ErrLeaseLost", err)
	}
	c, err := m.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c["leases_released"] != 1 || c["lease_expiries"] != 0 {
		t.Fatalf("counters = %v, want one release and no expiry", c)
	}
	if j := mustJob(t, m, "j1"); j.Copied != 5 {
		t.Fatalf("job copied = %d, want 5", j.Copied)
	}
}

// A snapshot is a complete, private catalog file as of one commit; the
// master's secrets stay sealed in it and open with the master's key only.
func TestMasterDB_Snapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMaster(ctx, filepath.Join(dir, "master.db"), hourly, WithSecretKeyFile(key))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.CreateJob(ctx, NewJob{ID: "j1", Source: "/src", Dest: "/dst",
		Creds:  map[string]string{"US3_PRIVATE_KEY": "S3CR3T-VALUE-42"},
		Ranges: []RangeSpec{{"", "b", nil}, {"b", "", nil}}}, t0); err != nil {
		t.Fatal(err)
	}
	l := mustLease(t, m, "a1", "L1", t0)
	mustReport(t, m, l, "a1", Report{Cursor: "a3", Copied: 3}, t0.Add(time.Second))
	if err := m.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	snap := filepath.Join(dir, "snap.db")
	if err := m.Snapshot(ctx, snap); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := m.Snapshot(ctx, snap); err == nil {
		t.Fatalf("a second Snapshot over an existing file succeeded")
	}
	if st, err := os.Stat(snap); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v, %v; want mode 0600", st, err)
	}
	if b := readFile(t, snap); bytes.Contains(b, []byte("S3CR3T-VALUE-42")) {
		t.Fatalf("the snapshot holds a job credential in plain text")
	}
	if err := m.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	s, err := OpenMaster(ctx, snap, hourly, WithSecretKeyFile(key))
	if err != nil {
		t.Fatalf("open snapshot with the key: %v", err)
	}
	defer s.Close()
	r, err := s.Range(ctx, "j1", l.RangeID)
	if err != nil || r.Cursor != "a3" || r.State != RangeLeased {
		t.Fatalf("snapshot range = %+v, %v; want leased with cursor a3", r, err)
	}
	creds, err := s.JobCreds(ctx, "j1")
	if err != nil || creds["US3_PRIVATE_KEY"] != "S3CR3T-VALUE-42" {
		t.Fatalf("snapshot creds = %v, %v", creds, err)
	}
}
