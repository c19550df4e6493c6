package mount

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// sizeFile is an in-memory fs.File that records the length of every
// ReadAt larger than a kernel request (the read-ahead fetches), in order.
type sizeFile struct {
	r     *bytes.Reader
	mu    sync.Mutex
	sizes []int
}

func (s *sizeFile) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > 128<<10 {
		s.mu.Lock()
		s.sizes = append(s.sizes, len(p))
		s.mu.Unlock()
	}
	return s.r.ReadAt(p, off)
}

func (s *sizeFile) Close() error { return nil }

func (s *sizeFile) take() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sizes
	s.sizes = nil
	return out
}

// settle waits until every chunk h has queued is fetched, so that the
// fetches a test sees next are those of its next reads.
func settle(h *handle) {
	h.mu.Lock()
	chunks := slices.Clone(h.chunks)
	h.mu.Unlock()
	for _, c := range chunks {
		<-c.done
	}
}

// readSeq reads [off, end) in 128 KiB requests and checks the bytes.
func readSeq(t *testing.T, h *handle, data []byte, off, end int64) {
	t.Helper()
	buf := make([]byte, 128<<10)
	for off < end {
		n, err := h.read(context.Background(), buf, off)
		if err != nil || n == 0 {
			t.Fatalf("read at %d: %d, %v", off, n, err)
		}
		if !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
			t.Fatalf("read at %d: wrong bytes", off)
		}
		off += int64(n)
	}
}

func TestHandle_WindowGrows(t *testing.T) {
	data := randomBytes(40<<20, 5)
	f := &sizeFile{r: bytes.NewReader(data)}
	ra := testReadAhead(1<<20, nil) // window 1 MiB, growing to 8 MiB
	h := newHandle(context.Background(), f, func() {}, "f", int64(len(data)), ra, false, retrier{}, slog.New(slog.DiscardHandler))
	defer h.Release(context.Background())

	readSeq(t, h, data, 0, 20<<20)
	settle(h)
	first := f.take()
	if len(first) == 0 || int64(first[0]) != ra.chunkFor(ra.initial) {
		t.Fatalf("first fetches %v, want %d bytes first", first, ra.chunkFor(ra.initial))
	}
	if last := first[len(first)-1]; int64(last) != ra.chunk {
		t.Errorf("fetches %v: want the window grown to %d-byte chunks", first, ra.chunk)
	}
	h.mu.Lock()
	if h.window != ra.max {
		t.Errorf("window %d after 20 MiB read in order, want %d", h.window, ra.max)
	}
	h.mu.Unlock()

	// A jump starts over from the first window.
	readSeq(t, h, data, 30<<20, 31<<20)
	again := f.take()
	if len(again) == 0 || int64(again[0]) != ra.chunkFor(ra.initial) {
		t.Errorf("fetches after a jump %v, want %d bytes first", again, ra.chunkFor(ra.initial))
	}
}

func TestHandle_MemoryBounds(t *testing.T) {
	data := randomBytes(24<<20, 6)
	o := Options{ReadAhead: 1 << 20, ReadAheadMemory: 20 << 20}.normalized()
	b := newBudget(o.ReadAheadMemory)
	ra := newReadAhead(o)
	ra.budget = b
	var hs []*handle
	for range 3 {
		hs = append(hs, newHandle(context.Background(), &gaugeFile{r: bytes.NewReader(data)}, func() {}, "f", int64(len(data)), ra, false, retrier{}, slog.New(slog.DiscardHandler)))
	}
	// Three readers in step: together they would want more than the budget.
	var peak int64
	buf := make([]byte, 128<<10)
	for off := int64(0); off < int64(len(data)); off += int64(len(buf)) {
		for i, h := range hs {
			n, err := h.read(context.Background(), buf, off)
			if err != nil || !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
				t.Fatalf("handle %d: read at %d: %d bytes, %v", i, off, n, err)
			}
			h.bufMu.Lock()
			owned := h.owned
			h.bufMu.Unlock()
			if owned > ra.perFile() {
				t.Fatalf("handle %d holds %d bytes of buffers, bound %d", i, owned, ra.perFile())
			}
			used := b.inUse()
			if used > o.ReadAheadMemory {
				t.Fatalf("mount holds %d bytes of buffers, bound %d", used, o.ReadAheadMemory)
			}
			peak = max(peak, used)
		}
	}
	if peak <= ra.perFile() {
		t.Errorf("peak %d bytes: want more than one handle reading ahead", peak)
	}

	// A reply still being written keeps its buffer past Release; Done
	// gives it back.
	h := hs[0]
	readSeq(t, h, data, 0, 1<<20) // sequential again: read-ahead resumes
	res, err := h.readResult(context.Background(), buf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.(*chunkResult); !ok {
		t.Fatalf("read at 1 MiB answered with %T, want a read-ahead buffer", res)
	}
	for _, h := range hs {
		if errno := h.Release(context.Background()); errno != 0 {
			t.Fatalf("Release: %v", errno)
		}
	}
	if b.inUse() == 0 {
		t.Error("a buffer still being written went back to the budget at Release")
	}
	res.Done()
	res.Done() // twice is harmless
	if used := b.inUse(); used != 0 {
		t.Errorf("%d bytes still reserved after every handle was released", used)
	}
}

