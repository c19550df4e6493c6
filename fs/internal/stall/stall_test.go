package stall

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// trickle yields one byte per read, waiting gap before each.
type trickle struct {
	left int
	gap  time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(t.gap)
	t.left--
	p[0] = 'x'
	return 1, nil
}

// TestGuard_ProgressKeepsAlive: a body that keeps moving outlives the
// timeout many times over; the context ends only when the Guard stops.
func TestGuard_ProgressKeepsAlive(t *testing.T) {
	g := Start(context.Background(), time.Second)
	b := g.Body(io.NopCloser(&trickle{left: 30, gap: 100 * time.Millisecond}))
	n, err := io.Copy(io.Discard, b)
	if err != nil || n != 30 {
		t.Fatalf("read %d bytes, %v; want 30, nil", n, err)
	}
	if err := g.Context().Err(); err != nil {
		t.Fatalf("context ended while the body moved: %v", err)
	}
	b.Close()
	if g.Context().Err() == nil {
		t.Fatal("Close did not stop the guard")
	}
	if err := g.Err(errors.New("x")); errors.Is(err, ErrStalled) {
		t.Errorf("a stopped guard reports a stall: %v", err)
	}
}

// TestGuard_Stalls: without progress the context is cancelled with
// ErrStalled, and errors say so.
func TestGuard_Stalls(t *testing.T) {
	g := Start(context.Background(), 50*time.Millisecond)
	<-g.Context().Done()
	if !errors.Is(context.Cause(g.Context()), ErrStalled) {
		t.Fatalf("cause %v, want ErrStalled", context.Cause(g.Context()))
	}
	err := g.Err(context.Canceled)
	if !errors.Is(err, ErrStalled) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "no byte moved for 50ms") {
		t.Errorf("Err = %v", err)
	}
}
