package mount

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// smapsFlags returns the VmFlags of the mapping starting at addr in
// /proc/self/smaps, and whether there is one.
func smapsFlags(t *testing.T, addr uintptr) (string, bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := fmt.Sprintf("%x-", addr)
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, start) {
			found = true
		} else if found && strings.HasPrefix(line, "VmFlags:") {
			return line, true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return "", found
}

func TestNewBuffer_HugePagesOutsideTheHeap(t *testing.T) {
	for _, tc := range []struct {
		size int64
		huge bool
	}{{16 << 20, true}, {hugePage, true}, {128 << 10, false}} {
		b, err := newBuffer(tc.size)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != tc.size {
			t.Fatalf("newBuffer(%d): %d bytes", tc.size, len(b))
		}
		for i := range b {
			if b[i] != 0 {
				t.Fatalf("newBuffer(%d): byte %d is %d, want 0", tc.size, i, b[i])
			}
			b[i] = byte(i)
		}
		addr := uintptr(unsafe.Pointer(&b[0]))
		flags, ok := smapsFlags(t, addr)
		if !ok {
			t.Fatalf("newBuffer(%d): no mapping of its own starts at %#x", tc.size, addr)
		}
		// "hg" is MADV_HUGEPAGE: the kernel may back the buffer with huge
		// pages whatever the machine's THP mode short of "never".
		if got := strings.Contains(flags, " hg"); got != tc.huge {
			t.Errorf("newBuffer(%d): %s; huge-page advice %v, want %v", tc.size, flags, got, tc.huge)
		}
		freeBuffer(b)
		if _, ok := smapsFlags(t, addr); ok {
			t.Fatalf("freeBuffer: the mapping at %#x is still there", addr)
		}
	}
}

func TestFreeBuffer_IgnoresHeapMemory(t *testing.T) {
	b := make([]byte, 1<<20)
	freeBuffer(b) // must not unmap the Go heap
	for i := range b {
		b[i] = 1
	}
}
