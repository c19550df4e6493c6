package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/check"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/transfer"
)

// exitDiffer is `ferry check`'s exit code when the two sides differ.
const exitDiffer = 4

func checkCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "compare a destination with its source, without any catalog: presence, size, checksum (and bytes with --download)",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "source: any location migrate run reads"},
			&cli.StringFlag{Name: "to", Usage: "destination: any location migrate run writes"},
			&cli.BoolFlag{Name: "download", Usage: "also read both sides of every object and compare the bytes (hashing both streams)"},
			&cli.IntFlag{Name: "workers", Value: 4, Usage: "objects read at once with --download (memory ≈ workers × 256 KiB)"},
			&cli.StringFlag{Name: "differences", Usage: "write every difference to this file: CSV, or JSON Lines when it ends in .json or .jsonl"},
			&cli.StringSliceFlag{Name: "include", Usage: "only check paths matching this glob (repeatable; '*.jpg', 'logs/**')"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable; wins over --include)"},
			&cli.StringFlag{Name: "from-endpoint", Usage: "source endpoint URL (else FERRY_SRC_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
			&cli.StringFlag{Name: "to-endpoint", Usage: "destination endpoint URL (else FERRY_DST_*/AWS_ENDPOINT_URL/US3_ENDPOINT)"},
			&cli.StringFlag{Name: "from-region", Usage: "source S3 region"},
			&cli.StringFlag{Name: "to-region", Usage: "destination S3 region"},
			&cli.BoolFlag{Name: "path-style", Usage: "use path-style S3 addressing on both sides"},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (redrawn on a terminal, lines otherwise), bar, line or none"},
			&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "how often a progress line is printed when not on a terminal"},
		},
		Action: func(c *cli.Context) error { return e.checkRun(c) },
	}
}

// checkRun is `ferry check`: it lists both locations, compares them and
// exits 0 only when they hold the same objects; exitDiffer when any
// object is missing, extra or different; exitPartial when all it could
// compare was the same but some objects could not be compared.
func (e *env) checkRun(c *cli.Context) error {
	ctx := c.Context
	from, to := c.String("from"), c.String("to")
	if from == "" || to == "" {
		return usageErr("check needs --from and --to (e.g. --from /data --to us3://bucket/prefix)")
	}
	if c.NArg() > 0 {
		return usageErr("unexpected argument %q (use --from and --to)", c.Args().First())
	}
	workers := c.Int("workers")
	if workers < 1 || workers > 1024 {
		return usageErr("--workers must be between 1 and 1024")
	}
	if err := checkProgress(c.String("progress"), c.Duration("progress-interval")); err != nil {
		return err
	}
	filter, err := transfer.NewFilter(c.StringSlice("include"), c.StringSlice("exclude"))
	if err != nil {
		return usageErr("%w", err)
	}
	conns := workers + 4
	srcSide := side{envPrefix: fs.SourcePrefix, endpoint: c.String("from-endpoint"), region: c.String("from-region"), pathStyle: c.Bool("path-style"), conns: conns}
	dstSide := side{envPrefix: fs.DestPrefix, endpoint: c.String("to-endpoint"), region: c.String("to-region"), pathStyle: c.Bool("path-style"), conns: conns}
	src, err := e.openSource(ctx, from, srcSide)
	if err != nil {
		return err
	}
	dst, err := e.openLister(ctx, to, dstSide)
	if err != nil {
		return err
	}
	report := func(check.Difference) error { return nil }
	var diffs *diffFile
	if name := c.String("differences"); name != "" {
		if diffs, err = createDiffFile(name); err != nil {
			return err
		}
		defer diffs.close()
		report = diffs.w.Write
	}

	ck := check.New(check.Options{Download: c.Bool("download"), Workers: workers, Match: filter.Match})
	pp := startLinePrinter(e.stderr, c.String("progress"), c.Duration("progress-interval"),
		func(bool) string { return checkProgressLine(ck.Progress()) })
	counts, runErr := ck.Run(ctx, src, dst, fs.All, report)
	pp.stop()
	if diffs != nil {
		if err := diffs.close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	var sig interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return codeError{sig.exitCode(), fmt.Errorf("check interrupted after %s", countsLine(counts))}
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(e.stdout, "checked %s\n", countsLine(counts))
	switch {
	case counts.Identical():
		fmt.Fprintln(e.stdout, "identical")
		return nil
	case counts.Differences() > 0:
		return codeError{exitDiffer, fmt.Errorf("%s and %s differ: %d difference(s)%s", from, to, counts.Differences(), diffHint(c))}
	default:
		return codeError{exitPartial, fmt.Errorf("%d object(s) could not be compared%s", counts[check.Error], diffHint(c))}
	}
}

// diffFile is the --differences file being written.
type diffFile struct {
	f      *os.File
	w      *check.DiffWriter
	closed bool
}

// createDiffFile creates (or truncates) name for the differences.
func createDiffFile(name string) (*diffFile, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, usageErr("--differences: %w", err)
	}
	w, err := check.NewDiffWriter(f, name)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &diffFile{f: f, w: w}, nil
}

// close flushes and closes the file once; later calls return nil.
func (d *diffFile) close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.w.Flush()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close differences: %w", cerr)
	}
	return err
}

func diffHint(c *cli.Context) string {
	if f := c.String("differences"); f != "" {
		return "; see " + f
	}
	return " (list them with --differences FILE)"
}

// countsLabels name check.Counts in summaries.
var countsLabels = map[check.Kind]string{
	check.Same: "same", check.Missing: "missing", check.Extra: "extra", check.Size: "size differs",
	check.Checksum: "checksum differs", check.Bytes: "bytes differ", check.Error: "errors",
}

// countsLine is "N object(s): same …, missing …, …".
func countsLine(n check.Counts) string {
	var total int64
	parts := make([]string, 0, len(n))
	for k, v := range n {
		total += v
		parts = append(parts, fmt.Sprintf("%s %d", countsLabels[check.Kind(k)], v))
	}
	return fmt.Sprintf("%d object(s): %s", total, strings.Join(parts, ", "))
}

// checkProgressLine renders a running check's progress.
func checkProgressLine(p check.Progress) string {
	walk := ""
	if !p.ListDone {
		walk = "+"
	}
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Checked) / s
	}
	read := ""
	if p.Read > 0 {
		read = fmt.Sprintf("  read %s", units.Bytes(p.Read))
	}
	return fmt.Sprintf("checked %d%s (same %d, different %d, errors %d)%s  %.0f objects/s   ",
		p.Checked, walk, p.Counts[check.Same], p.Checked-p.Counts[check.Same]-p.Counts[check.Error], p.Counts[check.Error], read, rate)
}
