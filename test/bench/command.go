package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tailLines is how many lines of a failed command's stderr are shown.
const tailLines = 20

// cmdError is a failed command, with the last lines of its stderr.
type cmdError struct {
	name string
	err  error
	tail []string
}

func (e *cmdError) Error() string {
	last := ""
	if len(e.tail) > 0 {
		last = ": " + e.tail[len(e.tail)-1]
	}
	return fmt.Sprintf("run %s: %v%s", e.name, e.err, last)
}

func (e *cmdError) Unwrap() error { return e.err }

// timed runs argv with the servers' environment, timing it with sw from
// just before the start to just after the exit, and returns the child's
// peak RSS: its own VmHWM, sampled from /proc while it runs (rusage's
// maxrss is useless here, because Linux carries the parent's high-water
// mark across the vfork+exec that os/exec uses). ctx cancellation kills
// the child.
func (s *servers) timed(ctx context.Context, sw *stopwatch, argv ...string) (int64, error) {
	return s.timedEnv(ctx, sw, s.env(), argv...)
}

// timedEnv is timed with environment env; it also sets sw.clientCPU to the
// child's CPU time (user + system) when the child exited.
func (s *servers) timedEnv(ctx context.Context, sw *stopwatch, env []string, argv ...string) (int64, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.WaitDelay = 5 * time.Second
	name := filepath.Base(argv[0])
	sw.start()
	if err := cmd.Start(); err != nil {
		sw.stop()
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	var peak atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if hwm := readHWM(status); hwm > peak.Load() {
				peak.Store(hwm)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	sw.stop()
	close(done)
	<-sampled
	if ps := cmd.ProcessState; ps != nil {
		sw.clientCPU = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		return peak.Load(), &cmdError{name: name, err: err, tail: stderr.lines(tailLines)}
	}
	return peak.Load(), nil
}

// tailBuffer is an io.Writer that keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// lines returns the last n non-empty lines written.
func (t *tailBuffer) lines(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, l := range strings.Split(string(t.buf), "\n") {
		if l = strings.TrimRight(l, "\r "); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
