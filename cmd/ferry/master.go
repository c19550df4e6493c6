package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/sources"
)

func masterCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "master",
		Usage:     "run the master: job API, range planner and lease service for agents",
		ArgsUsage: " ",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:7070", Usage: "address to serve the API on"},
			&cli.StringFlag{Name: "db", Usage: "master catalog file (SQLite; created if missing)", Required: true},
			&cli.StringFlag{Name: "secret-key-file", Usage: "key that encrypts job credentials and fetch keys in the catalog (default: DB.key, generated 0600 on first start; or FERRY_SECRET_KEY)"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS with this PEM certificate (chain); needs --tls-key"},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM private key of --tls-cert"},
			&cli.DurationFlag{Name: "lease-ttl", Value: 15 * time.Second, Usage: "a lease not renewed for this long goes back to the pool (more than --heartbeat)"},
			&cli.DurationFlag{Name: "heartbeat", Value: 2 * time.Second, Usage: "how often agents report (more than 0, less than --lease-ttl)"},
			&cli.IntFlag{Name: "ranges", Value: 128, Usage: "ranges to cut a new job into (from a shallow listing; at least 1)"},
			&cli.IntFlag{Name: "split-min", Value: 500, Usage: "fewest remaining objects worth splitting a range for an idle agent"},
			&cli.IntFlag{Name: "paths-per-range", Value: 1000, Usage: "paths per range of file-list jobs and retries"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "log only warnings and errors"},
		}, append(append(append(masterSecretFlags(), masterBackupFlags()...), fetchMasterFlags()...), consoleFlags()...)...),
		Subcommands:     []*cli.Command{masterRestoreCommand(e)},
		HideHelpCommand: true,
		Action:          func(c *cli.Context) error { return e.masterRun(c) },
	}
}

func (e *env) masterRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("unexpected argument %q", c.Args().First())
	}
	if err := checkMasterTiming(c); err != nil {
		return err
	}
	if err := checkBackupFlags(c); err != nil {
		return err
	}
	tokens, err := e.masterTokens(c)
	if err != nil {
		return err
	}
	tlsCfg, err := masterTLS(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	db, err := e.openMasterDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	bk, err := e.masterBackups(c, db)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if c.Bool("quiet") {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	fetchSvc, err := e.fetchService(c, db.Fetch(), log)
	if err != nil {
		return err
	}
	con, err := e.console(c, tokens, tlsCfg, log)
	if err != nil {
		return err
	}
	srcSvc, err := sources.New(sources.Config{DB: db, Opener: jobOpener{e}, Drivers: e.drivers, Logger: log})
	if err != nil {
		return err
	}
	m, err := agent.NewMaster(ctx, agent.MasterConfig{
		DB: db, Opener: jobOpener{e}, Drivers: e.drivers, AdminToken: tokens.admin, ClusterToken: tokens.cluster, MetricsToken: tokens.metrics, ViewerToken: tokens.viewer,
		Mounts:   []agent.Mount{fetchSvc.Mount, srcSvc.Mount, con.Mount},
		JobTypes: []agent.JobType{fetchSvc.JobType()},
		LeaseTTL: c.Duration("lease-ttl"), Heartbeat: c.Duration("heartbeat"),
		Plan:     agent.PlanOptions{Ranges: c.Int("ranges")},
		SplitMin: c.Int("split-min"), PathsPerRange: c.Int("paths-per-range"),
		Logger: log,
	})
	if err != nil {
		return usageErr("%w", err)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.String("listen"), err)
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 30 * time.Second}
	srv.RegisterOnShutdown(con.Shutdown) // the console's live streams end
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	// Status lines go to the process's logger (main.go), which --quiet does not filter.
	slog.Info("ferry master: listening", "url", fmt.Sprintf("%s://%s", scheme, ln.Addr()), "catalog", c.String("db"))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	bg := make(chan error, 3)
	go func() { bg <- m.Run(runCtx) }()
	go func() { bg <- fetchSvc.Run(runCtx) }()
	go func() {
		if bk != nil {
			bk.run(runCtx)
		}
		bg <- nil
	}()
	go con.Run(runCtx) //nolint:errcheck // it only samples the Overview's history
	served := make(chan error, 1)
	go func() { served <- srv.Serve(agent.Listener(ln, tlsCfg)) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	// SIGTERM or SIGINT: /readyz turns 503, the listener closes, requests
	// in flight finish (up to 10s), background work stops, and the WAL is
	// checkpointed into the database file before it closes.
	slog.Info("ferry master: stopping")
	m.Stop()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	stop()
	<-bg
	<-bg
	<-bg
	if err := db.Checkpoint(context.Background()); err != nil {
		slog.Warn("ferry master: checkpoint", "err", err)
	}
	slog.Info("ferry master: stopped")
	return nil
}

// checkMasterTiming refuses a --lease-ttl or --heartbeat of 0 or less, a
// heartbeat not below the lease TTL (a lease would lapse between two
// reports) and --ranges below 1, before anything is opened.
func checkMasterTiming(c *cli.Context) error {
	ttl, hb := c.Duration("lease-ttl"), c.Duration("heartbeat")
	switch {
	case ttl <= 0:
		return usageErr("--lease-ttl %s: must be more than 0 (e.g. 15s)", ttl)
	case hb <= 0:
		return usageErr("--heartbeat %s: must be more than 0 (e.g. 2s)", hb)
	case hb >= ttl:
		return usageErr("--heartbeat %s must be less than --lease-ttl %s", hb, ttl)
	case c.Int("ranges") <= 0:
		return usageErr("--ranges %d: must be at least 1", c.Int("ranges"))
	}
	return nil
}
