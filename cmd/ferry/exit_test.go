package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/catalog"
)

// ferryRun runs the ferry command line args in-process with the variables
// vars (and nothing else) and returns its exit code, stdout and stderr.
func ferryRun(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"ferry"}, args...), &out, &errb, func(k string) string { return vars[k] })
	t.Logf("ferry %s → %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// wantOneLine fails unless stderr is exactly one line "ferry: …want…" and
// nothing looks like a help page or a stack trace.
func wantOneLine(t *testing.T, code, wantCode int, stdout, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != wantCode || len(lines) != 1 || !strings.HasPrefix(lines[0], "ferry: ") || !strings.Contains(lines[0], want) {
		t.Fatalf("exit %d, stderr %q: want exit %d and one line 'ferry: …%s…'", code, stderr, wantCode, want)
	}
	for _, bad := range []string{"USAGE:", "Incorrect Usage", "goroutine ", "panic"} {
		if strings.Contains(stdout+stderr, bad) {
			t.Fatalf("output holds %q:\n%s%s", bad, stdout, stderr)
		}
	}
}

// listDir returns the names below dir, recursively, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestRun_UsageErrors: every usage error — an unknown command, a bad or
// missing flag, a number or duration out of range, overlapping locations,
// destination keys missing — is one line and exit 2, and creates nothing:
// no destination directory, no catalog, no lock file.
func TestRun_UsageErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out", "deeper")
	cat := filepath.Join(dir, "c.db")
	run := func(extra ...string) []string {
		return append([]string{"migrate", "run", "--from", src, "--to", dst, "--catalog", cat}, extra...)
	}
	// A master with its tokens, refused before it opens a catalog (and, if
	// it got that far, unable to listen: a test that never blocks).
	master := func(extra ...string) []string {
		return append([]string{"master", "--db", filepath.Join(dir, "master.db"), "--listen", "127.0.0.1:no-port"}, extra...)
	}
	tokens := map[string]string{"FERRY_ADMIN_TOKEN": "admin-token", "FERRY_CLUSTER_TOKEN": "cluster-token"}
	s3 := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "us-east-1"}
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"runn"}, `unknown command "runn"`},
		{"unknown subcommand", nil, []string{"migrate", "runn"}, `unknown command "migrate runn"`},
		{"unknown flag", nil, run("--bogus"), "migrate run: flag provided but not defined: -bogus"},
		{"bad number", nil, run("--workers", "many"), "migrate run: invalid value"},
		{"missing required flag", nil, []string{"master"}, "master needs --db"},
		{"progress interval 0", nil, run("--progress-interval", "0"), "--progress-interval 0s: must be more than 0"},
		{"progress interval negative", nil, run("--progress-interval", "-1s"), "--progress-interval -1s: must be more than 0"},
		{"progress mode", nil, run("--progress", "fancy"), `--progress "fancy": want auto, bar, line or none`},
		{"bwlimit 0", nil, run("--bwlimit", "0"), `--bwlimit "0": must be more than 0`},
		{"part size 0", nil, run("--part-size", "0"), "--part-size must be more than 0"},
		{"part size 4KiB", nil, run("--part-size", "4KiB"), "--part-size 4.0 KiB: this destination takes parts of 1.0 MiB to 5.0 GiB"},
		{"part size 1TB", nil, run("--part-size", "1TB"), "--part-size 1.0 TiB: this destination takes parts of"},
		{"attempts 0", nil, run("--attempts", "0"), "--attempts must be at least 1"},
		{"destination inside source", nil, []string{"migrate", "run", "--from", src, "--to", filepath.Join(src, "out"), "--catalog", cat}, "is inside source"},
		{"destination is source", nil, []string{"migrate", "run", "--from", src, "--to", src + "/./", "--catalog", cat}, "are the same location"},
		{"source inside destination", nil, []string{"migrate", "run", "--from", filepath.Join(src, "sub"), "--to", src, "--catalog", cat}, "is inside destination"},
		{"bucket prefixes overlap", s3, []string{"migrate", "run", "--from", "s3://b/p", "--to", "s3://b/p/x", "--catalog", cat}, "destination s3://b/p/x is inside source s3://b/p"},
		{"whole bucket overlaps", s3, []string{"migrate", "run", "--from", "s3://b", "--to", "s3://b/x", "--catalog", cat}, "is inside source"},
		{"destination without keys", map[string]string{"AWS_REGION": "us-east-1"}, nil, ""},
		{"catalog of another kind", nil, []string{"catalog", "stats", filepath.Join(src, "a.txt")}, "not a Ferry catalog"},
		{"missing catalog", nil, []string{"catalog", "stats", filepath.Join(dir, "none.db")}, "no such file"},
		{"catalog limit", nil, []string{"catalog", "ls", filepath.Join(dir, "none.db"), "--limit", "-1"}, "--limit -1"},
		{"master lease ttl 0", tokens, master("--lease-ttl", "0"), "--lease-ttl 0s: must be more than 0"},
		{"master lease ttl negative", tokens, master("--lease-ttl", "-5s"), "--lease-ttl -5s: must be more than 0"},
		{"master heartbeat 0", tokens, master("--heartbeat", "0"), "--heartbeat 0s: must be more than 0"},
		{"master heartbeat negative", tokens, master("--heartbeat", "-1s"), "--heartbeat -1s: must be more than 0"},
		{"master heartbeat is the lease ttl", tokens, master("--heartbeat", "15s"), "--heartbeat 15s must be less than --lease-ttl 15s"},
		{"master heartbeat above the lease ttl", tokens, master("--lease-ttl", "3s", "--heartbeat", "5s"), "--heartbeat 5s must be less than --lease-ttl 3s"},
		{"master ranges 0", tokens, master("--ranges", "0"), "--ranges 0: must be at least 1"},
		{"master ranges negative", tokens, master("--ranges", "-3"), "--ranges -3: must be at least 1"},
		{"mount ttl", nil, []string{"mount", "--entry-ttl", "-1s", src, dir}, "--entry-ttl -1s: must be 0"},
		{"mount read-ahead", nil, []string{"mount", "--read-ahead", "16MiB", "--max-read-ahead", "8MiB", src, dir}, "--max-read-ahead 8.0 MiB is below --read-ahead 16.0 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			want := c.want
			if c.name == "destination without keys" {
				args = []string{"migrate", "run", "--from", src, "--to", "s3://bucket/x", "--catalog", cat}
				want = "s3://bucket/x: no credentials for the destination: set FERRY_DST_AWS_ACCESS_KEY_ID"
			}
			code, stdout, stderr := ferryRun(t, c.vars, args...)
			wantOneLine(t, code, exitUsage, stdout, stderr, want)
			if got := listDir(t, dir); strings.Join(got, " ") != "src src/a.txt src/sub" {
				t.Fatalf("a refused command left files: %q", got)
			}
		})
	}
}

