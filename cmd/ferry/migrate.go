package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/transfer"
)

func migrateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "copy a tree into a destination through a catalog",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "walk, catalog, copy and verify every object; resumable",
			ArgsUsage: " ",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "from", Usage: "source: /dir, file:///dir, s3://bucket/prefix, us3://bucket/prefix, urllist:///list.txt, oss|cos|kodo|minio://bucket/prefix"},
				&cli.StringFlag{Name: "to", Usage: "destination: us3://bucket/prefix, s3://bucket/prefix, /dir"},
				&cli.StringFlag{Name: "catalog", Usage: "catalog file (default: one per source/destination pair in the state directory)"},
				&cli.IntFlag{Name: "workers", Value: 16, Usage: "parts or small objects in flight (memory ≈ workers × part size)"},
				&cli.StringFlag{Name: "part-size", Value: "8MiB", Usage: "multipart part size (US3 uses the size its service chooses)"},
				&cli.StringFlag{Name: "bwlimit", Usage: "cap source reads, e.g. 50MiB (per second)"},
				&cli.BoolFlag{Name: "dry-run", Usage: "list what would be copied; write nothing"},
				&cli.StringSliceFlag{Name: "include", Usage: "only copy paths matching this glob (repeatable; '*.jpg', 'logs/**')"},
				&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable; wins over --include)"},
				&cli.BoolFlag{Name: "size-only", Usage: "treat an object as unchanged when its size matches the finished copy"},
				&cli.BoolFlag{Name: "check-dest", Usage: "list the destination too and record objects it already holds (same size, and same ETag or a copy not older than the source) as copied without copying them: for a first run with a new or lost catalog into a destination that holds part of the tree"},
				&cli.IntFlag{Name: "attempts", Value: 6, Usage: "tries per request before it counts as failed, and copies of an object whose source keeps changing before it fails"},
				&cli.DurationFlag{Name: "object-retry-time", Value: 10 * time.Minute, Usage: "how long an object whose requests keep failing (network, 5xx) is tried again, its upload kept, before it fails"},
				&cli.StringFlag{Name: "from-endpoint", Usage: "source endpoint URL (else FERRY_SRC_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
				&cli.StringFlag{Name: "to-endpoint", Usage: "destination endpoint URL (else FERRY_DST_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
				&cli.StringFlag{Name: "from-region", Usage: "source S3 region"},
				&cli.StringFlag{Name: "to-region", Usage: "destination S3 region"},
				&cli.BoolFlag{Name: "path-style", Usage: "use path-style S3 addressing on both sides"},
				&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (bar on a terminal, lines otherwise), bar, line or none"},
				&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "how often a progress line is printed when not on a terminal"},
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every failure and retry to stderr"},
				&cli.StringFlag{Name: "master", EnvVars: []string{"FERRY_MASTER"}, Usage: "run as an agent of this master (http://host:7070): lease ranges and copy them until stopped"},
				&cli.StringFlag{Name: "token", EnvVars: []string{"FERRY_TOKEN"}, Usage: "the cluster token (with --master)"},
				&cli.StringFlag{Name: "name", Usage: "agent name, stable across restarts (with --master; default: host name)"},
			},
			Action: func(c *cli.Context) error { return e.migrateRun(c) },
		}},
	}
}

func (e *env) migrateRun(c *cli.Context) error {
	if c.String("master") != "" {
		if c.Bool("check-dest") {
			return usageErr("--check-dest is for runs without --master (a master's jobs choose their skip rule)")
		}
		return e.agentRun(c)
	}
	ctx := c.Context
	from, to := c.String("from"), c.String("to")
	if from == "" || to == "" {
		return usageErr("migrate run needs --from and --to (e.g. --from /data --to us3://bucket/prefix)")
	}
	if c.NArg() > 0 {
		return usageErr("unexpected argument %q (use --from and --to)", c.Args().First())
	}
	opts, err := e.transferOptions(c)
	if err != nil {
		return err
	}
	conns := opts.Workers + 4
	src, err := e.openSource(ctx, from, side{envPrefix: "FERRY_SRC_", endpoint: c.String("from-endpoint"), region: c.String("from-region"), pathStyle: c.Bool("path-style"), conns: conns})
	if err != nil {
		return err
	}
	dstSide := side{envPrefix: "FERRY_DST_", endpoint: c.String("to-endpoint"), region: c.String("to-region"), pathStyle: c.Bool("path-style"), conns: conns}
	dst, err := e.openDest(ctx, to, dstSide)
	if err != nil {
		return err
	}
	if c.Bool("check-dest") {
		// The destination read back as a tree, its keys the Sink's: the
		// same store when it is one (S3, US3), else the directory's Tree.
		if t, ok := dst.(fs.Tree); ok {
			opts.Dest = t
		} else if opts.Dest, err = e.openSource(ctx, to, dstSide); err != nil {
			return err
		}
	}

	var cat *catalog.DB
	catPath := c.String("catalog")
	if catPath == "" {
		if catPath, err = e.defaultCatalog(from, to); err != nil {
			return err
		}
	}
	if opts.DryRun {
		cat, err = catalog.OpenReadOnly(ctx, catPath)
		if errors.Is(err, os.ErrNotExist) {
			cat, err = nil, nil
		}
	} else {
		cat, err = catalog.Open(ctx, catPath)
	}
	if err != nil {
		return err
	}
	if cat != nil {
		defer cat.Close()
		if !opts.DryRun {
			if err := recordJob(c, cat, from, to); err != nil {
				return err
			}
		}
	}

	eng, err := transfer.New(src, dst, cat, opts)
	if err != nil {
		return usageErr("%w", err)
	}
	fmt.Fprintf(e.stderr, "ferry: %s → %s (catalog %s)\n", from, to, catPath)
	pp := startProgress(e.stderr, c.String("progress"), c.Duration("progress-interval"), eng.Progress)
	res, runErr := eng.Run(ctx, fs.All)
	pp.stop()
	e.printSummary(res, eng.Retries(), opts.DryRun)
	if runErr != nil {
		return runErr
	}
	if res.Failed > 0 {
		return codeError{exitPartial, fmt.Errorf("%d object(s) failed; list them with: ferry catalog failed %s", res.Failed, catPath)}
	}
	return nil
}

