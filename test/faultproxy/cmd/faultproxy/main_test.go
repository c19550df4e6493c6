package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/faultproxy"
)

// TestParseFlags: every option reaches the proxy's options; bad values are
// refused.
func TestParseFlags(t *testing.T) {
	o, err := parseFlags(strings.Fields("--target 127.0.0.1:9 --seed 7 --reset 0.1 --stall 0.2 --cut 0.3 --direction up --max-bytes 1MiB --stall-for 3s --stall-close --per-exchange"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := faultproxy.Options{Target: "127.0.0.1:9", Listen: "127.0.0.1:0", Seed: 7,
		Rates: faultproxy.Rates{Reset: 0.1, Stall: 0.2, Cut: 0.3}, Direction: faultproxy.Up,
		MaxBytes: 1 << 20, StallFor: 3 * time.Second, StallClose: true, PerExchange: true}
	if o != want {
		t.Fatalf("options %+v, want %+v", o, want)
	}
	for _, bad := range []string{"--target x:1 --direction sideways", "--target x:1 --max-bytes lots", "--target x:1 extra"} {
		if _, err := parseFlags(strings.Fields(bad), io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted it", bad)
		}
	}
}

// TestRun: the command prints its address, forwards to the target, and
// returns when its context ends.
func TestRun(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		c, err := target.Accept()
		if err == nil {
			_, _ = c.Write([]byte("hello"))
			c.Close()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	out, done := &syncWriter{}, make(chan error, 1)
	go func() { done <- run(ctx, []string{"--target", target.Addr().String()}, out, io.Discard) }()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		_, addr, _ = strings.Cut(strings.TrimSpace(out.String()), "listening on ")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial the printed address %q: %v", addr, err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "hello" {
		t.Fatalf("read %q through the proxy, want hello", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// syncWriter is a bytes.Buffer safe to read while run writes.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
