package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ProgressStateDirAndFormats checks the forced progress bar, the
// default catalog in the state directory, and every `ferry catalog` format.
func TestCLI_ProgressStateDirAndFormats(t *testing.T) {
	src := t.TempDir()
	makeTree(t, src, treeSpec{small: 300, large: []int{12 << 20}, seed: 21})
	e := startEmu(t, "dst")
	state := t.TempDir()
	vars := e.env()
	vars["FERRY_STATE_DIR"] = state
	r := mustFerry(t, vars, "migrate", "run", "--from", src, "--to", "us3://dst/", "--progress", "bar", "--bwlimit", "8MiB")
	if !strings.Contains(r.stderr, "\r[") || !strings.Contains(r.stderr, "ETA") || !strings.Contains(r.stderr, "/s") {
		t.Fatalf("no redrawn progress bar with rate and ETA on stderr: %q", tail(r.stderr, 400))
	}
	cats, _ := filepath.Glob(filepath.Join(state, "catalogs", "*.db"))
	if len(cats) != 1 {
		t.Fatalf("catalogs in the state directory: %v, want one", cats)
	}
	if !strings.Contains(r.stderr, cats[0]) {
		t.Fatalf("the catalog path %s is not printed at start: %q", cats[0], tail(r.stderr, 300))
	}

	st := mustFerry(t, nil, "catalog", "stats", cats[0], "--format", "json")
	var stats struct {
		Objects int64 `json:"objects"`
		States  map[string]struct {
			Objects int64 `json:"objects"`
		} `json:"states"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &stats); err != nil || stats.Objects != 301 || stats.States["done"].Objects != 301 {
		t.Fatalf("catalog stats --format json: %+v, %v\n%s", stats, err, st.stdout)
	}
	tbl := mustFerry(t, nil, "catalog", "stats", cats[0])
	if !strings.Contains(tbl.stdout, "STATE") || !strings.Contains(tbl.stdout, "301") {
		t.Fatalf("catalog stats table:\n%s", tbl.stdout)
	}
	ls := mustFerry(t, nil, "catalog", "ls", cats[0], "--format", "json", "--prefix", "large/")
	lines := strings.Split(strings.TrimSpace(ls.stdout), "\n")
	var obj struct {
		Path    string `json:"path"`
		State   string `json:"state"`
		DstETag string `json:"dst_etag"`
		Size    int64  `json:"size"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &obj) != nil || obj.Path != "large/big-0.bin" ||
		obj.State != "done" || obj.Size != 12<<20 || obj.DstETag == "" {
		t.Fatalf("catalog ls --prefix large/ --format json: %q", ls.stdout)
	}
	ls = mustFerry(t, nil, "catalog", "ls", cats[0], "--limit", "5", "--format", "csv")
	if n := len(strings.Split(strings.TrimSpace(ls.stdout), "\n")); n != 6 || !strings.HasPrefix(ls.stdout, "path,state,size") {
		t.Fatalf("catalog ls --limit 5 --format csv: %d lines\n%s", n, ls.stdout)
	}
	if f := mustFerry(t, nil, "catalog", "failed", cats[0]); strings.Count(f.stdout, "\n") != 1 {
		t.Fatalf("catalog failed lists rows although nothing failed:\n%s", f.stdout)
	}
	if r := ferry(t, nil, "catalog", "stats", filepath.Join(state, "missing.db")); r.code == 0 {
		t.Fatal("catalog stats of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(state, "missing.db")); !os.IsNotExist(err) {
		t.Fatal("catalog stats created a missing catalog")
	}
}