func (e *env) transferOptions(c *cli.Context) (transfer.Options, error) {
	o := transfer.Options{
		Workers: c.Int("workers"), DryRun: c.Bool("dry-run"), DryRunOut: e.stdout,
		Include: c.StringSlice("include"), Exclude: c.StringSlice("exclude"),
		SizeOnly: c.Bool("size-only"), Attempts: c.Int("attempts"),
		ObjectRetryTime: c.Duration("object-retry-time"),
	}
	if o.Attempts < 1 {
		return o, usageErr("--attempts must be at least 1")
	}
	if o.ObjectRetryTime <= 0 {
		return o, usageErr("--object-retry-time must be more than 0 (e.g. 10m)")
	}
	var err error
	if o.PartSize, err = units.ParseSize(c.String("part-size")); err != nil {
		return o, usageErr("--part-size: %w", err)
	}
	if s := c.String("bwlimit"); s != "" {
		if o.BWLimit, err = units.ParseSize(s); err != nil {
			return o, usageErr("--bwlimit: %w", err)
		}
	}
	if o.Workers < 1 || o.Workers > 1024 {
		return o, usageErr("--workers must be between 1 and 1024")
	}
	if _, err := transfer.NewFilter(o.Include, o.Exclude); err != nil {
		return o, usageErr("%w", err)
	}
	level := slog.LevelError
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	return o, nil
}

// recordJob stores the locations in the catalog (never credentials) and
// refuses a catalog that belongs to another source/destination pair.
func recordJob(c *cli.Context, cat *catalog.DB, from, to string) error {
	ctx := c.Context
	for _, kv := range [][2]string{{"source", from}, {"destination", to}} {
		old, err := cat.Meta(ctx, kv[0])
		if err != nil {
			return err
		}
		if old != "" && old != kv[1] {
			return usageErr("catalog %s belongs to %s %s, not %s (use another --catalog)", cat.Path(), kv[0], old, kv[1])
		}
		if old == "" {
			if err := cat.SetMeta(ctx, kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// stateDir is where ferry keeps its catalogs: $FERRY_STATE_DIR, else
// $XDG_STATE_HOME/ferry, else ~/.local/state/ferry.
func (e *env) stateDir() (string, error) {
	if d := e.getenv("FERRY_STATE_DIR"); d != "" {
		return d, nil
	}
	if x := e.getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "ferry"), nil
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "ferry"), nil
	}
	return "", usageErr("no state directory: set FERRY_STATE_DIR or pass --catalog")
}

// defaultCatalog names the catalog of a source/destination pair in the
// state directory.
func (e *env) defaultCatalog(from, to string) (string, error) {
	dir, err := e.stateDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(from + "\x00" + to))
	return filepath.Join(dir, "catalogs", hex.EncodeToString(sum[:8])+".db"), nil
}

func (e *env) printSummary(r transfer.Result, retries int64, dry bool) {
	if dry {
		fmt.Fprintf(e.stdout, "dry run: %d object(s) (%s) would be copied, %d unchanged", r.Planned, units.Bytes(r.Bytes), r.Unchanged)
		if r.Present > 0 {
			fmt.Fprintf(e.stdout, ", %d already at the destination", r.Present)
		}
		fmt.Fprintln(e.stdout)
		return
	}
	present := ""
	if r.Present > 0 {
		present = fmt.Sprintf(", %d already at the destination", r.Present)
	}
	if r.Planned == 0 && r.Failed == 0 {
		fmt.Fprintf(e.stdout, "nothing to copy: %d object(s) unchanged since the last run%s\n", r.Unchanged, present)
		return
	}
	rate := 0.0
	if s := r.Elapsed.Seconds(); s > 0 {
		rate = float64(r.BytesDone) / s
	}
	resumed := ""
	if r.Resumed > 0 {
		resumed = fmt.Sprintf(", %d multipart upload(s) resumed", r.Resumed)
	}
	fmt.Fprintf(e.stdout, "copied %d object(s) (%s) in %s, %s/s, %.0f objects/s; %d unchanged%s, %d failed, %d retried request(s)%s\n",
		r.Copied, units.Bytes(r.BytesCopied), units.Duration(r.Elapsed), units.Bytes(int64(rate)),
		float64(r.Copied)/max(r.Elapsed.Seconds(), 1e-9), r.Unchanged, present, r.Failed, retries, resumed)
}
