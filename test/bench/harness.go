package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferry-project/ferry/internal/units"
)

// contender is one table row: one tool on one workload, run -runs times.
type contender struct {
	workload, tool string
	objects        int   // objects each run moves or lists
	bytes          int64 // bytes each run moves
	// servers are the processes whose CPU time a run accounts: the ones
	// it talks to.
	servers []*serverProc
	// net, when set, makes the row one of the network table.
	net *netInfo
	// skip, when set, means the row is not run and shows this note.
	skip string
	// run performs run i (1-based). It must call sw.start just before and
	// sw.stop just after the part that is timed, and write only keys that
	// no other run writes. It returns the peak RSS of the tool (0 when not
	// measured). ctx carries the run's timeout.
	run func(ctx context.Context, i int, sw *stopwatch) (rss int64, err error)
	// cleanup, when set, removes what run i wrote; it is not timed and is
	// called whether or not the run succeeded.
	cleanup func(ctx context.Context, i int) error
}

// stopwatch measures the timed part of a run: wall time and the CPU time
// the servers used meanwhile.
type stopwatch struct {
	servers        []*serverProc
	t0, t1         time.Time
	cpu0, cpu1     time.Duration
	cpuOK, started bool
	// clientCPU is the CPU time of the tool's process, when a run
	// measures it (-1 otherwise); requests are the requests the servers
	// received, when a run counts them (-1 otherwise).
	clientCPU time.Duration
	requests  int64
}

func (w *stopwatch) serversCPU() (time.Duration, bool) {
	var sum time.Duration
	for _, p := range w.servers {
		d, ok := p.cpu()
		if !ok {
			return 0, false
		}
		sum += d
	}
	return sum, len(w.servers) > 0
}

// start begins timing.
func (w *stopwatch) start() {
	w.cpu0, w.cpuOK = w.serversCPU()
	w.started = true
	w.t0 = time.Now()
}

// stop ends timing; calling it again moves the end.
func (w *stopwatch) stop() {
	w.t1 = time.Now()
	c, ok := w.serversCPU()
	w.cpu1, w.cpuOK = c, w.cpuOK && ok
}

func (w *stopwatch) elapsed() time.Duration {
	if !w.started || w.t1.Before(w.t0) {
		return 0
	}
	return w.t1.Sub(w.t0)
}

// result is one run's measurement.
type result struct {
	run       int
	elapsed   time.Duration
	rss       int64
	serverCPU time.Duration // -1 when unknown
	busy      float64       // machine's busy fraction before the run, when it never became idle; else 0
	err       error
	timedOut  time.Duration // the timeout, when err is the run's timing out; else 0
	idleWait  time.Duration // how long the run waited for an idle machine
	clientCPU time.Duration // the tool's CPU time; -1 when not measured
	requests  int64         // requests the servers received; -1 when not counted
}

// harness runs contenders: each run on an idle machine, on an empty MinIO
// trash, within a timeout, followed by its cleanup.
type harness struct {
	c   config
	srv *servers
}

// runGroup runs contenders that are compared with each other, alternating
// run by run (A B C, A B C, …) so that drift in the machine's state hits
// every tool alike, and returns one row per contender.
func (h *harness) runGroup(ctx context.Context, cs []*contender) []row {
	results := make([][]result, len(cs))
	for i := 1; i <= h.c.runs; i++ {
		for k, c := range cs {
			if c.skip != "" {
				continue
			}
			results[k] = append(results[k], h.runOnce(ctx, c, i))
		}
	}
	rows := make([]row, len(cs))
	for k, c := range cs {
		rows[k] = summarize(c, results[k], h.c.runs)
	}
	return rows
}

// runOnce prepares the machine, performs run i of c with the run timeout,
// reports it on stderr and cleans up after it.
func (h *harness) runOnce(ctx context.Context, c *contender, i int) result {
	res := result{run: i, serverCPU: -1, clientCPU: -1, requests: -1}
	label := fmt.Sprintf("run %d/%d  %s | %s", i, h.c.runs, c.workload, c.tool)
	if err := h.srv.emptyTrash(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: warning: %v\n", label, err)
	}
	waitStart := time.Now()
	busy, idle, err := waitIdle(ctx, h.c.idleCPU, h.c.idleWait)
	res.idleWait = time.Since(waitStart)
	if err != nil {
		res.err = err
		return res
	}
	if !idle {
		res.busy = busy
		fmt.Fprintf(os.Stderr, "%s: machine still %.0f%% busy after %s; running anyway\n", label, busy*100, h.c.idleWait)
	}

	rctx, cancel := context.WithTimeout(ctx, h.c.timeout)
	sw := &stopwatch{servers: c.servers, clientCPU: -1, requests: -1}
	res.rss, res.err = c.run(rctx, i, sw)
	res.clientCPU, res.requests = sw.clientCPU, sw.requests
	if res.err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		res.timedOut = h.c.timeout
		res.err = fmt.Errorf("timed out after %s: %w", h.c.timeout, res.err)
	}
	cancel()
	res.elapsed = sw.elapsed()
	if sw.cpuOK {
		res.serverCPU = sw.cpu1 - sw.cpu0
	}
	if res.err == nil && res.elapsed == 0 {
		res.err = errors.New("bench bug: the run never started its stopwatch")
	}
	fmt.Fprintln(os.Stderr, describeRun(label, c, res))
	var ce *cmdError
	if errors.As(res.err, &ce) && len(ce.tail) > 0 {
		fmt.Fprintf(os.Stderr, "  last %d lines of %s's stderr:\n", len(ce.tail), ce.name)
		for _, l := range ce.tail {
			fmt.Fprintln(os.Stderr, "  | "+l)
		}
	}

	if c.cleanup != nil {
		cctx, cancel := context.WithTimeout(ctx, h.c.timeout)
		start := time.Now()
		if err := c.cleanup(cctx, i); err != nil {
			fmt.Fprintf(os.Stderr, "%s: warning: clean up: %v\n", label, err)
		}
		if d := time.Since(start); d > time.Second {
			fmt.Fprintf(os.Stderr, "  (clean up took %s)\n", d.Round(100*time.Millisecond))
		}
		cancel()
	}
	return res
}

// describeRun renders one run for stderr.
func describeRun(label string, c *contender, r result) string {
	if r.err != nil {
		return fmt.Sprintf("%s: error after %s: %v", label, r.elapsed.Round(time.Millisecond), r.err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", label, r.elapsed.Round(time.Millisecond))
	s := r.elapsed.Seconds()
	if c.objects > 0 {
		fmt.Fprintf(&b, ", %.0f obj/s", float64(c.objects)/s)
	}
	if c.bytes > 0 {
		fmt.Fprintf(&b, ", %.1f MB/s", float64(c.bytes)/1e6/s)
	}
	if r.rss > 0 {
		fmt.Fprintf(&b, ", RSS %s", units.Bytes(r.rss))
	}
	if r.serverCPU >= 0 && c.objects > 0 {
		fmt.Fprintf(&b, ", servers' CPU %s/obj", perObject(r.serverCPU, c.objects))
	}
	if r.idleWait > time.Second {
		fmt.Fprintf(&b, " (waited %s for an idle machine)", r.idleWait.Round(100*time.Millisecond))
	}
	return b.String()
}
