package agent

import (
	"context"
	"errors"
	"time"
)

// DefaultGrace is Config.Grace when unset.
const DefaultGrace = 30 * time.Second

// releaseTimeout bounds the delivery of a release: past it, the lease
// simply expires after its TTL.
const releaseTimeout = 10 * time.Second

// Drain makes the agent stop: it takes no more leases; the range it is
// copying stops taking new objects, its objects in flight get Config.Grace
// to finish (then they are abandoned, their uploads kept in the agent's
// catalog), and its lease is released with the last cursor, so the master
// re-leases the rest at once. Run then returns nil. Drain may be called
// more than once and from any goroutine.
func (a *Agent) Drain() { a.drainOnce.Do(func() { close(a.drain) }) }

// draining reports whether Drain was called.
func (a *Agent) draining() bool {
	select {
	case <-a.drain:
		return true
	default:
		return false
	}
}

// Ready reports nil when the agent's last request to the master was
// answered and it is not draining: its readiness probe (HealthHandler).
func (a *Agent) Ready(context.Context) error {
	switch {
	case a.draining():
		return errors.New("the agent is stopping")
	case !a.connected.Load():
		return errors.New("not connected to the master")
	}
	return nil
}

// pause waits d, or until ctx ends or the agent drains.
func (a *Agent) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-a.drain:
	case <-t.C:
	}
}

// idle asks the master whether it has work (WorkView); an error counts as
// not idle.
func (a *Agent) idle(ctx context.Context) bool {
	v, err := a.cfg.Client.Work(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("ask the master for work", "err", err)
		}
		return false
	}
	if !v.Idle {
		a.log.Info("no range to lease yet", "reason", v.Reason)
	}
	return v.Idle
}

// release gives l back with the last report req (best effort, bounded by
// releaseTimeout: undelivered, the lease expires after its TTL).
func (a *Agent) release(l LeaseView, req ReportRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := a.cfg.Client.Release(ctx, l.ID, req)
	switch {
	case err == nil:
		a.log.Info("lease released", "job", l.JobID, "range", l.RangeID, "cursor", req.Cursor)
	case IsLeaseLost(err):
	default:
		a.log.Warn("cannot release the lease; it expires after its TTL", "job", l.JobID, "range", l.RangeID, "err", err)
	}
}

// drainRange stops the range's walk at its frontier, so the objects taken
// finish and no new one starts; before the walk took anything, the engine
// is simply stopped.
func (r *leaseRun) drainRange(cancel func()) {
	f := r.walking.frontier()
	if f == "" {
		cancel()
		return
	}
	r.eng.SetEnd(f + "\x00")
}
