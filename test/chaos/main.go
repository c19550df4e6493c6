// Command chaos drives the built ferry binary through faults against real
// servers on loopback — a fault proxy in front of MinIO, kill -9 of ferry,
// of MinIO, of the US3 emulator, of the master and its agents, and source
// files rewritten during the copy — then checks every object byte for byte
// and prints a Markdown table: objects checked, faults injected, lost,
// corrupted, orphaned multipart uploads. `make chaos` runs it.
//
// It exits 1 when a scenario lost or corrupted objects, or a run that
// should have succeeded did not.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/internal/units"
)

// config is the command line.
type config struct {
	ferry, us3emu, minio string
	work                 string
	keep                 bool
	seed                 uint64
	only                 *regexp.Regexp
	timeout              time.Duration // of one scenario

	small, smallMax int   // small files of the shared tree
	large           int   // large files of the shared tree
	largeSize       int64 // of each
	partSize        string
	workers         int
	bwlimit         string // of the runs that are killed
	restartBwlimit  string // of the runs whose server is restarted

	proxyMaxBytes int64 // a proxy fault fires within this many bytes
	stallFor      time.Duration
	kills         int // kill -9 of ferry, and of the master and agents
	restarts      int // kill -9 and restart of a server
	reruns        int // most runs of a run to completion
	rewriteFiles  int // files of the rewrite scenario
}

// scenario is one line of the table.
type scenario struct {
	name string
	run  func(ctx context.Context, l *lab) *result
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.StringVar(&c.ferry, "ferry", "bin/ferry", "ferry binary")
	fs.StringVar(&c.us3emu, "us3emu", "bin/us3emu", "us3emu binary")
	fs.StringVar(&c.minio, "minio", "minio", "minio binary (`make tools` installs it)")
	fs.StringVar(&c.work, "work", "", "work directory (default: a temporary one, removed at the end unless -keep)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (logs, catalogs, trees)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the trees, the faults and the kill times")
	only := fs.String("only", "", "run only the scenarios whose name matches this regexp")
	fs.DurationVar(&c.timeout, "timeout", 4*time.Minute, "limit of one scenario")
	fs.IntVar(&c.small, "small", 300, "small files in the tree")
	smallMax := fs.String("small-max", "64KiB", "largest small file")
	fs.IntVar(&c.large, "large", 3, "large (multipart) files in the tree")
	largeSize := fs.String("large-size", "16MiB", "size of each large file")
	fs.StringVar(&c.partSize, "part-size", "5MiB", "ferry --part-size")
	fs.IntVar(&c.workers, "workers", 8, "ferry --workers")
	fs.StringVar(&c.bwlimit, "bwlimit", "8MiB", "ferry --bwlimit of the runs that are killed (so that they last)")
	fs.StringVar(&c.restartBwlimit, "restart-bwlimit", "4MiB", "ferry --bwlimit of the runs whose destination server is restarted (so that they outlast the restarts)")
	maxBytes := fs.String("proxy-max-bytes", "2KiB", "a proxy fault fires after a random number of bytes (of its exchange) up to this: small, so that faults fire within small requests and responses too")
	fs.DurationVar(&c.stallFor, "stall-for", time.Second, "length of a proxy stall")
	fs.IntVar(&c.kills, "kills", 10, "kill -9 of ferry (scenario 2) and of the master and agents (scenario 4)")
	fs.IntVar(&c.restarts, "restarts", 4, "kill -9 and restarts of a server (scenario 3)")
	fs.IntVar(&c.reruns, "reruns", 6, "most runs of a run to completion")
	fs.IntVar(&c.rewriteFiles, "rewrite-files", 16, "files of the rewrite scenario (1–12 MiB each)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.only, err = regexp.Compile(*only); err != nil {
		return c, fmt.Errorf("parse -only: %w", err)
	}
	sm, err := units.ParseSize(*smallMax)
	if err != nil {
		return c, fmt.Errorf("parse -small-max: %w", err)
	}
	c.smallMax = int(sm)
	if c.largeSize, err = units.ParseSize(*largeSize); err != nil {
		return c, fmt.Errorf("parse -large-size: %w", err)
	}
	if c.proxyMaxBytes, err = units.ParseSize(*maxBytes); err != nil {
		return c, fmt.Errorf("parse -proxy-max-bytes: %w", err)
	}
	if c.minio, err = exec.LookPath(c.minio); err != nil {
		return c, fmt.Errorf("find minio: %w (run `make tools`)", err)
	}
	return c, nil
}

// scenarios lists the table's lines in order.
func scenarios() []scenario {
	return []scenario{
		proxyScenario(5),
		proxyScenario(15),
		killScenario(),
		minioRestartScenario(),
		emuRestartScenario(),
		masterScenario(),
		rewriteScenario(),
	}
}

// run runs the selected scenarios and prints the table; it reports
// whether every scenario passed.
func run(ctx context.Context, c config) (bool, error) {
	work := c.work
	if work == "" {
		d, err := os.MkdirTemp("", "ferry-chaos-")
		if err != nil {
			return false, fmt.Errorf("create work dir: %w", err)
		}
		work = d
	}
	if !c.keep && c.work == "" {
		defer os.RemoveAll(work)
	}
	fmt.Fprintf(os.Stderr, "chaos: work directory %s (seed %d)\n", work, c.seed)
	l, err := newLab(ctx, c, work)
	if err != nil {
		return false, err
	}
	defer l.close()
	var rs []*result
	for _, s := range scenarios() {
		if !c.only.MatchString(s.name) {
			continue
		}
		if ctx.Err() != nil {
			return false, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "chaos: %s …\n", s.name)
		sctx, cancel := context.WithTimeout(ctx, c.timeout)
		r := s.run(sctx, l)
		cancel()
		fmt.Fprintf(os.Stderr, "chaos: %s: %s in %s\n", s.name, r.verdict(), units.Duration(time.Since(start)))
		rs = append(rs, r)
	}
	printTable(os.Stdout, rs)
	ok := true
	for _, r := range rs {
		ok = ok && r.ok()
	}
	return ok, nil
}
