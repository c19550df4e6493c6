package agent

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// maxFailuresPerReport bounds the failures one report carries; the rest
// follow in later reports.
const maxFailuresPerReport = 1000

// errEnough stops a catalog listing early.
var errEnough = errors.New("enough")

// leaseRun is one leased range being copied.
type leaseRun struct {
	a       *Agent
	l       LeaseView
	jr      *jobRes
	eng     *transfer.Engine
	skip    *skipTree // nil unless the range is walked with the skip rule
	list    *listTree // nil unless the range is listed
	walking *walkSignal
	since   time.Time // failures updated before it belong to older leases
	end     string    // the range end, lowered by splits

	cursor      string            // cursor to send next: one report behind the engine
	sent        map[string]string // failures the master acknowledged: path → error
	missesSent  int               // listed-path misses the master acknowledged
	missesBuilt int               // misses included in the last report built
}

// runLease copies one leased range, reporting every heartbeat, and reports
// its end. It returns an error only when the agent must stop altogether.
func (a *Agent) runLease(ctx context.Context, l LeaseView) error {
	a.log.Info("range leased", "job", l.JobID, "range", l.RangeID, "start", l.Start, "end", l.End)
	r := &leaseRun{a: a, l: l, since: time.Now().Add(-time.Second), end: l.End, sent: map[string]string{}}
	jr, err := a.job(ctx, l)
	if err == nil {
		r.jr = jr
		err = r.prepare()
	}
	if err != nil {
		if errors.Is(err, catalog.ErrInUse) {
			return err
		}
		a.log.Warn("cannot run the range", "job", l.JobID, "range", l.RangeID, "err", err)
		return a.finish(ctx, l, func() ReportRequest {
			return ReportRequest{Agent: a.cfg.Name, JobID: l.JobID, RangeID: l.RangeID, Done: true, Error: err.Error()}
		})
	}
	return r.run(ctx)
}

// prepare builds the tree the engine walks and the engine.
func (r *leaseRun) prepare() error {
	o := r.l.Options
	var tree fs.Tree = r.jr.src
	useSkip := !r.l.Retry && o.Skip != SkipNone && r.jr.dstTree != nil
	if r.l.Listed {
		r.list = &listTree{Tree: tree, paths: r.l.Paths}
		if useSkip {
			r.list.skip = destSkip(r.jr.dstTree, o.Skip)
		}
		tree = r.list
	} else if useSkip || (o.Delete && r.jr.dstTree != nil) {
		f, err := transfer.NewFilter(o.Include, o.Exclude)
		if err != nil {
			return err
		}
		rule := o.Skip
		if !useSkip {
			rule = SkipNone
		}
		r.skip = &skipTree{Tree: tree, dst: r.jr.dstTree, rule: rule, filter: f, log: r.a.log}
		if d, ok := r.jr.dst.(fs.Deleter); ok && o.Delete {
			r.skip.deleter = d
		}
		tree = r.skip
	}
	r.walking = &walkSignal{Tree: tree, started: make(chan struct{})}
	var err error
	r.eng, err = transfer.New(r.walking, r.jr.dst, r.jr.cat, r.a.engineOptions(o))
	return err
}

// walkSignal watches the engine's walk: it tells when the walk began
// (Engine.Progress reads a field Run writes when it starts, so the agent
// reads progress only after the walk, started by Run after that write, has
// signalled) and remembers the last key the engine took, the walk frontier
// the master cuts behind. The engine takes keys in walk order, so every
// key up to the frontier was taken; read after SetEnd(k), a frontier below
// k means no key at or past k will be taken, but for one the walk was
// taking at that instant (copied twice then, never lost).
type walkSignal struct {
	fs.Tree
	once    sync.Once
	started chan struct{}
	last    atomic.Pointer[string]
}

