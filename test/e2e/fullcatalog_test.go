package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallFS mounts a tmpfs of size bytes at a fresh directory and unmounts
// it when the test ends. Mounting needs root (CI runs as root).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fillLeaving writes zeros into dir until only about free bytes of its
// filesystem are left.
func fillLeaving(t *testing.T, dir string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail)*st.Bsize - free
	if err := os.WriteFile(filepath.Join(dir, "fill"), make([]byte, max(n, 0)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMigrate_CatalogDiskFull: with the catalog on a filesystem that fills
// up during the run, the run stops with SQLite's own cause (not "context
// canceled"), exit 1, and counts as copied only what the catalog recorded:
// the catalog's done rows.
func TestMigrate_CatalogDiskFull(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for i := 0; i < 3000; i++ {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%04d", i)), []byte(fmt.Sprint("object ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	full := smallFS(t, "16m")
	fillLeaving(t, full, 320<<10)
	cat := filepath.Join(full, "cat.db")
	r := ferry(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--progress", "none")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "disk is full") || strings.Contains(r.stderr, "context canceled") {
		t.Fatalf("stderr %q: want SQLite's \"database or disk is full\" as the cause", tail(r.stderr, 1000))
	}
	// Room again: the catalog says what was recorded, and the summary
	// must have said the same.
	if err := os.Remove(filepath.Join(full, "fill")); err != nil {
		t.Fatal(err)
	}
	st := mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	done := "0"
	for _, line := range strings.Split(st.stdout, "\n") {
		if f := strings.Split(line, ","); len(f) > 1 && f[0] == "done" {
			done = f[1]
		}
	}
	if want := "copied " + done + " object(s)"; strings.Contains(r.stdout, "copied") && !strings.Contains(r.stdout, want) {
		t.Fatalf("summary %q, but the catalog recorded %s done", r.stdout, done)
	}
	// And the next run with room finishes the job.
	mustFerry(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--progress", "none")
	if got := hashDir(t, dst); len(got) != 3000 {
		t.Fatalf("destination holds %d objects after the re-run, want 3000", len(got))
	}
}
