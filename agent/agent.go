package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/backoff"
	"github.com/ferry-project/ferry/transfer"
)

// Config configures an Agent.
type Config struct {
	Client *Client // the master, with the cluster token
	Name   string  // the agent's name, stable across restarts
	Opener Opener
	// CatalogDir holds the agent's catalogs, one per job (<job ID>.db).
	CatalogDir string
	// Workers is the transfer concurrency for jobs that set none (default 16).
	Workers int
	// IdleWait is the pause between lease requests when there is no work
	// (default 1s); MaxBackoff caps the retry pause while the master is
	// unreachable (default 30s): the pause doubles from 100ms with every
	// failure in a row, and only the 1st, 2nd, 4th, 8th… are logged.
	IdleWait, MaxBackoff time.Duration
	Logger               *slog.Logger
	// RangeDone, when set, is called after each range the agent finished.
	RangeDone func(l LeaseView, p transfer.Progress, err error)
	// Grace is how long a draining agent (Drain) lets the objects in
	// flight finish before it abandons them (default DefaultGrace).
	Grace time.Duration
	// ExitWhenIdle makes Run return nil once the master has no work for
	// agents (WorkView.Idle) when the agent asks for a lease and gets none.
	ExitWhenIdle bool
}

// Agent leases ranges from a master and copies them. Run it once.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	jobs map[string]*jobRes

	drain     chan struct{} // closed by Drain
	drainOnce sync.Once
	connected atomic.Bool // the master answered the last request
}

// jobRes is what an agent opened for one job.
type jobRes struct {
	src     fs.Tree
	dst     fs.Sink
	dstTree fs.Tree // nil when the destination cannot be listed
	cat     *catalog.DB
	used    time.Time
}

// DefaultMaxBackoff is Config.MaxBackoff when unset.
const DefaultMaxBackoff = 30 * time.Second

// maxOpenJobs is how many jobs' catalogs an agent keeps open.
const maxOpenJobs = 8

// New makes an Agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Client == nil || cfg.Opener == nil {
		return nil, errors.New("new agent: a client and an opener are required")
	}
	if !validAgentName(cfg.Name) {
		return nil, fmt.Errorf("new agent: invalid name %q (1-128 characters, no spaces or slashes)", cfg.Name)
	}
	if cfg.CatalogDir == "" {
		return nil, errors.New("new agent: a catalog directory is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.IdleWait <= 0 {
		cfg.IdleWait = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With("agent", cfg.Name), jobs: map[string]*jobRes{},
		drain: make(chan struct{})}, nil
}