func (w *walkSignal) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	w.once.Do(func() { close(w.started) })
	return w.Tree.Walk(ctx, r, func(e fs.Entry) error {
		if err := fn(e); err != nil {
			return err // not handed out (past a lowered end, or stopping)
		}
		k := e.ObjectKey()
		w.last.Store(&k)
		return nil
	})
}

// frontier is the last key walked so far ("" before any).
func (w *walkSignal) frontier() string {
	if k := w.last.Load(); k != nil {
		return *k
	}
	return ""
}

// progress returns the engine's progress, or zero before its walk began.
func (r *leaseRun) progress() transfer.Progress {
	select {
	case <-r.walking.started:
		return r.eng.Progress()
	default:
		return transfer.Progress{}
	}
}

// run drives the engine and the heartbeats.
func (r *leaseRun) run(ctx context.Context) error {
	a, l := r.a, r.l
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res transfer.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := r.eng.Run(runCtx, fs.Range{Start: l.Start, End: l.End})
		done <- outcome{res, err}
	}()
	every := time.Duration(l.HeartbeatSeconds * float64(time.Second))
	if every <= 0 {
		every = 2 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	stopped, unreachable := false, false
	drain, drained := a.drain, false
	var grace <-chan time.Time
	for {
		select {
		case <-drain:
			// Stop taking objects; those in flight get the grace period.
			drain, drained = nil, true
			r.drainRange(cancel)
			t := time.NewTimer(a.cfg.Grace)
			defer t.Stop()
			grace = t.C
		case <-grace:
			a.log.Warn("grace period over: abandoning the objects in flight", "job", l.JobID, "range", l.RangeID)
			cancel()
		case o := <-done:
			if drained && !stopped && ctx.Err() == nil {
				// The cursor covers what finished; the rest is re-leased.
				rctx, rcancel := context.WithTimeout(context.Background(), releaseTimeout)
				req := r.request(rctx, true)
				rcancel()
				a.release(l, req)
				return nil
			}
			if stopped || ctx.Err() != nil {
				if !stopped {
					r.lastWord()
				}
				return nil
			}
			if a.cfg.RangeDone != nil {
				a.cfg.RangeDone(l, o.res, o.err)
			}
			a.log.Info("range finished", "job", l.JobID, "range", l.RangeID, "copied", o.res.Copied, "failed", o.res.Failed, "err", o.err)
			return a.finish(ctx, l, func() ReportRequest {
				req := r.request(ctx, true)
				req.Done = true
				if o.err != nil {
					req.Error = o.err.Error()
				}
				return req
			})
		case <-tick.C:
			// A reply that lowers the end is confirmed at once, so the
			// split-off range waits as little as possible.
			for !stopped && r.beat(ctx, every, &unreachable, cancel, &stopped) {
			}
		}
	}
}

// beat sends one progress report and applies the answer: stop, or a lower
// end. It reports whether the end was lowered (to be confirmed).
func (r *leaseRun) beat(ctx context.Context, every time.Duration, unreachable *bool, cancel func(), stopped *bool) bool {
	a, l := r.a, r.l
	req := r.request(ctx, false)
	rctx, rcancel := context.WithTimeout(ctx, max(2*every, 5*time.Second))
	reply, err := a.cfg.Client.SendReport(rctx, l.ID, req)
	rcancel()
	a.connected.Store(err == nil || IsLeaseLost(err))
	switch {
	case err == nil:
		if *unreachable {
			a.log.Info("the master is back")
			*unreachable = false
		}
		r.acked(req)
		if reply.Stop {
			a.log.Info("the master stopped the range", "job", l.JobID, "range", l.RangeID, "reason", reply.Reason)
			*stopped = true
			cancel()
		} else if reply.End != "" && (r.end == "" || reply.End < r.end) {
			a.log.Info("range split", "job", l.JobID, "range", l.RangeID, "new_end", reply.End)
			r.end = reply.End
			r.eng.SetEnd(reply.End)
			return true
		}
	case IsLeaseLost(err) || isAuthError(err):
		a.log.Warn("lease lost; stopping the range", "job", l.JobID, "range", l.RangeID, "err", err)
		*stopped = true
		cancel()
	case !*unreachable && ctx.Err() == nil:
		a.log.Warn("cannot reach the master; copying on", "err", err)
		*unreachable = true
	}
	return false
}

