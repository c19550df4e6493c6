package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// agentRun is `ferry migrate run --master URL [--name N]` with the cluster
// token from --token-file, FERRY_CLUSTER_TOKEN (or, deprecated,
// FERRY_TOKEN or --token): lease ranges from the master and copy them until
// stopped. In this mode --catalog names the directory of the agent's
// catalogs (one per job) and --workers the concurrency of jobs that set
// none; --ca (FERRY_CA) is the CA of an https master.
func (e *env) agentRun(c *cli.Context) error {
	if c.String("from") != "" || c.String("to") != "" || c.NArg() > 0 {
		return usageErr("with --master the master says what to copy: drop --from, --to and arguments")
	}
	token, err := e.secret(c, "token", "FERRY_CLUSTER_TOKEN", "FERRY_TOKEN")
	if err != nil {
		return err
	}
	if token == "" {
		return usageErr("--master needs --token-file FILE or FERRY_CLUSTER_TOKEN: the cluster token")
	}
	pool, err := e.caPool(c)
	if err != nil {
		return err
	}
	client, err := agent.NewClient(c.String("master"), token, agent.WithCA(pool))
	if err != nil {
		return usageErr("%w", err)
	}
	name := c.String("name")
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return usageErr("no --name and no host name: %v", err)
		}
	}
	dir := c.String("catalog")
	if dir == "" {
		state, err := e.stateDir()
		if err != nil {
			return err
		}
		dir = agent.DefaultCatalogDir(state, name)
	}
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	if c.Duration("grace") <= 0 {
		return usageErr("--grace %s: must be more than 0 (e.g. 30s)", c.Duration("grace"))
	}
	a, err := agent.New(agent.Config{
		Client: client, Name: name, Opener: jobOpener{e}, CatalogDir: dir, Workers: c.Int("workers"),
		Logger: log, Grace: c.Duration("grace"), ExitWhenIdle: c.Bool("exit-when-idle"),
		// Status lines go to the process's logger (main.go), shown without --verbose.
		RangeDone: func(l agent.LeaseView, p transfer.Progress, err error) {
			msg := fmt.Sprintf("ferry agent %s: job %s range %d done: %d copied, %d unchanged, %d failed",
				name, l.JobID, l.RangeID, p.Copied, p.Unchanged, p.Failed)
			if err != nil {
				slog.Warn(msg, "err", err)
				return
			}
			slog.Info(msg)
		},
	})
	if err != nil {
		return usageErr("%w", err)
	}
	fw, err := e.fetchWorker(c.String("master"), token, pool, name, 8, log)
	if err != nil {
		return usageErr("%w", err)
	}
	health, err := serveHealth(c.String("health-listen"), a.Ready)
	if err != nil {
		return err
	}
	defer health.close()
	slog.Info("ferry agent "+name+": working", "master", c.String("master"), "catalogs", dir)
	// A signal drains the agent (it releases its lease within --grace and
	// Run returns); the agent's own context ends only after Run returned,
	// or as a last resort well after the grace period.
	ctx, stop := context.WithCancel(context.WithoutCancel(c.Context))
	defer stop()
	go func() {
		select {
		case <-c.Context.Done():
			slog.Info("ferry agent "+name+": stopping", "grace", c.Duration("grace"))
			a.Drain()
			time.AfterFunc(c.Duration("grace")+20*time.Second, stop)
		case <-ctx.Done():
		}
	}()
	fetched := make(chan struct{})
	go func() { defer close(fetched); _ = fw.Run(ctx) }() // leases fetch tasks beside ranges
	err = a.Run(ctx)
	stop()
	<-fetched
	switch {
	case err == nil && c.Context.Err() != nil:
		slog.Info("ferry agent " + name + ": stopped")
	case err == nil:
		slog.Info("ferry agent " + name + ": the master has no work; exiting")
	}
	return err
}

// jobOpener opens a job's locations with the drivers of this binary. When
// the job carries credentials, credential variables come from the job
// only; otherwise from this process's environment.
type jobOpener struct{ e *env }

var _ agent.Opener = jobOpener{}

// with returns a copy of the environment that reads the job's credentials.
func (o jobOpener) with(creds map[string]string) *env {
	if len(creds) == 0 {
		return o.e
	}
	cp := *o.e
	cp.getenv = func(k string) string {
		if o.e.drivers.IsCredentialVar(k) {
			return creds[k]
		}
		return o.e.getenv(k)
	}
	return &cp
}

func (o jobOpener) side(prefix string, loc agent.Location) side {
	conns := loc.Conns
	if conns <= 0 {
		conns = 16
	}
	return side{envPrefix: prefix, endpoint: loc.Endpoint, region: loc.Region, pathStyle: loc.PathStyle, conns: conns}
}

// OpenSource opens a job's source.
func (o jobOpener) OpenSource(ctx context.Context, loc agent.Location) (fs.Tree, error) {
	return o.with(loc.Creds).openSource(ctx, loc.URI, o.side(fs.SourcePrefix, loc))
}

// OpenDest opens a job's destination (every Sink Ferry has is an
// fs.Deleter too).
func (o jobOpener) OpenDest(ctx context.Context, loc agent.Location) (fs.Sink, error) {
	return o.with(loc.Creds).openDest(ctx, loc.URI, o.side(fs.DestPrefix, loc))
}

// OpenDestTree lists a job's destination.
func (o jobOpener) OpenDestTree(ctx context.Context, loc agent.Location) (fs.Tree, error) {
	return o.with(loc.Creds).openLister(ctx, loc.URI, o.side(fs.DestPrefix, loc))
}
