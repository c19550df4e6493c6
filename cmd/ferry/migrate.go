package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
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
				&cli.BoolFlag{Name: "restore", Usage: "restore archived objects (S3 GLACIER/DEEP_ARCHIVE, US3 ARCHIVE, Azure Archive tier), wait for them and copy them; without it they are recorded as skipped: archived"},
				&cli.IntFlag{Name: "restore-days", Usage: "days a restored copy stays readable (S3; default 1)"},
				&cli.StringFlag{Name: "restore-tier", Usage: "restore speed: Standard, Bulk or Expedited (S3), Standard or High (Azure); default the store's"},
				&cli.DurationFlag{Name: "restore-poll", Value: time.Minute, Usage: "how often restoring objects are looked at again (with --restore)"},
				&cli.StringFlag{Name: "from-endpoint", Usage: "source endpoint URL (else FERRY_SRC_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
				&cli.StringFlag{Name: "to-endpoint", Usage: "destination endpoint URL (else FERRY_DST_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
				&cli.StringFlag{Name: "from-region", Usage: "source S3 region"},
				&cli.StringFlag{Name: "to-region", Usage: "destination S3 region"},
				&cli.BoolFlag{Name: "path-style", Usage: "use path-style S3 addressing on both sides"},
				&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (bar on a terminal, lines otherwise), bar, line or none"},
				&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "how often a progress line is printed when not on a terminal"},
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every failure and retry to stderr"},
				&cli.StringFlag{Name: "master", EnvVars: []string{"FERRY_MASTER"}, Usage: "run as an agent of this master (http://host:7070): lease ranges and copy them until stopped"},
				secretFlag("token", "the cluster token (with --master)", "FERRY_CLUSTER_TOKEN", "FERRY_TOKEN (deprecated)"), secretFileFlag("token", "the cluster token (with --master)"), caFlag(),
				&cli.StringFlag{Name: "name", Usage: "agent name, stable across restarts (with --master; default: host name)"},
				&cli.StringFlag{Name: "health-listen", Usage: "serve /healthz and /readyz on this address (with --master; e.g. 0.0.0.0:8081)"},
				&cli.DurationFlag{Name: "grace", Value: agent.DefaultGrace, Usage: "on SIGTERM, how long parts in flight may finish before the agent releases its lease and exits 0 (with --master)"},
				&cli.BoolFlag{Name: "exit-when-idle", Usage: "exit 0 once the master has no job pending or running and none due within a minute (with --master)"},
			},
			Action: func(c *cli.Context) error { return e.migrateRun(c) },
		}},
	}
}

