package mount

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// bdiReadAhead reads the kernel read-ahead of the file system at mp.
func bdiReadAhead(t *testing.T, mp string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(mp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := readBDIReadAhead(real)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readBDIReadAhead reads read_ahead_kb of the mount at the resolved path
// mp without a request to the mount itself.
func readBDIReadAhead(mp string) (string, error) {
	p, err := bdiReadAheadPath(mp)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func TestMount_KernelReadAhead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting the kernel read-ahead needs root (sysfs)")
	}
	src := t.TempDir()
	_, on := mountT(t, localTree(t, src), DefaultOptions())
	if got := bdiReadAhead(t, on); got != fmt.Sprint(kernelReadAheadKB) {
		t.Errorf("read-ahead on: kernel read_ahead_kb %s, want %d", got, kernelReadAheadKB)
	}
	o := DefaultOptions()
	o.ReadAhead = 0
	_, off := mountT(t, localTree(t, src), o)
	if got := bdiReadAhead(t, off); got != "128" {
		t.Errorf("read-ahead off: kernel read_ahead_kb %s, want the kernel's 128", got)
	}
}

// TestMount_ReadAheadBeforeFirstOpen checks the kernel read-ahead is set
// when the server reads its first request after INIT: an open(2) needs a
// LOOKUP answered first, so no file of the mount can start with the
// kernel's default. go-fuse logs each request (Options.Debug) after
// reading it and before handling it, synchronously; the log hook reads the
// setting right there, from sysfs via mountinfo, without a request to the
// mount. The first such request is at the latest the one of WaitMount's
// poll hack, which Mount waits for, so the check never depends on timing.
func TestMount_ReadAheadBeforeFirstOpen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting the kernel read-ahead needs root (sysfs)")
	}
	mp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu            sync.Mutex
		firstOp, kb   string
		readErr       error
		seen, started bool
	)
	o := DefaultOptions()
	o.Debug = true
	o.Logger = slog.New(requestHook(func(op, _ string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case op == "INIT":
			started = true
		case started && !seen:
			seen, firstOp = true, op
			kb, readErr = readBDIReadAhead(mp)
		}
	}))
	mountAt(t, localTree(t, t.TempDir()), mp, o, true)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("first request after INIT: %s, read_ahead_kb %s", firstOp, kb)
	switch {
	case !seen:
		t.Fatal("Mount returned before the server read any request after INIT")
	case readErr != nil:
		t.Fatalf("kernel read-ahead at the first request (%s): %v", firstOp, readErr)
	case kb != fmt.Sprint(kernelReadAheadKB):
		t.Errorf("kernel read_ahead_kb %s when the server read its first request (%s), want %d", kb, firstOp, kernelReadAheadKB)
	}
}
