package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExact_Interrupt: Ctrl-C (SIGINT) of a migration exits 130 with one
// line saying how to resume and how much is done and left, never a trace;
// the same command then finishes the copy.
func TestExact_Interrupt(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 200, large: []int{3 << 20}, seed: 31})
	dst := filepath.Join(t.TempDir(), "out")
	cat := filepath.Join(t.TempDir(), "c.db")
	args := []string{"migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--progress", "none"}
	cmd := exec.Command(bins.ferry, append(args, "--bwlimit", "256KiB", "--workers", "2")...)
	cmd.Env = ferryEnv(nil)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	t.Logf("exit %v (%d)\nstdout: %s\nstderr: %s", err, code, stdout.String(), stderr.String())
	if code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^ferry: interrupted — run the same command to resume \(\d+ done, \d+ left( so far)?\)$`).MatchString(last) {
		t.Fatalf("last stderr line %q, want the resume hint with counts", last)
	}
	if strings.Contains(stderr.String(), "goroutine ") || len(lines) != 2 {
		t.Fatalf("stderr holds more than the start line and the hint:\n%s", stderr.String())
	}
	mustFerry(t, nil, args...)
	compareSums(t, "after the resumed run", want, hashDir(t, dst))
}

// TestExact_UsageNeverTraces: inputs that used to panic or dump help
// (a zero progress interval, an unknown command, a bad flag, ferry fetch
// status --help) give one line and exit 2, or the help and exit 0.
func TestExact_UsageNeverTraces(t *testing.T) {
	src := t.TempDir()
	makeTree(t, src, treeSpec{small: 3, seed: 1})
	work := t.TempDir()
	cat := filepath.Join(work, "c.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "run", "--from", src, "--to", filepath.Join(work, "out"), "--catalog", cat, "--progress-interval", "0"}, "--progress-interval 0s: must be more than 0"},
		{[]string{"migrate", "run", "--from", src, "--to", filepath.Join(work, "out"), "--catalog", cat, "--part-size", "4KiB"}, "--part-size 4.0 KiB"},
		{[]string{"migrate", "run", "--from", src, "--to", filepath.Join(src, "out"), "--catalog", cat}, "is inside source"},
		{[]string{"runn"}, `unknown command "runn"`},
		{[]string{"migrate", "run", "--frm", src}, "migrate run: flag provided but not defined: -frm"},
	} {
		r := ferry(t, nil, c.args...)
		checkOneLineError(t, r, c.want)
		if r.code != 2 || strings.Contains(r.stdout, "USAGE:") {
			t.Fatalf("ferry %v: exit %d, stdout %q: want exit 2 and no help", c.args, r.code, r.stdout)
		}
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Fatalf("refused runs left %v", ents)
	}
	r := mustFerry(t, nil, "fetch", "status", "--help")
	if !strings.Contains(r.stdout, "ferry fetch status") {
		t.Fatalf("ferry fetch status --help:\n%s", r.stdout)
	}
	r = mustFerry(t, nil, "--version")
	if !strings.HasPrefix(r.stdout, "ferry ") || !strings.Contains(r.stdout, "commit ") || !strings.Contains(r.stdout, "go1") {
		t.Fatalf("ferry --version: %q", r.stdout)
	}
}

// TestExact_LsMissingPrefix: listing a prefix that holds no object is an
// error; an empty bucket is not.
func TestExact_LsMissingPrefix(t *testing.T) {
	e := startEmu(t, "dst")
	r := ferry(t, e.env(), "ls", "us3://dst/no/such/dir")
	checkOneLineError(t, r, "no such path")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	mustFerry(t, e.env(), "ls", "us3://dst")
}

// TestExact_S3DestinationWithoutKeys: an S3 destination with no keys in
// the environment is refused in one line before any request.
func TestExact_S3DestinationWithoutKeys(t *testing.T) {
	src := t.TempDir()
	makeTree(t, src, treeSpec{small: 2, seed: 2})
	r := ferry(t, map[string]string{"AWS_REGION": "us-east-1"}, "migrate", "run", "--from", src, "--to", "s3://some-bucket/x",
		"--catalog", filepath.Join(t.TempDir(), "c.db"))
	checkOneLineError(t, r, "no credentials for the destination")
	if r.code != 2 || strings.Contains(r.stderr, "HeadBucket") || strings.Contains(r.stderr, "no such host") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestExact_MasterFromEnvironment: FERRY_MASTER in the environment makes
// a plain migrate run an agent, and says so; with --from and --to it is
// refused, naming the variable.
func TestExact_MasterFromEnvironment(t *testing.T) {
	src := t.TempDir()
	vars := map[string]string{"FERRY_MASTER": "http://127.0.0.1:1", "FERRY_TOKEN": "t", "FERRY_STATE_DIR": t.TempDir()}
	r := ferry(t, vars, "migrate", "run", "--from", src, "--to", filepath.Join(t.TempDir(), "out"))
	checkOneLineError(t, r, "FERRY_MASTER=http://127.0.0.1:1 in the environment makes migrate run an agent")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}

	cmd := exec.Command(bins.ferry, "migrate", "run", "--name", "a1")
	cmd.Env = ferryEnv(vars)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		if sc.Scan() {
			first <- sc.Text()
		}
		for sc.Scan() {
		}
	}()
	select {
	case line := <-first:
		if !strings.Contains(line, "FERRY_MASTER=http://127.0.0.1:1 in the environment: running as an agent") {
			t.Fatalf("first stderr line %q, want the note that FERRY_MASTER made it an agent", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no stderr line")
	}
}