// Run leases and copies ranges until ctx ends (then it returns nil), the
// agent drained (Drain; nil), the master has no work with ExitWhenIdle
// (nil) or the master refuses the agent's token. It keeps copying through
// a master outage and reports when the master is back. When ctx ends the
// range in flight stops at once and its lease expires after its TTL;
// Drain is the graceful stop.
func (a *Agent) Run(ctx context.Context) error {
	defer a.closeJobs()
	var down retries
	for ctx.Err() == nil && !a.draining() {
		l, ok, err := a.cfg.Client.Lease(ctx, a.cfg.Name)
		a.connected.Store(err == nil)
		if err == nil && down.recovered() {
			a.log.Info("the master is back")
		}
		switch {
		case err != nil && isAuthError(err):
			return fmt.Errorf("lease a range: %w", err)
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			wait, logIt := down.failed(a.cfg.MaxBackoff)
			if logIt {
				a.log.Warn("cannot reach the master; retrying", "err", err, "in", wait, "failures", down.n)
			}
			a.pause(ctx, wait)
			continue
		case !ok:
			if a.cfg.ExitWhenIdle && a.idle(ctx) {
				a.log.Info("the master has no work: exiting")
				return nil
			}
			a.pause(ctx, a.cfg.IdleWait)
			continue
		case a.draining():
			a.release(l, ReportRequest{Agent: a.cfg.Name, JobID: l.JobID, RangeID: l.RangeID, Cursor: l.Cursor})
			return nil
		}
		if err := a.runLease(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// retries is backoff.Retries (the pause doubling from 100ms to a limit,
// with jitter; the 1st, 2nd, 4th, 8th… failure logged) under the names the
// agent's loops use; n is the failures in a row, for their log lines.
type retries struct {
	b backoff.Retries
	n int
}

// failed counts a failure and returns the pause before the next try and
// whether to log this failure.
func (r *retries) failed(limit time.Duration) (wait time.Duration, log bool) {
	wait, log = r.b.Failed(limit)
	r.n = r.b.Failures()
	return wait, log
}

// recovered resets r after a success and reports whether it ended a run
// of failures.
func (r *retries) recovered() bool {
	r.n = 0
	return r.b.Recovered()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) { backoff.Sleep(ctx, d) }

// job returns the opened source, destination and catalog of a lease's job.
func (a *Agent) job(ctx context.Context, l LeaseView) (*jobRes, error) {
	if jr, ok := a.jobs[l.JobID]; ok {
		jr.used = time.Now()
		return jr, nil
	}
	a.evictJob()
	conns := a.workers(l.Options) + 4
	src, err := a.cfg.Opener.OpenSource(ctx, sourceLocation(l.Source, l.Options, l.Credentials, conns))
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	dl := destLocation(l.Dest, l.Options, l.Credentials, conns)
	dst, err := a.cfg.Opener.OpenDest(ctx, dl)
	if err != nil {
		return nil, fmt.Errorf("open destination: %w", err)
	}
	jr := &jobRes{src: src, dst: dst, used: time.Now()}
	if l.Options.Skip != SkipNone || l.Options.Delete {
		if jr.dstTree, err = a.cfg.Opener.OpenDestTree(ctx, dl); err != nil {
			if l.Options.Delete {
				return nil, fmt.Errorf("list destination: %w", err)
			}
			a.log.Warn("the destination cannot be listed; only this agent's catalog decides what is unchanged", "err", err)
		}
	}
	path := filepath.Join(a.cfg.CatalogDir, l.JobID+".db")
	if jr.cat, err = catalog.Open(ctx, path); err != nil {
		if errors.Is(err, catalog.ErrInUse) {
			return nil, fmt.Errorf("%w (is another agent named %q running here?)", err, a.cfg.Name)
		}
		return nil, err
	}
	for k, v := range map[string]string{"job": l.JobID, "source": l.Source, "destination": l.Dest, "agent": a.cfg.Name} {
		if err := jr.cat.SetMeta(ctx, k, v); err != nil {
			jr.cat.Close()
			return nil, err
		}
	}
	a.jobs[l.JobID] = jr
	return jr, nil
}

// evictJob closes the least recently used job when maxOpenJobs are open.
func (a *Agent) evictJob() {
	if len(a.jobs) < maxOpenJobs {
		return
	}
	oldest := ""
	for id, jr := range a.jobs {
		if oldest == "" || jr.used.Before(a.jobs[oldest].used) {
			oldest = id
		}
	}
	if err := a.jobs[oldest].cat.Close(); err != nil {
		a.log.Warn("close catalog", "job", oldest, "err", err)
	}
	delete(a.jobs, oldest)
}

// closeJobs closes every catalog the agent opened.
func (a *Agent) closeJobs() {
	for id, jr := range a.jobs {
		if err := jr.cat.Close(); err != nil {
			a.log.Warn("close catalog", "job", id, "err", err)
		}
	}
}

// workers is the job's concurrency, else the agent's.
func (a *Agent) workers(o JobOptions) int {
	if o.Workers > 0 {
		return o.Workers
	}
	return a.cfg.Workers
}

// engineOptions turns job options into transfer options.
func (a *Agent) engineOptions(o JobOptions) transfer.Options {
	return transfer.Options{
		Workers: a.workers(o), PartSize: o.PartSize, BWLimit: o.BWLimit,
		Include: o.Include, Exclude: o.Exclude, SizeOnly: o.Skip == SkipSize,
		Attempts: o.Attempts, Logger: a.log,
	}
}

// DefaultCatalogDir is where an agent named name keeps its catalogs under
// a state directory.
func DefaultCatalogDir(stateDir, name string) string {
	return filepath.Join(stateDir, "agents", name)
}
