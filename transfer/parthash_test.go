package transfer_test

import (
	"context"
	"fmt"
	"hash"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// closingChecksummer hands out part hashes with a Close method and counts
// how many were made and closed.
type closingChecksummer struct {
	fs.Checksummer
	made, closed atomic.Int64
	largest      atomic.Int64 // size asked for
}

func (c *closingChecksummer) PartHash(size int64) hash.Hash {
	c.made.Add(1)
	for cur := c.largest.Load(); size > cur && !c.largest.CompareAndSwap(cur, size); cur = c.largest.Load() {
	}
	return &closableHash{Hash: c.Checksummer.PartHash(size), closed: &c.closed}
}

type closableHash struct {
	hash.Hash
	closed *atomic.Int64
	done   bool
}

func (h *closableHash) Close() {
	if h.done {
		panic("part hash closed twice")
	}
	h.done = true
	h.closed.Add(1)
}

// closingSink is a Sink whose Checksummer is a closingChecksummer.
type closingSink struct {
	*countingSink
	*closingChecksummer
}

// flakyReadTree fails every read of one path after its first byte.
type flakyReadTree struct {
	fs.Tree
	bad string
}

func (t flakyReadTree) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := t.Tree.Open(ctx, p)
	if err != nil || p != t.bad {
		return f, err
	}
	return failingFile{f}, nil
}

type failingFile struct{ fs.File }

func (f failingFile) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	n, _ := f.File.ReadAt(p, off)
	return n, fmt.Errorf("read %d: %w", off, io.ErrUnexpectedEOF)
}

// TestEngine_Run_ClosesPartHashes: every part hash the engine asks for is
// closed once, after a good read and after a failed one alike, and the
// hash is asked for with the part's size.
func TestEngine_Run_ClosesPartHashes(t *testing.T) { bothModes(t, testEngineRunClosesPartHashes) }

func testEngineRunClosesPartHashes(t *testing.T, remote bool) {
	files := map[string][]byte{"a": randBytes(1, 16<<10), "b": randBytes(2, 700<<10), "c": randBytes(3, 3<<20+5), "bad": randBytes(4, 64<<10)}
	f := newFixtureMode(t, files, remote)
	f.tree = flakyReadTree{f.tree, "bad"}
	cs := &closingChecksummer{Checksummer: f.sink.Sink.(fs.Checksummer)}
	sink := closingSink{f.sink, cs}
	e, err := transfer.New(f.tree, sink, f.cat, transfer.Options{Workers: 4, PartSize: 1 << 20, Attempts: 2, ObjectRetryTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := e.Run(context.Background(), fs.All)
	if res.Copied != 3 || res.Failed != 1 {
		t.Fatalf("Run = %+v, want 3 copied and bad failed", res)
	}
	// a, b, 4 parts of c, and 2 attempts at bad.
	if made, closed := cs.made.Load(), cs.closed.Load(); made < 8 || closed != made {
		t.Errorf("part hashes: %d made, %d closed; want at least 8, all closed", made, closed)
	}
	if got := cs.largest.Load(); got != 1<<20 {
		t.Errorf("largest part hash asked for %d bytes, want the part size %d", got, 1<<20)
	}
}
