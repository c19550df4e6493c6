package mount

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
)

// gaugeFile is an in-memory fs.File that records the most ReadAt calls
// that ever ran at once, and whether it was closed.
type gaugeFile struct {
	r       *bytes.Reader
	mu      sync.Mutex
	running int
	peak    int
	calls   int
	closed  bool
}

func (g *gaugeFile) ReadAt(p []byte, off int64) (int, error) {
	g.mu.Lock()
	g.running++
	g.calls++
	g.peak = max(g.peak, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}()
	return g.r.ReadAt(p, off)
}

func (g *gaugeFile) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	return nil
}

// testReadAhead is the read-ahead of a mount with Options.ReadAhead
// window and the given budget.
func testReadAhead(window int64, b *budget) readAhead {
	ra := newReadAhead(Options{ReadAhead: window}.normalized())
	ra.budget = b
	return ra
}

// read answers a read the way the kernel would see it, copied into dest.
func (h *handle) read(ctx context.Context, dest []byte, off int64) (int, error) {
	r, err := h.readResult(ctx, dest, off)
	if err != nil {
		return 0, err
	}
	defer r.Done()
	b, st := r.Bytes(dest)
	if !st.Ok() {
		return 0, fmt.Errorf("read result: %v", st)
	}
	return copy(dest, b), nil
}

func TestHandle_Read(t *testing.T) {
	data := randomBytes(bigSize, 3)
	for _, window := range []int64{0, 1 << 20, DefaultReadAhead, 40 << 20} {
		g := &gaugeFile{r: bytes.NewReader(data)}
		life, cancel := context.WithCancel(context.Background())
		h := newHandle(life, g, cancel, "f", int64(len(data)), testReadAhead(window, nil), false, retrier{}, slog.New(slog.DiscardHandler))
		var got bytes.Buffer
		buf := make([]byte, 128<<10)
		for off := int64(0); ; {
			n, err := h.read(context.Background(), buf, off)
			if err != nil {
				t.Fatalf("window %d: read at %d: %v", window, off, err)
			}
			if n == 0 {
				break
			}
			got.Write(buf[:n])
			off += int64(n)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("window %d: sequential read returned different bytes", window)
		}
		// A backwards jump is served correctly too.
		n, err := h.read(context.Background(), buf[:1000], 12345)
		if err != nil || n != 1000 || !bytes.Equal(buf[:n], data[12345:13345]) {
			t.Fatalf("window %d: random read = %d, %v", window, n, err)
		}
		if errno := h.Release(context.Background()); errno != 0 {
			t.Fatalf("Release: %v", errno)
		}
		if g.peak > maxInflight {
			t.Errorf("window %d: %d ReadAt calls ran at once, want at most %d", window, g.peak, maxInflight)
		}
		if window == 0 && g.calls < bigSize/len(buf) {
			t.Errorf("no read-ahead: %d ReadAt calls, want one per read", g.calls)
		}
		if window >= chunkSize && g.calls > bigSize/chunkSize+4 {
			t.Errorf("window %d: %d ReadAt calls, want about one per %d-byte chunk", window, g.calls, chunkSize)
		}
		if !g.closed {
			t.Errorf("window %d: file not closed by Release", window)
		}
	}
}

func TestHandle_ReleaseWithQueuedChunks(t *testing.T) {
	data := randomBytes(bigSize, 4)
	g := &gaugeFile{r: bytes.NewReader(data)}
	h := newHandle(context.Background(), g, func() {}, "f", int64(len(data)), testReadAhead(40<<20, nil), false, retrier{}, slog.New(slog.DiscardHandler))
	buf := make([]byte, 4096)
	for _, off := range []int64{0, 4096} { // two contiguous reads queue the whole window
		if _, err := h.read(context.Background(), buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if errno := h.Release(context.Background()); errno != 0 {
		t.Fatalf("Release: %v", errno)
	}
	if !g.closed {
		t.Error("file not closed")
	}
	if g.running != 0 {
		t.Errorf("%d ReadAt calls still running after Release", g.running)
	}
	// The handle is gone: later fetch completions must not start more.
	calls := g.calls
	h.mu.Lock()
	h.launch()
	h.mu.Unlock()
	if g.calls != calls {
		t.Errorf("a released handle started %d more fetches", g.calls-calls)
	}
}
