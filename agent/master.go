package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// MasterConfig configures a Master.
type MasterConfig struct {
	// DB is the master catalog (catalog.OpenMaster with NextRun).
	DB *catalog.MasterDB
	// Opener opens job sources (to plan and split) and destinations (to
	// check them when a job is created).
	Opener Opener
	// Drivers is the driver registry: it parses job locations and names
	// the credential variables a job may carry. Required.
	Drivers fs.Registry
	// AdminToken authenticates operators, ClusterToken agents. Both are
	// required and must differ.
	AdminToken, ClusterToken string
	// MetricsToken, when set, is required (as is the admin token, which is
	// accepted too) as a bearer token on /metrics; empty: /metrics is open.
	MetricsToken string
	// ViewerToken, when set, is a read-only operator token: it is accepted
	// wherever the admin token is, for GET and HEAD only (any other method
	// answers 403). It must differ from the other two.
	ViewerToken string
	// LeaseTTL is how long a lease lives without a report (default 15s);
	// Heartbeat is how often agents report (default 2s).
	LeaseTTL, Heartbeat time.Duration
	// Plan bounds range planning of new jobs.
	Plan PlanOptions
	// SplitProbe is how many paths past a cursor a split looks at (default
	// 10,000); SplitMin is the fewest remaining paths worth a split
	// (default 500).
	SplitProbe, SplitMin int
	// PathsPerRange is the size of a listed range (file-list jobs and
	// retries; default 1000).
	PathsPerRange int
	Logger        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Mounts add routes to the API, each in turn (the fetch endpoint and
	// its APIs, the console); a route that conflicts with another stops
	// NewMaster.
	Mounts []Mount
	// JobTypes are the other kinds of job /api/v1/jobs lists and shows
	// beside the master's migrate jobs (fetch); their names and ID forms
	// must differ.
	JobTypes []JobType
}

func (c MasterConfig) withDefaults() MasterConfig {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.SplitProbe <= 0 {
		c.SplitProbe = 10000
	}
	if c.SplitMin <= 0 {
		c.SplitMin = 500
	}
	if c.PathsPerRange <= 0 {
		c.PathsPerRange = 1000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Master is the master service: an http.Handler for the API and /metrics,
// and background work (lease expiry, schedules) in Run.
type Master struct {
	cfg MasterConfig
	db  *catalog.MasterDB
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux

	splitMu sync.Mutex // one split at a time; guards noSplit
	noSplit map[rangeKey]time.Time

	treesMu sync.Mutex
	trees   map[string]fs.Tree // job ID → opened source, for splits

	frontMu   sync.Mutex
	frontiers map[rangeKey]string // last walk position reported per range

	stats *apiStats

	stopping atomic.Bool // Stop was called: /readyz answers 503
}

// NewMaster makes a Master over an open master catalog. Leases whose
// deadline passed while no master ran are extended by one TTL, so agents
// that kept copying through an outage keep their ranges.
func NewMaster(ctx context.Context, cfg MasterConfig) (*Master, error) {
	cfg = cfg.withDefaults()
	if cfg.DB == nil || cfg.Opener == nil || len(cfg.Drivers.Schemes()) == 0 {
		return nil, errors.New("new master: a catalog, an opener and drivers are required")
	}
	if cfg.AdminToken == "" || cfg.ClusterToken == "" {
		return nil, errors.New("new master: both an admin token and a cluster token are required")
	}
	if cfg.AdminToken == cfg.ClusterToken {
		return nil, errors.New("new master: the admin and cluster tokens must differ")
	}
	if cfg.ViewerToken != "" && (cfg.ViewerToken == cfg.AdminToken || cfg.ViewerToken == cfg.ClusterToken) {
		return nil, errors.New("new master: the viewer token must differ from the admin and cluster tokens")
	}
	if err := checkJobTypes(cfg.JobTypes); err != nil {
		return nil, fmt.Errorf("new master: %w", err)
	}
	m := &Master{
		cfg: cfg, db: cfg.DB, log: cfg.Logger, now: cfg.Now,
		noSplit: map[rangeKey]time.Time{}, trees: map[string]fs.Tree{}, frontiers: map[rangeKey]string{},
		stats: newAPIStats(),
	}
	mux, err := m.routes()
	if err != nil {
		return nil, fmt.Errorf("new master: %w", err)
	}
	m.mux = mux
	if err := m.db.ExtendLeases(ctx, m.now().Add(cfg.LeaseTTL)); err != nil {
		return nil, fmt.Errorf("new master: %w", err)
	}
	return m, nil
}

// NextRun is the catalog's schedule function: the next run of schedule
// after t, or the zero time for an invalid schedule.
func NextRun(schedule string, t time.Time) time.Time {
	s, err := ParseSchedule(schedule)
	if err != nil {
		return time.Time{}
	}
	return s.Next(t)
}

// Run expires leases and starts due scheduled runs until ctx ends. It
// returns nil when ctx is canceled.
func (m *Master) Run(ctx context.Context) error {
	tick := time.NewTicker(max(m.cfg.LeaseTTL/4, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		m.expire(ctx)
		m.startDue(ctx)
	}
}

// expire returns expired leases to the pool.
func (m *Master) expire(ctx context.Context) {
	n, err := m.db.ExpireLeases(ctx, m.now())
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("expire leases", "err", err)
		}
		return
	}
	if n > 0 {
		m.log.Info("leases expired", "count", n)
	}
}

// startDue begins the next run of every scheduled job that is due.
func (m *Master) startDue(ctx context.Context) {
	due, err := m.db.DueJobs(ctx, m.now())
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("find due jobs", "err", err)
		}
		return
	}
	for _, id := range due {
		ok, err := m.db.StartRun(ctx, id, m.now())
		if err != nil {
			m.log.Warn("start scheduled run", "job", id, "err", err)
			continue
		}
		if ok {
			m.log.Info("scheduled run started", "job", id)
		}
	}
}

// sourceTree returns the opened source of a job, opening it once.
func (m *Master) sourceTree(ctx context.Context, job string) (fs.Tree, error) {
	m.treesMu.Lock()
	t, ok := m.trees[job]
	m.treesMu.Unlock()
	if ok {
		return t, nil
	}
	j, err := m.db.Job(ctx, job)
	if err != nil {
		return nil, err
	}
	creds, err := m.db.JobCreds(ctx, job)
	if err != nil {
		return nil, err
	}
	opts, err := decodeOptions(j.Options)
	if err != nil {
		return nil, err
	}
	t, err = m.cfg.Opener.OpenSource(ctx, sourceLocation(j.Source, opts, creds, 4))
	if err != nil {
		return nil, fmt.Errorf("open source of job %s: %w", job, err)
	}
	m.treesMu.Lock()
	m.trees[job] = t
	m.treesMu.Unlock()
	return t, nil
}

// forgetTree drops a deleted job's opened source.
func (m *Master) forgetTree(job string) {
	m.treesMu.Lock()
	delete(m.trees, job)
	m.treesMu.Unlock()
}
