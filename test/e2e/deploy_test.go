package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// The process behaviour an orchestrator relies on (README "Deploying"):
// health endpoints, a graceful stop on SIGTERM that releases leases,
// agents that exit when the master has no work, and master snapshots that
// restore.

// waitExit waits up to limit for a process started by the test to exit and
// returns its exit code.
func waitExit(t testing.TB, what string, a interface{ Wait() error }, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(interface{ ExitCode() int }); ok {
			return ee.ExitCode()
		}
		t.Fatalf("%s: %v", what, err)
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %v", what, limit)
	}
	return -1
}

// status GETs url and returns its status code (0 when nothing answers).
func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls url until it answers want.
func waitStatus(t testing.TB, url string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for status(url) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered %d (last %d)", url, want, status(url))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func metricInt(t testing.TB, m *masterProc, name string) int {
	t.Helper()
	n, err := strconv.Atoi(metricValue(t, m, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// TestDeploy_DrainAgent: SIGTERM to an agent mid-range. It stops taking
// objects, lets those in flight finish, reports its cursor and releases
// its lease, and exits 0. The lease TTL is two minutes, so only the release
// can hand the range on: another agent takes it (a lease the master counts
// as released, none expired), and the job completes with every byte.
func TestDeploy_DrainAgent(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "d", 3000, 250, 31)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"), "--ranges", "8", "--lease-ttl", "2m")
	id := createJob(t, m, e.env(), "--from", src, "--to", "us3://dst/", "--workers", "4", "--bwlimit", "256KiB")
	health := freeAddr(t)
	d1 := startAgent(t, m, "d1", nil, "--grace", "10s", "--health-listen", health)
	waitStatus(t, "http://"+health+"/healthz", 200, 20*time.Second)
	waitStatus(t, "http://"+health+"/readyz", 200, 20*time.Second)
	var held int
	waitJob(t, m, id, "under way on d1", time.Minute, func(v agent.JobView) bool {
		for _, r := range v.Ranges {
			if r.State == "leased" && r.Agent == "d1" && r.Copied > 0 {
				held = r.ID
				return true
			}
		}
		return false
	})
	if err := d1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, "agent d1 after SIGTERM", d1.cmd, 30*time.Second); code != 0 {
		b, _ := os.ReadFile(d1.log)
		t.Fatalf("agent d1 exited %d after SIGTERM, want 0:\n%s", code, b)
	}
	if b, _ := os.ReadFile(d1.log); !bytes.Contains(b, []byte(`msg="lease released"`)) {
		t.Fatalf("agent d1 did not release its lease:\n%s", b)
	}
	if got := metricInt(t, m, "ferry_leases_released_total"); got != 1 {
		t.Fatalf("ferry_leases_released_total = %d, want 1", got)
	}
	v, err := m.api.Job(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Ranges {
		if r.ID == held && (r.State != "pending" || r.Agent != "" || r.Cursor == "") {
			t.Fatalf("released range = %+v, want pending with d1's cursor and no holder", r)
		}
	}
	// The next agent takes the released range first (the lowest pending
	// one), from the cursor, with the lease TTL far away.
	startAgent(t, m, "d2", nil)
	waitJob(t, m, id, "re-leased to d2", time.Minute, func(v agent.JobView) bool {
		for _, r := range v.Ranges {
			if r.ID == held {
				return r.Leases >= 2 && (r.Agent == "d2" || r.State == "done")
			}
		}
		return false
	})
	v = waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	if got := metricInt(t, m, "ferry_lease_expiries_total"); got != 0 {
		t.Fatalf("%d leases expired: the range went on by release, not by expiry", got)
	}
	if v.Failed != 0 {
		t.Fatalf("%d objects failed", v.Failed)
	}
	compareSums(t, "US3 after draining an agent", want, e.readBack(t, "dst", ""))
}

// TestDeploy_StopMaster: SIGTERM to the master mid-job: /readyz answered
// before, the master exits 0 with its WAL checkpointed into the database
// file, restarts on it, and the job completes.
func TestDeploy_StopMaster(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "s", 3000, 250, 32)
	dst := t.TempDir()
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "master.db")
	m := startMasterProc(t, addr, db, "--ranges", "4")
	if status(m.url+"/healthz") != 200 || status(m.url+"/readyz") != 200 {
		t.Fatalf("master /healthz %d, /readyz %d, want 200 without a token", status(m.url+"/healthz"), status(m.url+"/readyz"))
	}
	id := createJob(t, m, nil, "--from", src, "--to", dst, "--workers", "4", "--bwlimit", "512KiB")
	startAgent(t, m, "s1", nil)
	startAgent(t, m, "s2", nil)
	waitJob(t, m, id, "under way", time.Minute, func(v agent.JobView) bool { return v.Copied >= 300 })
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, "master after SIGTERM", m.cmd, 30*time.Second); code != 0 {
		b, _ := os.ReadFile(m.log)
		t.Fatalf("master exited %d after SIGTERM, want 0:\n%s", code, b)
	}
	if st, err := os.Stat(db + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("the stopped master left a %d-byte WAL: not checkpointed", st.Size())
	}
	m = startMasterProc(t, addr, db, "--ranges", "4")
	v := waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	if v.Failed != 0 {
		t.Fatalf("%d objects failed", v.Failed)
	}
	compareSums(t, "directory after a master restart", want, hashDir(t, dst))
}

