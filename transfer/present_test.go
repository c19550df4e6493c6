package transfer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/transfer"
)

// brokenWalkTree is a Tree whose Walk fails after its first entry.
type brokenWalkTree struct{ fs.Tree }

func (t brokenWalkTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	n := 0
	err := t.Tree.Walk(ctx, r, func(e fs.Entry) error {
		if n++; n > 1 {
			return errors.New("listing broke")
		}
		return fn(e)
	})
	return err
}

// TestEngine_Run_Dest: with Options.Dest and a new catalog, an object the
// destination already holds is recorded as copied without being copied;
// one of the same size but older there, one of another size and a missing
// one are copied. A failing destination listing only means more copies.
func TestEngine_Run_Dest(t *testing.T) { bothModes(t, testEngineRunDest) }

func testEngineRunDest(t *testing.T, remote bool) {
	files := map[string][]byte{
		"a/same": randBytes(1, 3000), "b/stale": randBytes(2, 3000), "c/resized": randBytes(3, 3000), "d/missing": randBytes(4, 3000),
	}
	for _, broken := range []bool{false, true} {
		f := newFixtureMode(t, files, remote)
		srcTime := time.Now().Add(-time.Hour).Truncate(time.Second)
		for name := range files {
			if err := os.Chtimes(filepath.Join(f.src, name), srcTime, srcTime); err != nil {
				t.Fatal(err)
			}
		}
		put := func(name string, data []byte, mtime time.Time) {
			p := filepath.Join(f.dst, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		put("a/same", files["a/same"], srcTime.Add(time.Minute))
		put("b/stale", randBytes(9, 3000), srcTime.Add(-time.Minute))
		put("c/resized", files["c/resized"][:100], srcTime.Add(time.Minute))
		dest, err := local.New(f.dst)
		if err != nil {
			t.Fatal(err)
		}
		var dt fs.Tree = dest
		if broken {
			dt = brokenWalkTree{dest} // lists a/same, then fails
		}
		res := f.run(t, context.Background(), transfer.Options{Workers: 2, Dest: dt})
		if res.Present != 1 || res.Copied != 3 || res.Failed != 0 {
			t.Fatalf("broken=%v: Run = %+v, want a/same present and 3 copied", broken, res)
		}
		f.checkDest(t)
		known, err := f.cat.Lookup(context.Background(), []string{"a/same"})
		if err != nil {
			t.Fatal(err)
		}
		if o := known["a/same"]; o.State != catalog.StateDone || o.Size != 3000 {
			t.Fatalf("catalog row of a/same = %+v, want done", o)
		}
		again := f.run(t, context.Background(), transfer.Options{Workers: 2})
		if again.Unchanged != 4 || again.Planned != 0 {
			t.Fatalf("second run = %+v, want all 4 unchanged", again)
		}
	}
}
