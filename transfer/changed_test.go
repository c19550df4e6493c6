package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// rewrite overwrites 64 KiB at the start and at the end of the fixture's
// file name in place (same size, as an editor or a database would), and
// records the new content as the file's expected one.
func (f *fixture) rewrite(t *testing.T, name string, seed uint64) {
	t.Helper()
	data := append([]byte(nil), f.files[name]...)
	patch := randBytes(seed, 64<<10)
	copy(data, patch)
	copy(data[len(data)-len(patch):], patch)
	fh, err := os.OpenFile(filepath.Join(f.src, name), os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer fh.Close()
	if _, err := fh.WriteAt(patch, 0); err != nil {
		t.Error(err)
	}
	if _, err := fh.WriteAt(patch, int64(len(data)-len(patch))); err != nil {
		t.Error(err)
	}
	f.files[name] = data
}

// staged returns the multipart uploads a local destination still holds.
func (f *fixture) staged(t *testing.T) []os.DirEntry {
	des, err := os.ReadDir(filepath.Join(f.dst, ".ferry-uploads"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return des
}

// TestEngine_Run_SourceRewrittenBetweenParts: a file rewritten in place
// after its second part was uploaded is never stored spliced: the upload of
// the old version is discarded and the object copied again from the start,
// counted as a retry, so the destination holds the new version whole.
func TestEngine_Run_SourceRewrittenBetweenParts(t *testing.T) {
	bothModes(t, func(t *testing.T, remote bool) {
		f := newFixtureMode(t, map[string][]byte{"big": randBytes(7, 6<<20+5)}, remote)
		var once atomic.Bool
		f.sink.onPart = func(n int64) {
			if n == 2 && once.CompareAndSwap(false, true) {
				f.rewrite(t, "big", 8)
			}
		}
		e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, transfer.Options{Workers: 1, PartSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run(context.Background(), fs.All)
		if err != nil || res.Copied != 1 || res.Failed != 0 {
			t.Fatalf("Run = %+v, %v; want the object copied", res, err)
		}
		if !once.Load() {
			t.Fatal("the file was never rewritten")
		}
		if e.Retries() < 1 {
			t.Error("the restart after the change was not counted as a retry")
		}
		f.checkDest(t)
		if st := f.staged(t); len(st) != 0 {
			t.Errorf("%d uploads left staged at the destination", len(st))
		}
		if c := f.sink.creates.Load(); c != 2 {
			t.Errorf("%d multipart uploads started, want 2 (the discarded one and the good one)", c)
		}
		now, err := f.tree.Stat(context.Background(), "big")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.cat.Lookup(context.Background(), []string{"big"})
		if err != nil {
			t.Fatal(err)
		}
		if o := rows["big"]; o.State != catalog.StateDone || o.Version != now.Version {
			t.Errorf("catalog row %+v, want done at the current version %s", o, now.Version)
		}
	})
}

// TestEngine_Run_SourceAlwaysChanging: a file rewritten during every
// attempt fails with "source changed during copy" after the attempts; no
// object and no upload is left at the destination.
func TestEngine_Run_SourceAlwaysChanging(t *testing.T) {
	bothModes(t, func(t *testing.T, remote bool) {
		f := newFixtureMode(t, map[string][]byte{"big": randBytes(7, 4<<20)}, remote)
		var seed atomic.Uint64
		f.sink.onPart = func(n int64) { f.rewrite(t, "big", 100+seed.Add(1)) }
		e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, transfer.Options{Workers: 1, PartSize: 1 << 20, Attempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run(context.Background(), fs.All)
		if err != nil || res.Failed != 1 || res.Copied != 0 {
			t.Fatalf("Run = %+v, %v; want the object failed", res, err)
		}
		rows, err := f.cat.Lookup(context.Background(), []string{"big"})
		if err != nil {
			t.Fatal(err)
		}
		if o := rows["big"]; o.State != catalog.StateFailed || !strings.Contains(o.LastError, "source changed during copy") {
			t.Errorf("catalog row %+v, want failed with \"source changed during copy\"", o)
		}
		if _, err := os.Stat(filepath.Join(f.dst, "big")); !os.IsNotExist(err) {
			t.Errorf("destination holds an object made of several versions (stat: %v)", err)
		}
		if st := f.staged(t); len(st) != 0 {
			t.Errorf("%d uploads left staged at the destination", len(st))
		}
	})
}

// TestEngine_Run_SourceRewrittenDuringPut: a file rewritten while its
// single Put streams it from disk (larger than one read chunk) is caught
// (the store's checksum no longer matches what was hashed, and the file's
// version moved) and copied again, so the destination holds the new
// version; the re-run copies nothing.
func TestEngine_Run_SourceRewrittenDuringPut(t *testing.T) {
	f := newFixture(t, map[string][]byte{"mid": randBytes(9, 3<<20+7)})
	var once atomic.Bool
	f.sink.onPut = func() {
		if once.CompareAndSwap(false, true) {
			f.rewrite(t, "mid", 10)
		}
	}
	e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, transfer.Options{Workers: 1, PartSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), fs.All)
	if err != nil || res.Copied != 1 || res.Failed != 0 {
		t.Fatalf("Run = %+v, %v; want the object copied", res, err)
	}
	if e.Retries() < 1 {
		t.Error("the restart after the change was not counted as a retry")
	}
	f.checkDest(t)
	res = f.run(t, context.Background(), transfer.Options{Workers: 1, PartSize: 8 << 20})
	if res.Copied != 0 || res.Unchanged != 1 {
		t.Errorf("re-run = %+v, want the object unchanged", res)
	}
}
