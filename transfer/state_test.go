package transfer_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/transfer"
)

// TestEngine_Run_ResumedObjectIsCopying: an object whose multipart upload
// is taken up again by a later run shows as copying in the catalog while
// its parts move (not pending), the summary counts the resumed upload, and
// its bytes are counted once.
func TestEngine_Run_ResumedObjectIsCopying(t *testing.T) {
	f := newFixture(t, map[string][]byte{"big": randBytes(11, 6<<20)})
	ctx, cancel := context.WithCancel(context.Background())
	f.sink.onPart = func(n int64) {
		if n == 2 {
			cancel()
		}
	}
	f.run(t, ctx, transfer.Options{Workers: 1, PartSize: 1 << 20})
	rows, err := f.cat.Lookup(context.Background(), []string{"big"})
	if err != nil {
		t.Fatal(err)
	}
	if o := rows["big"]; o.UploadID == "" {
		t.Fatalf("after the canceled run: %+v, want an upload recorded", o)
	}

	var state atomic.Value
	var seen atomic.Bool
	f.sink.onPart = func(n int64) {
		if !seen.CompareAndSwap(false, true) {
			return
		}
		// The state is written in the recorder's next batch (≤ 100ms).
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			rows, err := f.cat.Lookup(context.Background(), []string{"big"})
			if err == nil && rows["big"].State == catalog.StateCopying {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		rows, _ := f.cat.Lookup(context.Background(), []string{"big"})
		state.Store(rows["big"].State)
	}
	res := f.run(t, context.Background(), transfer.Options{Workers: 1, PartSize: 1 << 20})
	if got, _ := state.Load().(catalog.State); got != catalog.StateCopying {
		t.Errorf("a resumed object showed as %q while its parts moved, want copying", got)
	}
	if res.Copied != 1 || res.Resumed != 1 || res.BytesCopied != 6<<20 {
		t.Errorf("resumed run = %+v, want 1 copied, 1 resumed, %d bytes copied", res, 6<<20)
	}
	f.checkDest(t)
}