// TestDeploy_ExitWhenIdle: agents with --exit-when-idle work a job and all
// exit 0 once it is done; the master's /api/v1/work says why it is busy
// until then.
func TestDeploy_ExitWhenIdle(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "w", 2000, 250, 33)
	dst := t.TempDir()
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"), "--ranges", "6")
	id := createJob(t, m, nil, "--from", src, "--to", dst, "--workers", "4")
	cluster, _ := agent.NewClient(m.url, clusterTok)
	if w, err := cluster.Work(t.Context()); err != nil || w.Idle || !strings.Contains(w.Reason, id) {
		t.Fatalf("work with a pending job = %+v, %v; want busy naming %s", w, err, id)
	}
	var agents []*agentProc
	for i := range 3 {
		agents = append(agents, startAgent(t, m, fmt.Sprintf("w%d", i+1), nil, "--exit-when-idle"))
	}
	for _, a := range agents {
		if code := waitExit(t, "agent "+a.name, a.cmd, 3*time.Minute); code != 0 {
			b, _ := os.ReadFile(a.log)
			t.Fatalf("agent %s exited %d, want 0:\n%s", a.name, code, b)
		}
	}
	v, err := m.api.Job(t.Context(), id)
	if err != nil || v.State != "done" || v.Failed != 0 {
		t.Fatalf("after the agents exited the job is %+v (%v), want done", v, err)
	}
	if w, err := cluster.Work(t.Context()); err != nil || !w.Idle {
		t.Fatalf("work after the job = %+v, %v; want idle", w, err)
	}
	compareSums(t, "directory after idle agents", want, hashDir(t, dst))
}

// TestDeploy_BackupRestore: the master snapshots its database into the
// US3 emulator while a job runs; it is killed -9 and its database
// deleted; `ferry master restore` brings the newest snapshot back (and
// refuses to overwrite a database without --force); restarted with the
// same secret key, the master continues the job from the snapshot's state
// (its sealed credentials still open) and every object arrives intact.
func TestDeploy_BackupRestore(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "b", 4000, 250, 34)
	e := startEmu(t, "dst")
	bk := startEmu(t, "backup")
	// The backup location is reached with FERRY_BACKUP_* variables, so the
	// master's snapshots go to another emulator than the job's objects.
	bkEnv := map[string]string{"FERRY_BACKUP_US3_PUBLIC_KEY": bk.pub, "FERRY_BACKUP_US3_PRIVATE_KEY": bk.key,
		"FERRY_BACKUP_US3_ENDPOINT": bk.endpoint}
	dir := t.TempDir()
	addr, db, key := freeAddr(t), filepath.Join(dir, "state", "master.db"), filepath.Join(dir, "secret-key")
	if err := os.WriteFile(key, []byte("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := "us3://backup/ferry/"
	masterArgs := []string{"--ranges", "8", "--secret-key-file", key}
	m := startMasterEnv(t, addr, db, bkEnv, append(masterArgs, "--backup-to", backup, "--backup-every", "500ms")...)
	// The job's credentials are sealed in the master's database.
	id := createJob(t, m, e.env(), "--from", src, "--to", "us3://dst/", "--workers", "4", "--bwlimit", "128KiB")
	startAgent(t, m, "b1", nil)
	startAgent(t, m, "b2", nil)
	before := waitJob(t, m, id, "under way", time.Minute, func(v agent.JobView) bool { return v.Copied >= 800 })
	snaps := func() map[string][32]byte { return bk.readBack(t, "backup", "ferry/") }
	n := len(snaps())
	deadline := time.Now().Add(30 * time.Second)
	for len(snaps()) < n+2 { // one whole snapshot taken after `before`
		if time.Now().After(deadline) {
			t.Fatalf("no new snapshot at %s (%d there)", backup, len(snaps()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.kill()
	for k := range snaps() {
		if !strings.HasPrefix(k, "ferry-master-") || !strings.HasSuffix(k, ".db") {
			t.Fatalf("unexpected object %s at the backup location", k)
		}
	}
	if err := os.RemoveAll(filepath.Dir(db)); err != nil {
		t.Fatal(err)
	}

	mustFerry(t, bkEnv, "master", "restore", "--from", backup, "--db", db)
	if r := ferry(t, bkEnv, "master", "restore", "--from", backup, "--db", db); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("restore over an existing database: exit %d, %q; want 2 naming --force", r.code, r.stderr)
	}
	if b, err := os.ReadFile(db); err != nil || bytes.Contains(b, []byte(e.key)) {
		t.Fatalf("the restored snapshot (%v) holds the job's US3 private key in plain text", err)
	}
	if st, err := os.Stat(db); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("restored database: %v, %v; want mode 0600", st, err)
	}
	m = startMasterEnv(t, addr, db, bkEnv, masterArgs...)
	after, err := m.api.Job(t.Context(), id)
	if err != nil {
		t.Fatalf("the restored master lost the job: %v", err)
	}
	if after.Copied < before.Copied || after.State != "running" {
		t.Fatalf("restored job: %d copied, %s; at the snapshot's time at least %d copied, running", after.Copied, after.State, before.Copied)
	}
	v := waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	if v.Failed != 0 {
		t.Fatalf("%d objects failed after the restore", v.Failed)
	}
	compareSums(t, "US3 after a master restore", want, e.readBack(t, "dst", ""))
}