// TestRun_BadCatalogCreatesNothing: a catalog that is busy, not a catalog
// (garbage, or SQLite of another program in WAL mode) is refused with exit
// 2 before the destination directory, a lock, -wal or -shm file exists.
func TestRun_BadCatalogCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cats := t.TempDir()
	garbage := filepath.Join(cats, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(cats, "foreign.db")
	db, err := sql.Open("sqlite3", "file:"+foreign+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cat, want string }{
		{garbage, "not a Ferry catalog (file is not a database)"},
		{foreign, "not a Ferry catalog (SQLite database of another application)"},
	} {
		before := listDir(t, cats)
		dst := filepath.Join(dir, "out")
		code, stdout, stderr := ferryRun(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", c.cat)
		wantOneLine(t, code, exitUsage, stdout, stderr, c.want)
		if after := listDir(t, cats); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Fatalf("files beside %s: %q, before %q", c.cat, after, before)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Fatalf("the destination directory was created: %v", err)
		}
	}

	busy := filepath.Join(cats, "busy.db")
	holder, err := catalog.Open(ctx, busy)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	dst := filepath.Join(dir, "busy-out")
	code, stdout, stderr := ferryRun(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", busy)
	wantOneLine(t, code, exitUsage, stdout, stderr, "in use by another ferry process")
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("the destination directory was created: %v", err)
	}
}

// TestRun_CatalogCommandsLeaveNoFiles: ferry catalog stats, ls and failed
// read a catalog at rest without leaving -wal or -shm files beside it.
func TestRun_CatalogCommandsLeaveNoFiles(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cats := t.TempDir()
	cat := filepath.Join(cats, "c.db")
	if code, _, _ := ferryRun(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--progress", "none"); code != 0 {
		t.Fatalf("migrate exited %d", code)
	}
	before := listDir(t, cats)
	for _, args := range [][]string{{"stats", cat}, {"stats", cat, "--format", "json"}, {"ls", cat}, {"failed", cat, "--format", "csv"}} {
		if code, _, _ := ferryRun(t, nil, append([]string{"catalog"}, args...)...); code != 0 {
			t.Fatalf("catalog %v exited %d", args, code)
		}
		if after := listDir(t, cats); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Fatalf("catalog %v left files: %q, before %q", args, after, before)
		}
	}
	// A dry run reads the catalog too.
	if code, _, _ := ferryRun(t, nil, "migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--dry-run"); code != 0 {
		t.Fatalf("dry run exited %d", code)
	}
	if after := listDir(t, cats); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("a dry run left files: %q, before %q", after, before)
	}
}

// TestRun_Version: ferry version and ferry --version print the version,
// the commit and the Go version on one line.
func TestRun_Version(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := ferryRun(t, nil, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "ferry ") || !strings.Contains(stdout, "commit ") ||
			!strings.Contains(stdout, runtime.Version()) || strings.Count(stdout, "\n") != 1 {
			t.Fatalf("ferry %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// TestRun_HelpAfterArguments: --help after a command's arguments shows that
// command's help ("ferry fetch status --help": status is an argument).
func TestRun_HelpAfterArguments(t *testing.T) {
	for _, args := range [][]string{{"fetch", "status", "--help"}, {"catalog", "ls", "x.db", "-h"}} {
		code, stdout, stderr := ferryRun(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "USAGE:") || strings.Contains(stderr, "No help topic") {
			t.Fatalf("ferry %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