// lastWord sends one best-effort progress report when the agent shuts
// down mid-range, so the next holder starts from the latest cursor.
func (r *leaseRun) lastWord() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = r.a.cfg.Client.SendReport(ctx, r.l.ID, r.request(ctx, true))
}

// finish delivers a lease's final report, retrying through a master outage.
func (a *Agent) finish(ctx context.Context, l LeaseView, build func() ReportRequest) error {
	var down retries
	for {
		_, err := a.cfg.Client.SendReport(ctx, l.ID, build())
		switch {
		case err == nil || IsLeaseLost(err):
			return nil
		case isAuthError(err):
			return err
		case ctx.Err() != nil:
			return nil
		}
		wait, logIt := down.failed(a.cfg.MaxBackoff)
		if logIt {
			a.log.Warn("cannot deliver the final report; retrying", "job", l.JobID, "range", l.RangeID, "err", err, "in", wait, "failures", down.n)
		}
		sleep(ctx, wait)
	}
}

// request builds a report. Between heartbeats the cursor sent is the one
// the engine had at the previous report, so every failure at or before it
// is already in the catalog (the engine records failures asynchronously)
// and in this report; the final report, made after the engine flushed,
// sends the engine's cursor.
func (r *leaseRun) request(ctx context.Context, final bool) ReportRequest {
	p := r.progress()
	req := ReportRequest{
		Agent: r.a.cfg.Name, JobID: r.l.JobID, RangeID: r.l.RangeID,
		Copied: p.Copied, Bytes: p.BytesDone, Unchanged: p.Unchanged, Failed: p.Failed,
	}
	if final {
		req.Cursor = p.Cursor
	} else {
		req.Cursor, r.cursor = r.cursor, p.Cursor
	}
	req.Walked = r.walking.frontier()
	if r.end != r.l.End {
		req.Applied = r.end
	}
	if r.skip != nil {
		req.Unchanged += r.skip.skipped.Load()
	}
	if r.list != nil {
		req.Unchanged += r.list.skipped.Load()
		misses, total := r.list.takeMisses(r.missesSent)
		r.missesBuilt = total
		req.Failed += int64(total)
		req.Failures = append(req.Failures, misses...)
	}
	req.Failures = append(req.Failures, r.newFailures(ctx, maxFailuresPerReport-len(req.Failures))...)
	return req
}

// acked marks a delivered report's failures as known to the master.
func (r *leaseRun) acked(req ReportRequest) {
	for _, f := range req.Failures {
		r.sent[f.Path] = f.Error
	}
	r.missesSent = r.missesBuilt
}

// newFailures returns up to limit objects of the lease's range that the
// agent's catalog has as failed since the lease began and the master has
// not acknowledged.
func (r *leaseRun) newFailures(ctx context.Context, limit int) []FailureView {
	if limit <= 0 {
		return nil
	}
	start, end := r.l.Start, r.l.End
	var out []FailureView
	// Ranges are over object keys and the catalog is ordered by path, which
	// may differ for escaped names: every failed row is looked at.
	err := r.jr.cat.List(ctx, catalog.ListOptions{State: catalog.StateFailed}, func(o catalog.Object) error {
		if k := o.DestKey(); k < start || (end != "" && k >= end) || o.UpdatedAt.Before(r.since) {
			return nil
		}
		if e, ok := r.sent[o.Path]; ok && e == o.LastError {
			return nil
		}
		out = append(out, FailureView{Path: o.Path, Size: o.Size, Error: o.LastError, At: o.UpdatedAt})
		if len(out) >= limit {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) && ctx.Err() == nil {
		r.a.log.Warn("read failures from the catalog", "err", err)
	}
	return out
}
