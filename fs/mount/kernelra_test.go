package mount

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// bdiReadAhead reads the kernel read-ahead of the file system at mp.
func bdiReadAhead(t *testing.T, mp string) string {
	t.Helper()
	p, err := bdiReadAheadPath(mp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
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