// migrateRun is `ferry migrate run`. Every refusal (bad flags, overlapping
// locations, a bad catalog, a destination that cannot be written, a part
// size the destination does not take) comes before the first write and
// leaves nothing behind: no catalog, no lock file, no destination
// directory. A run ended by SIGINT or SIGTERM says how to resume and exits
// 128 + the signal number.
func (e *env) migrateRun(c *cli.Context) error {
	if master := c.String("master"); master != "" {
		fromEnv := !e.flagOnCommandLine("master")
		if fromEnv && (c.String("from") != "" || c.String("to") != "") {
			return usageErr("FERRY_MASTER=%s in the environment makes migrate run an agent of that master, which says what to copy: unset FERRY_MASTER to copy --from → --to here", master)
		}
		if c.Bool("check-dest") {
			return usageErr("--check-dest is for runs without --master (a master's jobs choose their skip rule)")
		}
		if fromEnv {
			slog.Warn(fmt.Sprintf("ferry: FERRY_MASTER=%s in the environment: running as an agent of that master (unset it and pass --from and --to to copy here)", master))
		}
		return e.agentRun(c)
	}
	for _, f := range []string{"health-listen", "grace", "exit-when-idle"} {
		if c.IsSet(f) {
			return usageErr("--%s is for agents: add --master URL", f)
		}
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
	if err := checkProgress(c.String("progress"), c.Duration("progress-interval")); err != nil {
		return err
	}
	conns := opts.Workers + 4
	srcSide := side{envPrefix: fs.SourcePrefix, endpoint: c.String("from-endpoint"), region: c.String("from-region"), pathStyle: c.Bool("path-style"), conns: conns}
	dstSide := side{envPrefix: fs.DestPrefix, endpoint: c.String("to-endpoint"), region: c.String("to-region"), pathStyle: c.Bool("path-style"), conns: conns}
	if err := e.checkOverlap(from, to, srcSide, dstSide); err != nil {
		return err
	}
	catPath := c.String("catalog")
	if catPath == "" {
		if catPath, err = e.defaultCatalog(from, to); err != nil {
			return err
		}
	}
	// A foreign or newer catalog is refused before the destination is
	// opened (and a directory destination created).
	if err := catalog.Probe(ctx, catPath); err != nil {
		return err
	}
	src, err := e.openSource(ctx, from, srcSide)
	if err != nil {
		return err
	}
	undo := e.newDirUndo(to)
	dst, err := e.openDest(ctx, to, dstSide)
	if err != nil {
		undo.run()
		return err
	}
	cat, runErr := e.prepareRun(c, &opts, dst, to, dstSide, catPath)
	if runErr != nil || opts.DryRun {
		defer undo.run() // a refusal, or a dry run, leaves no new directory
	}
	if cat != nil {
		defer cat.close(ctx)
	}
	if runErr != nil {
		return runErr
	}

	eng, err := transfer.New(src, dst, cat.db(), opts)
	if err != nil {
		undo.run()
		return usageErr("%w", err)
	}
	slog.Info(fmt.Sprintf("ferry: %s → %s", from, to), "catalog", catPath)
	pp := startProgress(e.stderr, c.String("progress"), c.Duration("progress-interval"), eng.Progress)
	res, runErr := eng.Run(ctx, fs.All)
	pp.stop()
	e.printSummary(res, eng.Retries(), opts.DryRun)
	var sig interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return codeError{sig.exitCode(), interruptedErr(res)}
	}
	if runErr != nil {
		return runErr
	}
	if res.Failed > 0 {
		return codeError{exitPartial, fmt.Errorf("%d object(s) failed; list them with: ferry catalog failed %s", res.Failed, catPath)}
	}
	return nil
}

// interruptedErr is the last line of a run stopped by a signal.
func interruptedErr(r transfer.Result) error {
	done := r.Copied + r.Unchanged + r.Present
	left := max(r.Planned-r.Copied-r.Failed, 0)
	more := ""
	if !r.WalkDone {
		more = " so far"
	}
	return fmt.Errorf("interrupted — run the same command to resume (%d done, %d left%s)", done, left, more)
}

// prepareRun checks the part size against the destination, sets up
// --check-dest and opens the catalog (read-only for a dry run, nil when a
// dry run has none yet).
func (e *env) prepareRun(c *cli.Context, opts *transfer.Options, dst fs.Sink, to string, dstSide side, catPath string) (*runCatalog, error) {
	ctx := c.Context
	if err := checkPartSize(opts.PartSize, dst.Limits()); err != nil {
		return nil, err
	}
	if c.Bool("check-dest") {
		// The destination read back as a tree, its keys the Sink's: the
		// same store when it is one (S3, US3), else the directory's Tree.
		if t, ok := dst.(fs.Tree); ok {
			opts.Dest = t
		} else {
			var err error
			if opts.Dest, err = e.openLister(ctx, to, dstSide); err != nil {
				return nil, err
			}
		}
	}
	if opts.DryRun {
		tidy := catalog.LeaveNoTrace(catPath)
		cat, err := catalog.OpenReadOnly(ctx, catPath)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &runCatalog{cat, tidy}, nil
	}
	cat, err := catalog.Open(ctx, catPath)
	if err != nil {
		return nil, err
	}
	rc := &runCatalog{cat: cat}
	if err := recordJob(c, cat, c.String("from"), to); err != nil {
		rc.close(ctx)
		return nil, err
	}
	return rc, nil
}

