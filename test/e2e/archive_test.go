package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/miniotest"
	"github.com/ferry-project/ferry/test/s3archive"
)

// TestArchive_US3 drives archived objects end to end against the US3
// emulator's archive mode (GET refused until a restore and a delay):
// a plain run records them as skipped: archived (never failed, never
// silent); a --restore run requests the restores and is interrupted while
// it waits; the next --restore run resumes the wait without asking again
// and copies them byte for byte.
func TestArchive_US3(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 4, large: []int{9<<20 + 3}, seed: 21})
	e := startEmu(t, "src")
	e.uploadTree(t, "src", "", src)
	req := e.sdk(t, "src")
	cold := []string{"large/big-0.bin", "small/d000/f00001.dat"} // one multipart, one single PUT
	for _, k := range cold {
		if _, ok := want[k]; !ok {
			t.Fatalf("tree has no %s", k)
		}
	}
	for _, k := range cold {
		if err := req.ClassSwitch(k, "ARCHIVE"); err != nil {
			t.Fatalf("class switch %s: %v", k, err)
		}
	}
	checkArchiveRuns(t, e.env(), "us3://src", want, cold, "archived: ARCHIVE", func() int { return int(e.stats(t).Requests["Restore"]) })
}

// checkArchiveRuns runs the three runs of an archive test from src, whose
// keys cold are archived (their catalog reason is reason); restores counts
// the restore requests the store received.
func checkArchiveRuns(t *testing.T, env map[string]string, src string, want map[string][32]byte, cold []string, reason string, restores func() int) {
	dst := t.TempDir()
	cat := filepath.Join(t.TempDir(), "c.db")
	args := []string{"migrate", "run", "--from", src, "--to", dst, "--catalog", cat}

	// 0. A dry run says what it would skip or restore, and asks nothing.
	if d := mustFerry(t, env, append(args, "--dry-run")...); !strings.Contains(d.stdout, "would skip "+cold[0]+" ("+reason+")") {
		t.Fatalf("dry run: %s", d.stdout)
	}
	if d := mustFerry(t, env, append(args, "--dry-run", "--restore")...); !strings.Contains(d.stdout, "would restore "+cold[0]) {
		t.Fatalf("dry run with --restore: %s", d.stdout)
	}

	// 1. No --restore: skipped, counted, recorded with the class.
	r := mustFerry(t, env, args...)
	if !strings.Contains(r.stdout, "archived object(s) skipped") {
		t.Fatalf("summary does not report the archived objects: %s", r.stdout)
	}
	st := mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	if !strings.Contains(st.stdout, "skipped,"+strconv.Itoa(len(cold))+",") || !strings.Contains(st.stdout, "failed,0,") {
		t.Fatalf("catalog stats after a plain run: %s", st.stdout)
	}
	ls := mustFerry(t, nil, "catalog", "ls", "--state", "skipped", cat)
	if strings.Count(ls.stdout, reason) != len(cold) {
		t.Fatalf("catalog list --state skipped: %s", ls.stdout)
	}
	for _, k := range cold {
		if _, err := os.Stat(filepath.Join(dst, k)); !os.IsNotExist(err) {
			t.Fatalf("archived %s was written: %v", k, err)
		}
	}
	if n := restores(); n != 0 {
		t.Fatalf("a run without --restore asked for %d restores", n)
	}

	// 2. --restore, interrupted while it waits.
	cmd := exec.Command(bins.ferry, append(args, "--restore", "--restore-poll", "200ms")...)
	cmd.Env = ferryEnv(env)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restore requests", 30*time.Second, func() bool { return restores() >= len(cold) })
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	st = mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	if !strings.Contains(st.stdout, "restoring,"+strconv.Itoa(len(cold))+",") {
		t.Fatalf("catalog stats after an interrupted --restore run: %s\n%s", st.stdout, tail(errb.String(), 2000))
	}

	// 3. The next run resumes the wait (no second request) and copies them.
	r = mustFerry(t, env, append(args, "--restore", "--restore-poll", "200ms")...)
	if got := restores(); got != len(cold) {
		t.Fatalf("restore requests = %d, want %d (a resumed wait asks again)", got, len(cold))
	}
	compareSums(t, "directory copy with restored archived objects", want, hashDir(t, dst))
	st = mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	if !strings.Contains(st.stdout, "done,"+strconv.Itoa(len(want))+",") || strings.Contains(st.stdout, "restoring,") || !strings.Contains(st.stdout, "skipped,0,") {
		t.Fatalf("catalog stats after the restore: %s", st.stdout)
	}
}

// TestArchive_S3 is TestArchive_US3 for S3: MinIO behind the
// archive-faithful proxy of test/s3archive (GLACIER and DEEP_ARCHIVE keys
// refused with InvalidObjectState until POST ?restore and a delay).
func TestArchive_S3(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 4, large: []int{9<<20 + 3}, seed: 22})
	m := miniotest.Start(t)
	m.CreateBucket(t, "src")
	uploadTreeS3(t, m.Client(), "src", "", src)
	p, err := s3archive.Start(m.Endpoint, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cold := []string{"large/big-0.bin", "small/d000/f00001.dat"}
	p.Archive("src", cold[0], "DEEP_ARCHIVE")
	p.Archive("src", cold[1], "DEEP_ARCHIVE")
	env := minioEnv(m, "")
	env["AWS_ENDPOINT_URL"] = p.URL
	checkArchiveRuns(t, env, "s3://src", want, cold, "archived: DEEP_ARCHIVE", p.Restores)
}
