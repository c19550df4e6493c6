package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

// ServiceConfig configures the master side of fetch.
type ServiceConfig struct {
	DB *catalog.FetchQueue // the master's fetch queue (catalog.MasterDB.Fetch)
	// Jobs finds fetch jobs (default: CatalogJobs over DB).
	Jobs      JobLookup
	Handler   HandlerOptions
	Agents    AgentAPIOptions
	Callbacks DispatcherOptions
	JobAPI    JobAPIOptions
	Logger    *slog.Logger
}

// Service is the master side of fetch, assembled: the public handler,
// the agent API and the callback dispatcher over one catalog.
type Service struct {
	db         *catalog.FetchQueue
	public     http.Handler
	agents     http.Handler
	jobs       http.Handler
	jobType    *jobAPI
	dispatcher *Dispatcher
	ttl        time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// NewService builds the Service. Leases whose deadline passed while no
// master ran are extended by one TTL, so agents that kept downloading
// through an outage keep their tasks.
func NewService(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("new fetch service: a catalog is required")
	}
	if cfg.Jobs == nil {
		cfg.Jobs = CatalogJobs{DB: cfg.DB}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, l := range []**slog.Logger{&cfg.Handler.Logger, &cfg.Agents.Logger, &cfg.Callbacks.Logger, &cfg.JobAPI.Logger} {
		if *l == nil {
			*l = cfg.Logger
		}
	}
	if cfg.Agents.TTL <= 0 {
		cfg.Agents.TTL = 30 * time.Second
	}
	now := cfg.Agents.Now
	if now == nil {
		now = time.Now
	}
	if cfg.Callbacks.Jobs == nil {
		cfg.Callbacks.Jobs = cfg.Jobs
	}
	s := &Service{db: cfg.DB, ttl: cfg.Agents.TTL, now: now, log: cfg.Logger}
	s.dispatcher = NewDispatcher(cfg.DB, cfg.Callbacks)
	if cfg.Agents.OnFinish == nil {
		cfg.Agents.OnFinish = s.dispatcher.Notify
	}
	s.public = NewHandler(cfg.DB, cfg.Jobs, cfg.Handler)
	s.agents = NewAgentAPI(cfg.DB, cfg.Jobs, cfg.Agents)
	s.jobType = newJobAPI(cfg.DB, cfg.JobAPI)
	s.jobs = s.jobType.handler()
	if err := cfg.DB.ExtendFetchLeases(ctx, now().Add(cfg.Agents.TTL)); err != nil {
		return nil, fmt.Errorf("new fetch service: %w", err)
	}
	return s, nil
}

// Handler serves POST /fetch/ and GET /fetch/{id}: mount it at "/fetch/"
// and "/fetch", unwrapped (it does its own signature checks).
func (s *Service) Handler() http.Handler { return s.public }

// AgentHandler serves the agents' paths (PathLease and
// /api/v1/fetch/tasks/): mount it behind the cluster-token check.
func (s *Service) AgentHandler() http.Handler { return s.agents }

// JobHandler serves PathJobs and its children: mount it behind the
// admin-token check.
func (s *Service) JobHandler() http.Handler { return s.jobs }

// JobType is the fetch jobs as the master lists, shows and deletes them
// under /api/v1/jobs (MasterConfig.JobTypes).
func (s *Service) JobType() agent.JobType { return s.jobType }

// Mount registers every fetch route on mux (it is an agent.Mount): the
// public handler as it is, the job API wrapped in admin, the agent API
// wrapped in cluster. The job API's routes /api/v1/fetch/jobs[/{id}]
// remain beside /api/v1/jobs, answering fetch JobViews as before.
func (s *Service) Mount(mux *http.ServeMux, admin, cluster func(http.Handler) http.Handler) {
	mux.Handle("/fetch/", s.public)
	mux.Handle("/fetch", s.public)
	mux.Handle(PathJobs, admin(s.jobs))
	mux.Handle(PathJobs+"/", admin(s.jobs))
	mux.Handle(PathLease, cluster(s.agents))
	mux.Handle("/api/v1/fetch/tasks/", cluster(s.agents))
}

// Dispatcher is the callback dispatcher Run drives.
func (s *Service) Dispatcher() *Dispatcher { return s.dispatcher }

// Run delivers callbacks and expires dead leases (so a task abandoned too
// often fails and is reported even when no agent asks for work) until ctx
// ends; it returns ctx's error.
func (s *Service) Run(ctx context.Context) error {
	go func() {
		t := time.NewTicker(max(s.ttl/2, time.Second))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := s.db.ExpireFetchLeases(ctx, s.now())
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("expire fetch leases", "err", err)
			case n > 0:
				s.log.Info("fetch leases expired", "count", n)
				s.dispatcher.Notify()
			}
		}
	}()
	return s.dispatcher.Run(ctx)
}