func TestOptions_ReadAhead(t *testing.T) {
	for _, tc := range []struct {
		name                string
		in                  Options
		initial, max, chunk int64
		perFile, mountWide  int64
		firstChunk          int64
	}{
		{"default", DefaultOptions(), 8 << 20, 64 << 20, 16 << 20, 96 << 20, 512 << 20, 2 << 20},
		{"disabled", Options{ReadAhead: 0, MaxReadAhead: 1 << 30}, 0, 0, 0, 0, 0, 0},
		{"negative", Options{ReadAhead: -1}, 0, 0, 0, 0, 0, 0},
		{"small", Options{ReadAhead: 1 << 20}, 1 << 20, 8 << 20, 2 << 20, 12 << 20, 512 << 20, 256 << 10},
		{"max below initial", Options{ReadAhead: 8 << 20, MaxReadAhead: 1 << 20}, 8 << 20, 8 << 20, 2 << 20, 12 << 20, 512 << 20, 2 << 20},
		{"budget below one file", Options{ReadAhead: 8 << 20, ReadAheadMemory: 1 << 20}, 8 << 20, 64 << 20, 16 << 20, 96 << 20, 96 << 20, 2 << 20},
		{"tiny", Options{ReadAhead: 4096}, 4096, 32 << 10, 128 << 10, 384 << 10, 512 << 20, 128 << 10},
	} {
		o := tc.in.normalized()
		ra := newReadAhead(o)
		got := []int64{ra.initial, ra.max, ra.chunk, ra.perFile(), o.ReadAheadMemory}
		want := []int64{tc.initial, tc.max, tc.chunk, tc.perFile, tc.mountWide}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: initial, max, chunk, per file, mount-wide = %v, want %v", tc.name, got, want)
				break
			}
		}
		if ra.initial > 0 {
			if c := ra.chunkFor(ra.initial); c != tc.firstChunk {
				t.Errorf("%s: first chunk %d, want %d", tc.name, c, tc.firstChunk)
			}
			if c := ra.chunkFor(ra.max); c != ra.chunk {
				t.Errorf("%s: chunk at the widest window %d, want %d", tc.name, c, ra.chunk)
			}
		}
	}
}

// TestHandle_SmallFileBuffers: a file smaller than a chunk gets read-ahead
// buffers no larger than itself, so reading many small files costs no
// large allocations.
func TestHandle_SmallFileBuffers(t *testing.T) {
	data := randomBytes(300<<10+5, 8)
	b := newBudget(DefaultReadAheadMemory)
	h := newHandle(context.Background(), &sizeFile{r: bytes.NewReader(data)}, func() {}, "f", int64(len(data)), testReadAhead(DefaultReadAhead, b), false, retrier{}, slog.New(slog.DiscardHandler))
	readSeq(t, h, data, 0, int64(len(data)))
	if used := b.inUse(); used == 0 || used > int64(len(data)) {
		t.Errorf("%d bytes of read-ahead buffers for a %d-byte file, want some but no more than the file", used, len(data))
	}
	if errno := h.Release(context.Background()); errno != 0 {
		t.Fatal(errno)
	}
	if used := b.inUse(); used != 0 {
		t.Errorf("%d bytes still reserved after Release", used)
	}
}
