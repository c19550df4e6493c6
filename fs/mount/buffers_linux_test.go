package mount

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// vma is one mapping of /proc/self/smaps.
type vma struct {
	lo, hi uintptr
	flags  string // its VmFlags line
}

// mappingAt returns the mapping holding addr, and whether one does. (The
// kernel may merge a new mapping with a neighbour of the same kind, so it
// need not start at addr.)
func mappingAt(t *testing.T, addr uintptr) (vma, bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur vma
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			cur, found = vma{lo: lo, hi: hi}, lo <= addr && addr < hi
		} else if found && strings.HasPrefix(line, "VmFlags:") {
			cur.flags = line
			return cur, true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vma{}, false
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
		m, ok := mappingAt(t, addr)
		if !ok {
			t.Fatalf("newBuffer(%d): no mapping holds %#x", tc.size, addr)
		}
		// "hg" is MADV_HUGEPAGE: the kernel may back the buffer with huge
		// pages whatever the machine's THP mode short of "never".
		if got := strings.Contains(m.flags, " hg"); got != tc.huge {
			t.Errorf("newBuffer(%d): %s; huge-page advice %v, want %v", tc.size, m.flags, got, tc.huge)
		}
		freeBuffer(b)
		// The runtime may map something else into the hole at once; the
		// buffer's own mapping must be gone.
		if after, ok := mappingAt(t, addr); ok && after.lo == m.lo && after.hi == m.hi {
			t.Fatalf("freeBuffer: the mapping %#x-%#x is still there", m.lo, m.hi)
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