// runCatalog is the catalog of a run and what closing it involves.
type runCatalog struct {
	cat  *catalog.DB
	tidy func(context.Context) // removes what a read-only open left; nil for a writer
}

// db is the catalog, nil for a dry run without one.
func (r *runCatalog) db() *catalog.DB {
	if r == nil {
		return nil
	}
	return r.cat
}

// close closes the catalog and tidies after a read-only one.
func (r *runCatalog) close(ctx context.Context) {
	_ = r.cat.Close()
	if r.tidy != nil {
		r.tidy(context.WithoutCancel(ctx))
	}
}

// checkPartSize refuses a --part-size the destination cannot use. A
// destination with a fixed part size (US3: its service's block size)
// takes any size: it only sets which objects go up in one request.
func checkPartSize(ps int64, l fs.Limits) error {
	if ps <= 0 {
		return usageErr("--part-size must be more than 0 (e.g. 8MiB)")
	}
	if l.MinPartSize > 0 && l.MaxPartSize > l.MinPartSize && (ps < l.MinPartSize || ps > l.MaxPartSize) {
		return usageErr("--part-size %s: this destination takes parts of %s to %s",
			units.Bytes(ps), units.Bytes(l.MinPartSize), units.Bytes(l.MaxPartSize))
	}
	return nil
}

// flagOnCommandLine reports whether the flag name was given as an
// argument (rather than taken from its environment variable or default).
func (e *env) flagOnCommandLine(name string) bool {
	for _, a := range e.args {
		if a == "--" {
			break
		}
		f, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && f == name {
			return true
		}
	}
	return false
}

// dirUndo removes the directories that opening a directory destination
// created, if they are still empty.
type dirUndo struct {
	created []string // deepest first
}

// newDirUndo notes which directories of a directory destination are
// missing now; for other locations it does nothing.
func (e *env) newDirUndo(to string) *dirUndo {
	u, err := e.drivers.Parse(to)
	if err != nil || u.Scheme != fs.FileScheme {
		return &dirUndo{}
	}
	var d dirUndo
	for dir := filepath.Clean(u.Path); ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		d.created = append(d.created, dir)
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return &d
}

// run removes the noted directories, deepest first, stopping at the first
// one that is not empty.
func (d *dirUndo) run() {
	for _, dir := range d.created {
		if os.Remove(dir) != nil {
			return
		}
	}
}

func (e *env) transferOptions(c *cli.Context) (transfer.Options, error) {
	o := transfer.Options{
		Workers: c.Int("workers"), DryRun: c.Bool("dry-run"), DryRunOut: e.stdout,
		Include: c.StringSlice("include"), Exclude: c.StringSlice("exclude"),
		SizeOnly: c.Bool("size-only"), Attempts: c.Int("attempts"),
		ObjectRetryTime: c.Duration("object-retry-time"),
	}
	if c.Bool("restore") {
		o.Restore = &transfer.RestoreOptions{Poll: c.Duration("restore-poll"),
			RestoreOptions: fs.RestoreOptions{Days: c.Int("restore-days"), Tier: c.String("restore-tier")}}
		if o.Restore.Poll <= 0 || o.Restore.Days < 0 {
			return o, usageErr("--restore-poll must be more than 0 and --restore-days at least 0")
		}
	} else if c.IsSet("restore-days") || c.IsSet("restore-tier") || c.IsSet("restore-poll") {
		return o, usageErr("--restore-days, --restore-tier and --restore-poll need --restore")
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
		if o.BWLimit <= 0 {
			return o, usageErr("--bwlimit %q: must be more than 0 (leave it out for no limit)", s)
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
	if r.Archived > 0 {
		present += fmt.Sprintf(", %d archived object(s) skipped (copy them with --restore)", r.Archived)
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
