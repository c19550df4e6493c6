package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrate_CheckDest: a run with a new catalog and --check-dest into a
// destination that already holds the tree uploads nothing and records
// every object as done; after one file changes, such a run uploads that
// file alone, and the destination equals the source byte for byte.
func TestMigrate_CheckDest(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 150, large: []int{9 << 20}, weird: true, seed: 41, perDirMax: 50})
	n := len(want)
	e := startEmu(t, "dst")
	run := func(extra ...string) result {
		args := append([]string{"migrate", "run", "--from", src, "--to", "us3://dst/cd/", "--catalog", filepath.Join(t.TempDir(), "cat.db")}, extra...)
		return mustFerry(t, e.env(), args...)
	}
	run()
	uploads := func() int64 {
		s := e.stats(t)
		return s.Requests["PutFile"] + s.Requests["PostFile"] + s.Requests["UploadPart"] + s.Requests["InitiateMultipart"]
	}

	e.resetStats(t)
	r := run("--check-dest")
	if !strings.Contains(r.stdout, "nothing to copy") || !strings.Contains(r.stdout, fmt.Sprintf("%d already at the destination", n)) {
		t.Fatalf("--check-dest over a full destination: %q, want nothing to copy and %d already there", r.stdout, n)
	}
	if u := uploads(); u != 0 {
		t.Fatalf("--check-dest over a full destination sent %d upload requests", u)
	}

	// One file changes after the copy: only it is uploaded again.
	changed := filepath.Join(src, "with space", "file name.txt")
	if err := os.WriteFile(changed, []byte("new content, new size"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(changed, later, later); err != nil {
		t.Fatal(err)
	}
	e.resetStats(t)
	cat := filepath.Join(t.TempDir(), "cat.db")
	r = mustFerry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/cd/", "--catalog", cat, "--check-dest")
	if !strings.Contains(r.stdout, "copied 1 object(s)") || !strings.Contains(r.stdout, fmt.Sprintf("%d already at the destination", n-1)) {
		t.Fatalf("--check-dest after one change: %q", r.stdout)
	}
	if u := uploads(); u != 1 {
		t.Fatalf("--check-dest after one change sent %d upload requests, want 1", u)
	}
	compareSums(t, "US3 after --check-dest", hashDir(t, src), e.readBack(t, "dst", "cd/"))
	st := mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	if !strings.Contains(st.stdout, fmt.Sprintf("done,%d,", n)) {
		t.Fatalf("catalog after --check-dest: %s, want all %d done", st.stdout, n)
	}
}
