package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/check"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckRun_ExitCodes: identical directories exit 0; differing ones
// exit exitDiffer with one line naming the differences file, which holds
// each difference.
func TestCheckRun_ExitCodes(t *testing.T) {
	a := writeFiles(t, map[string]string{"x": "1", "d/y": "abc", "m": "only here"})
	b := writeFiles(t, map[string]string{"x": "1", "d/y": "abd", "z": "extra"})
	same := writeFiles(t, map[string]string{"x": "1", "d/y": "abc", "m": "only here"})

	code, out, _ := ferryRun(t, nil, "check", "--from", a, "--to", same, "--download")
	if code != exitOK || !strings.Contains(out, "identical") {
		t.Fatalf("identical directories: exit %d, %q", code, out)
	}

	diffs := filepath.Join(t.TempDir(), "d.csv")
	code, out, errOut := ferryRun(t, nil, "check", "--from", a, "--to", b, "--download", "--differences", diffs)
	wantOneLine(t, code, exitDiffer, out, errOut, "differ: 3 difference(s); see "+diffs)
	body, err := os.ReadFile(diffs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"d/y,bytes,", "m,missing,", "z,extra,"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("differences file lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(out, "same 1, missing 1, extra 1, size differs 0, checksum differs 0, bytes differ 1, errors 0") {
		t.Fatalf("summary %q", out)
	}
}

// TestCheckRun_MissingDestination: a destination directory that does not
// exist is a location error (exit 2), not a destination missing everything.
func TestCheckRun_MissingDestination(t *testing.T) {
	a := writeFiles(t, map[string]string{"x": "1"})
	code, out, errOut := ferryRun(t, nil, "check", "--from", a, "--to", filepath.Join(t.TempDir(), "absent"))
	wantOneLine(t, code, exitUsage, out, errOut, "no such file or directory")
}

func TestCheckProgressLine(t *testing.T) {
	var p check.Progress
	p.Counts[check.Same], p.Counts[check.Missing], p.Counts[check.Error] = 8, 2, 1
	p.Checked, p.Elapsed, p.Read = 11, time.Second, 3<<20
	got := checkProgressLine(p)
	if !strings.Contains(got, "checked 11+ (same 8, different 2, errors 1)") || !strings.Contains(got, "read 3") || !strings.Contains(got, "11 objects/s") {
		t.Fatalf("progress line %q", got)
	}
}
