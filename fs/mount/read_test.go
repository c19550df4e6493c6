package mount

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// readWhole reads p sequentially the way cat does and returns its SHA-256.
func readWhole(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 128<<10)); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	h.Sum(s[:0])
	return s
}

func TestHandle_ReadAhead(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	want := sha256.Sum256(files["big/random.bin"])

	// Without read-ahead every kernel request (at most max_read, 128 KiB)
	// is one ReadAt.
	plain := newCountingTree(localTree(t, src))
	o := DefaultOptions()
	o.ReadAhead = 0
	_, mp := mountT(t, plain, o)
	if got := readWhole(t, filepath.Join(mp, "big/random.bin")); got != want {
		t.Fatal("content differs without read-ahead")
	}
	direct := plain.readsOf("big/random.bin")
	if len(direct) < bigSize/(128<<10) {
		t.Fatalf("without read-ahead: %d ReadAt calls, expected at least one per 128 KiB kernel request", len(direct))
	}

	// With read-ahead: fewer, larger reads that fetch each byte about once.
	ahead := newCountingTree(localTree(t, src))
	_, mp = mountT(t, ahead, DefaultOptions())
	if got := readWhole(t, filepath.Join(mp, "big/random.bin")); got != want {
		t.Fatal("content differs with read-ahead")
	}
	calls := ahead.readsOf("big/random.bin")
	var total, largest int64
	for _, c := range calls {
		total += int64(c.n)
		largest = max(largest, int64(c.n))
	}
	if len(calls) == 0 || len(calls) > len(direct)/4 {
		t.Errorf("with read-ahead: %d ReadAt calls, want at most a quarter of the %d without", len(calls), len(direct))
	}
	if first := newReadAhead(DefaultOptions().normalized()).chunkFor(DefaultReadAhead); largest < first {
		t.Errorf("largest ReadAt %d bytes, want read-ahead chunks of at least %d", largest, first)
	}
	if total > bigSize+2*chunkSize {
		t.Errorf("read-ahead fetched %d bytes for a %d-byte file", total, bigSize)
	}
	t.Logf("ReadAt calls: %d without read-ahead, %d with (%d bytes fetched)", len(direct), len(calls), total)
}

func TestHandle_RandomReads(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	big := files["big/random.bin"]
	_, mp := mountT(t, localTree(t, src), DefaultOptions())
	f, err := os.Open(filepath.Join(mp, "big/random.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for i := 0; i < 300; i++ {
		off := r.Int64N(bigSize + 1000)
		n := 1 + r.IntN(len(buf))
		if i%50 == 0 { // a short sequential run, then jump away again
			off = r.Int64N(bigSize / 2)
		}
		got, err := f.ReadAt(buf[:n], off)
		wantN := max(0, min(int64(n), bigSize-off))
		if int64(got) != wantN || (int64(got) < int64(n) && !errors.Is(err, io.EOF)) || (int64(got) == int64(n) && err != nil) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes", n, off, got, err, wantN)
		}
		if got > 0 && !bytes.Equal(buf[:got], big[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", n, off)
		}
	}
}

func TestHandle_ConcurrentReaders(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	want := sha256.Sum256(files["big/random.bin"])
	_, mp := mountT(t, localTree(t, src), DefaultOptions())
	var wg sync.WaitGroup
	sums := make([][32]byte, 3)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i] = readWhole(t, filepath.Join(mp, "big/random.bin"))
		}()
	}
	wg.Wait()
	for i, s := range sums {
		if s != want {
			t.Errorf("reader %d saw different content", i)
		}
	}
}

func TestHandle_SequentialOnly(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	ct := newCountingTree(localTree(t, src))
	_, mp := mountT(t, seqTree{ct}, DefaultOptions())
	if got := readWhole(t, filepath.Join(mp, "big/random.bin")); got != sha256.Sum256(files["big/random.bin"]) {
		t.Fatal("content differs")
	}
	calls := ct.readsOf("big/random.bin")
	if len(calls) == 0 {
		t.Fatal("no reads reached the tree")
	}
	var at int64
	for i, c := range calls {
		if c.off != at {
			t.Fatalf("read %d at offset %d, want in-order %d: %v", i, c.off, at, calls[:i+1])
		}
		if c.n > chunkSize/2 {
			t.Errorf("read %d of %d bytes: a sequential-only tree should see the kernel's requests, not read-ahead chunks", i, c.n)
		}
		at += int64(c.n)
	}
}

func TestFileNode_KeepCache(t *testing.T) {
	src := t.TempDir()
	files := fixture(t, src)
	want := sha256.Sum256(files["small.bin"])
	for _, versioned := range []bool{true, false} {
		ct := newCountingTree(localTree(t, src))
		ct.noVer = !versioned
		_, mp := mountT(t, ct, DefaultOptions())
		p := filepath.Join(mp, "small.bin")
		if readWhole(t, p) != want {
			t.Fatal("content differs")
		}
		first := len(ct.readsOf("small.bin"))
		if readWhole(t, p) != want {
			t.Fatal("content differs on the second read")
		}
		second := len(ct.readsOf("small.bin")) - first
		if versioned && second != 0 {
			t.Errorf("unchanged version: second open read the tree %d times, want 0 (kernel cache kept)", second)
		}
		if !versioned && second == 0 {
			t.Errorf("no version: second open was served from a cache it could not trust")
		}
	}
}
