package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/test/miniotest"
)

// checkExitDiffer is ferry check's exit code when the sides differ.
const checkExitDiffer = 4

// TestCheck_LocalToMinIO and TestCheck_LocalToUS3: a tree copied by
// migrate run checks identical (exit 0, with and without --download);
// after the source changes by one object of each kind, check reports each
// in the differences file (a same-size change only with --download) and
// exits 4.
func TestCheck_LocalToMinIO(t *testing.T) {
	m := miniotest.Start(t)
	m.CreateBucket(t, "dst")
	checkPair(t, minioEnv(m, ""), "s3://dst/copy")
}

func TestCheck_LocalToUS3(t *testing.T) {
	e := startEmu(t, "dst")
	checkPair(t, e.env(), "us3://dst/copy/")
}

func checkPair(t *testing.T, vars map[string]string, to string) {
	src := t.TempDir()
	write := func(rel string, b []byte) {
		p := filepath.Join(src, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 12<<20/16) // multipart at 5 MiB parts
	write("a-c", []byte("first"))
	write("a/b.txt", []byte("resize me"))
	write("a/z/deep.bin", []byte("same size, other bytes"))
	write("with space/ü.txt", []byte("unicode"))
	write("gone.txt", []byte("deleted at the source: extra at the destination"))
	write("empty", nil)
	write("big.bin", big)
	mustFerry(t, vars, "migrate", "run", "--from", src, "--to", to, "--catalog", filepath.Join(t.TempDir(), "cat.db"), "--part-size", "5MiB")

	for _, extra := range [][]string{nil, {"--download"}} {
		r := mustFerry(t, vars, append([]string{"check", "--from", src, "--to", to, "--progress", "none"}, extra...)...)
		if !strings.Contains(r.stdout, "identical") || !strings.Contains(r.stdout, "7 object(s): same 7,") {
			t.Fatalf("check %v of a fresh copy: %q", extra, r.stdout)
		}
	}
	// The other way round: the store as source, the directory listed.
	r := mustFerry(t, vars, "check", "--from", to, "--to", src, "--download")
	if !strings.Contains(r.stdout, "identical") {
		t.Fatalf("check %s → directory of a fresh copy: %q", to, r.stdout)
	}

	write("new.txt", []byte("missing at the destination"))
	write("a/b.txt", []byte("resized: longer than before"))
	deep := []byte("same size, other bytes")
	deep[0] = 'S'
	write("a/z/deep.bin", deep)
	if err := os.Remove(filepath.Join(src, "gone.txt")); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	csvFile := filepath.Join(dir, "diff.csv")
	r = ferry(t, vars, "check", "--from", src, "--to", to, "--differences", csvFile)
	if r.code != checkExitDiffer {
		t.Fatalf("check after changes exited %d, want %d: %s", r.code, checkExitDiffer, r.stderr)
	}
	checkOneLineError(t, r, "differ: 3 difference(s)")
	got := readCSVDiffs(t, csvFile)
	want := "[a/b.txt=size gone.txt=extra new.txt=missing]"
	if got != want {
		t.Fatalf("differences without --download %s, want %s", got, want)
	}

	jsonFile := filepath.Join(dir, "diff.jsonl")
	r = ferry(t, vars, "check", "--from", src, "--to", to, "--download", "--workers", "2", "--differences", jsonFile)
	if r.code != checkExitDiffer {
		t.Fatalf("check --download after changes exited %d, want %d: %s", r.code, checkExitDiffer, r.stderr)
	}
	if !strings.Contains(r.stdout, "same 4, missing 1, extra 1, size differs 1, checksum differs 0, bytes differ 1, errors 0") {
		t.Fatalf("check --download summary %q", r.stdout)
	}
	got = readJSONDiffs(t, jsonFile)
	want = "[a/b.txt=size a/z/deep.bin=bytes gone.txt=extra new.txt=missing]"
	if got != want {
		t.Fatalf("differences with --download %s, want %s", got, want)
	}

	// The other way round, what was missing is extra and the reverse.
	r = ferry(t, vars, "check", "--from", to, "--to", src, "--download", "--differences", jsonFile)
	if r.code != checkExitDiffer {
		t.Fatalf("check --download store → directory exited %d, want %d: %s", r.code, checkExitDiffer, r.stderr)
	}
	got = readJSONDiffs(t, jsonFile)
	want = "[a/b.txt=size a/z/deep.bin=bytes gone.txt=missing new.txt=extra]"
	if got != want {
		t.Fatalf("differences store → directory %s, want %s", got, want)
	}

	// Filters leave the changed objects out: identical again.
	r = mustFerry(t, vars, "check", "--from", src, "--to", to, "--download", "--exclude", "a/**", "--exclude", "*.txt")
	if !strings.Contains(r.stdout, "identical") {
		t.Fatalf("check with filters: %q", r.stdout)
	}
}

// readCSVDiffs returns a differences CSV as "[key=kind …]" sorted by key.
func readCSVDiffs(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "key,kind,detail,src_size,dst_size,src_etag,dst_etag" {
		t.Fatalf("differences CSV header %v", rows)
	}
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[0]+"="+row[1])
	}
	sort.Strings(out)
	return "[" + strings.Join(out, " ") + "]"
}

// readJSONDiffs returns a differences JSON Lines file as "[key=kind …]".
func readJSONDiffs(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var d struct{ Key, Kind string }
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("differences line %q: %v", line, err)
		}
		out = append(out, d.Key+"="+d.Kind)
	}
	sort.Strings(out)
	return "[" + strings.Join(out, " ") + "]"
}

// TestCheck_Usage: check without a destination, or with a bad pattern or
// worker count, is a usage error (exit 2) on one line.
func TestCheck_Usage(t *testing.T) {
	src := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--from", src}, "check needs --from and --to"},
		{[]string{"check", "--from", src, "--to", src, "--workers", "0"}, "--workers must be between 1 and 1024"},
		{[]string{"check", "--from", src, "--to", src, "--include", "[a"}, "unclosed"},
		{[]string{"check", "--from", src, "--to", src, "--progress", "loud"}, "--progress"},
	} {
		r := ferry(t, nil, c.args...)
		if r.code != 2 {
			t.Fatalf("%v exited %d, want 2: %s", c.args, r.code, r.stderr)
		}
		checkOneLineError(t, r, c.want)
	}
}
