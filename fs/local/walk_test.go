package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
	"github.com/ferry-project/ferry/fs/local"
)

// The tests below need directories that really cannot be read. Root reads
// any directory whatever its mode, so when the tests run as root they walk
// in a child process (this test binary, re-executed) running as uid 65534
// (nobody), where chmod 000 takes effect.

const childEnv = "FERRY_LOCAL_WALK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(walkChild())
	}
	os.Exit(m.Run())
}

// walkResult is what the child reports on stdout.
type walkResult struct {
	Paths []string `json:"paths"`
	Err   string   `json:"err"`
}

// walkChild walks FERRY_WALK_ROOT over [FERRY_WALK_START, FERRY_WALK_END),
// logging JSON to stderr and printing a walkResult on stdout.
func walkChild() int {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	var res walkResult
	tree, err := local.New(os.Getenv("FERRY_WALK_ROOT"))
	if err == nil {
		r := fs.Range{Start: os.Getenv("FERRY_WALK_START"), End: os.Getenv("FERRY_WALK_END")}
		err = tree.Walk(context.Background(), r, func(e fs.Entry) error {
			res.Paths = append(res.Paths, e.Path)
			return nil
		})
	}
	if err != nil {
		res.Err = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// lockedTree builds files under a fresh directory that uid 65534 can read,
// then makes the locked directories (relative paths) unreadable.
func lockedTree(t *testing.T, files []string, locked []string) string {
	t.Helper()
	base, err := os.MkdirTemp("", "ferry-local-walk-")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "root")
	t.Cleanup(func() {
		for _, l := range locked {
			os.Chmod(filepath.Join(root, l), 0o755)
		}
		os.RemoveAll(base)
	})
	fx := fstest.Files{}
	for _, f := range files {
		fx[f] = []byte(f)
	}
	writeFiles(t, root, fx)
	err = filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locked {
		if err := os.Chmod(filepath.Join(root, l), 0); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// childBinary copies this test binary into dir, where uid 65534 can run
// it, once per dir.
func childBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "walkchild.test")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// walkAsUser walks root over r in a child process (as uid 65534 when the
// test runs as root) and returns its result and its slog output.
// The binary lives beside the tree built by lockedTree, in base.
func walkAsUser(t *testing.T, base, root string, r fs.Range) (walkResult, string) {
	t.Helper()
	cmd := exec.Command(childBinary(t, base))
	cmd.Env = append(os.Environ(), childEnv+"=1", "FERRY_WALK_ROOT="+root,
		"FERRY_WALK_START="+r.Start, "FERRY_WALK_END="+r.End,
		"GORACE=atexit_sleep_ms=0") // the race runtime would sleep 1s at exit
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot start a process as uid 65534 to make a directory unreadable for root: %v", err)
		}
		t.Fatalf("walk child: %v\nstderr: %s", err, stderr.String())
	}
	var res walkResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("walk child output %q: %v", out, err)
	}
	return res, stderr.String()
}

// unreadableLogs returns the paths of the "skipping unreadable directory"
// log records, relative to root.
func unreadableLogs(t *testing.T, root, logs string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Msg  string `json:"msg"`
			Path string `json:"path"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			continue // e.g. race detector output
		}
		if rec.Msg == "walk: skipping unreadable directory" {
			rel, _ := filepath.Rel(root, rec.Path)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out
}

func TestTree_WalkUnreadableSubdirectory(t *testing.T) {
	root := lockedTree(t,
		[]string{"a.txt", "b/x.txt", "b0/ok.txt", "c/d/e.txt", "c/locked/y.txt", "z.txt"},
		[]string{"b", "c/locked"})
	res, logs := walkAsUser(t, filepath.Dir(root), root, fs.All)
	if res.Err != "" {
		t.Fatalf("Walk with unreadable subdirectories: %s, want the walk to go on", res.Err)
	}
	if want := []string{"a.txt", "b0/ok.txt", "c/d/e.txt", "z.txt"}; !equal(res.Paths, want) {
		t.Errorf("Walk = %q, want %q", res.Paths, want)
	}
	if got, want := unreadableLogs(t, root, logs), []string{"b", "c/locked"}; !equal(got, want) {
		t.Errorf("unreadable directories logged: %q, want %q\nlogs: %s", got, want, logs)
	}

	res, _ = walkAsUser(t, filepath.Dir(root), filepath.Join(root, "b"), fs.All)
	if !strings.Contains(res.Err, "permission denied") || len(res.Paths) != 0 {
		t.Errorf("Walk of an unreadable root = %q, err %q; want a permission error", res.Paths, res.Err)
	}
}

func TestTree_WalkPrunesByRange(t *testing.T) {
	// Every locked directory lies outside [m/b, m/c0): a walk of that range
	// that reads none of them logs nothing.
	root := lockedTree(t,
		[]string{"a/x.txt", "m/a/x.txt", "m/b.txt", "m/c/y.txt", "m/z/w.txt", "z/x.txt"},
		[]string{"a", "m/a", "m/z", "z"})
	res, logs := walkAsUser(t, filepath.Dir(root), root, fs.Range{Start: "m/b", End: "m/c0"})
	if res.Err != "" {
		t.Fatalf("Walk: %s", res.Err)
	}
	if want := []string{"m/b.txt", "m/c/y.txt"}; !equal(res.Paths, want) {
		t.Errorf("Walk[m/b, m/c0) = %q, want %q", res.Paths, want)
	}
	if got := unreadableLogs(t, root, logs); len(got) != 0 {
		t.Errorf("Walk[m/b, m/c0) read directories outside the range: %q", got)
	}

	// The same tree over [m/, m0) must read m/a and m/z, and nothing else.
	res, logs = walkAsUser(t, filepath.Dir(root), root, fs.Range{Start: "m/", End: "m0"})
	if want := []string{"m/b.txt", "m/c/y.txt"}; res.Err != "" || !equal(res.Paths, want) {
		t.Errorf("Walk[m/, m0) = %q, err %q; want %q", res.Paths, res.Err, want)
	}
	if got, want := unreadableLogs(t, root, logs), []string{"m/a", "m/z"}; !equal(got, want) {
		t.Errorf("Walk[m/, m0) logged unreadable %q, want %q", got, want)
	}
}
