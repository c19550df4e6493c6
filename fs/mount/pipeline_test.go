package mount

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// gateTree wraps a Tree so that a read-ahead fetch (a ReadAt larger than
// any kernel request) may proceed only while want fetches, itself
// included, are waiting at the gate at once; then the one with the lowest
// offset goes. Once the fetch reaching the end of the file has arrived the
// rest go in order. A reader can therefore only get through the file if
// the mount keeps at least want fetches in flight the whole way: with
// fewer the gate never opens and the read stalls (a stall guard then opens
// the gate for good and records it, so that the test fails instead of
// hanging).
type gateTree struct {
	fs.Tree
	want int

	mu      sync.Mutex
	cond    *sync.Cond
	waiting []int64 // offsets of fetches held at the gate
	eof     bool    // the fetch reaching end of file has arrived
	stalled bool    // the stall guard opened the gate
	fetches int     // fetches seen
	running int     // fetches between arrival and return
	peak    int     // most fetches running at once
	sizes   []int   // every fetch's length, in arrival order
	moved   chan struct{}
}

var _ fs.Tree = (*gateTree)(nil)

func newGateTree(tr fs.Tree, want int) *gateTree {
	g := &gateTree{Tree: tr, want: want, moved: make(chan struct{}, 1)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gateTree) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := g.Tree.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	e, err := g.Tree.Stat(ctx, p)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &gateFile{File: f, g: g, size: e.Size}, nil
}

// guard opens the gate for good if no fetch has gone through for a long
// while (a hang guard, not a timing assertion: a working mount passes the
// gate as soon as enough fetches are in flight).
func (g *gateTree) guard(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-g.moved:
		case <-time.After(30 * time.Second):
			g.mu.Lock()
			g.stalled = true
			g.cond.Broadcast()
			g.mu.Unlock()
			return
		}
	}
}

type gateFile struct {
	fs.File
	g    *gateTree
	size int64
}

func (f *gateFile) ReadAt(p []byte, off int64) (int, error) {
	if len(p) <= 1<<20 { // a kernel request read straight through
		return f.File.ReadAt(p, off)
	}
	g := f.g
	g.mu.Lock()
	g.fetches++
	g.running++
	g.peak = max(g.peak, g.running)
	g.sizes = append(g.sizes, len(p))
	g.waiting = append(g.waiting, off)
	if off+int64(len(p)) >= f.size {
		g.eof = true
	}
	g.cond.Broadcast()
	for !g.stalled && !(slices.Min(g.waiting) == off && (len(g.waiting) >= g.want || g.eof)) {
		g.cond.Wait()
	}
	g.waiting = slices.DeleteFunc(g.waiting, func(o int64) bool { return o == off })
	g.cond.Broadcast()
	g.mu.Unlock()
	select {
	case g.moved <- struct{}{}:
	default:
	}
	n, err := f.File.ReadAt(p, off)
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return n, err
}

func TestHandle_KeepsFetchesInFlight(t *testing.T) {
	const size = 96 << 20
	src := t.TempDir()
	data := randomBytes(size, 7)
	if err := os.WriteFile(filepath.Join(src, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	const want = 3
	g := newGateTree(localTree(t, src), want)
	stop := make(chan struct{})
	defer close(stop)
	go g.guard(stop)
	_, mp := mountT(t, g, DefaultOptions())

	if got := readWhole(t, filepath.Join(mp, "big.bin")); got != sha256.Sum256(data) {
		t.Fatal("content differs")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stalled {
		t.Fatalf("sequential read stalled: the mount did not keep %d read-ahead fetches in flight (%d fetches, at most %d at once)",
			want, g.fetches, g.peak)
	}
	if g.peak < want || g.peak > maxInflight {
		t.Errorf("at most %d fetches ran at once, want between %d and %d", g.peak, want, maxInflight)
	}
	// The window grew: later fetches are larger than the first, up to the
	// largest chunk.
	ra := newReadAhead(DefaultOptions().normalized())
	if len(g.sizes) == 0 || int64(g.sizes[0]) > ra.chunkFor(DefaultReadAhead) {
		t.Errorf("first fetch %v, want at most %d bytes", g.sizes[:min(1, len(g.sizes))], ra.chunkFor(DefaultReadAhead))
	}
	if largest := slices.Max(g.sizes); int64(largest) != ra.chunk {
		t.Errorf("largest fetch %d bytes, want %d once the window has grown", largest, ra.chunk)
	}
	t.Logf("%d fetches, at most %d at once, sizes %s", g.fetches, g.peak, sizeList(g.sizes))
}

// sizeList prints fetch sizes in MiB.
func sizeList(sizes []int) string {
	out := ""
	for _, s := range sizes {
		out += fmt.Sprintf(" %.2g", float64(s)/(1<<20))
	}
	return out
}
