// Command bench measures Ferry beside rclone on the same workloads in the
// same run and prints a table: objects/s, MB/s, peak RSS and the servers'
// CPU per object, each the median of -runs runs. It starts its own MinIO
// server and US3 emulator on loopback. `make bench` runs it.
//
// Rows compared with each other (Ferry, rclone and the ingest limit on one
// workload; cat through the mount and a direct GET; ferry mount and rclone
// mount) alternate run by run. Every run writes fresh keys, which are
// deleted (untimed) after it; before each run MinIO's trash is emptied and
// the machine is given up to -idle-wait to become idle.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/internal/units"
)

type config struct {
	ferry, us3emu, rclone string
	work                  string
	small, smallSize      int
	large                 int
	largeSize             int64
	workers               int
	serverDir             string
	only                  *regexp.Regexp
	runs                  int
	timeout               time.Duration
	idleCPU               float64 // fraction 0–1
	idleWait              time.Duration
	lsKeys                []int // key counts of the listing rows
	profiles              []profile
	toxiproxy             string // Toxiproxy server binary
}

func main() {
	var c config
	flag.StringVar(&c.ferry, "ferry", "bin/ferry", "ferry binary")
	flag.StringVar(&c.us3emu, "us3emu", "bin/us3emu", "us3emu binary")
	flag.StringVar(&c.rclone, "rclone", "rclone", "rclone binary (skipped with a note when absent)")
	flag.StringVar(&c.work, "work", "", "work directory (default: a temporary one, removed at the end)")
	flag.IntVar(&c.small, "small", 10000, "number of small files")
	flag.IntVar(&c.smallSize, "small-size", 16<<10, "size of each small file")
	flag.IntVar(&c.large, "large", 2, "number of large files")
	flag.Int64Var(&c.largeSize, "large-size", 512<<20, "size of each large file")
	flag.IntVar(&c.workers, "workers", 16, "concurrency for every tool")
	flag.StringVar(&c.serverDir, "server-dir", defaultServerDir(), "where MinIO and us3emu keep their data (tmpfs by default, so that the VM disk's fsync latency does not hide the clients' differences)")
	flag.IntVar(&c.runs, "runs", 3, "runs of each row; the table shows the median run")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "limit of one run")
	idle := flag.Float64("idle-cpu", 15, "before each run, wait until the machine's CPU is busy less than this percentage over 200 ms")
	flag.DurationVar(&c.idleWait, "idle-wait", 10*time.Second, "give up waiting for an idle machine after this long (the run goes ahead and the row notes it)")
	lsKeys := flag.String("ls-keys", "20000,200000", "comma-separated key counts of the listing rows")
	only := flag.String("only", "", "run only the rows whose \"workload | tool\" matches this regexp")
	profiles := flag.String("profiles", "loopback,20ms,80ms,cap", "comma-separated networks to measure: loopback (the direct rows), a round-trip time such as 20ms, cap (the -cap bandwidth cap), each through Toxiproxy")
	capBytes := flag.String("cap", "100MiB", "bandwidth cap of the cap profile, per second, each way")
	flag.StringVar(&c.toxiproxy, "toxiproxy", "toxiproxy-server", "Toxiproxy server binary (github.com/Shopify/toxiproxy/v2/cmd/server; network rows are skipped with a note when absent)")
	flag.Parse()
	c.idleCPU = *idle / 100
	c.runs = max(c.runs, 1)
	c.only = regexp.MustCompile(*only)
	capN, err := units.ParseSize(*capBytes)
	if err == nil {
		c.profiles, err = parseProfiles(*profiles, capN)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	for _, f := range strings.Split(*lsKeys, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -ls-keys: %q is not a positive number\n", f)
			os.Exit(2)
		}
		c.lsKeys = append(c.lsKeys, n)
	}
	// Ctrl-C ends the current run and skips the rest, so the servers are
	// still stopped and their data removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

// workloads are the generated local files.
type workloads struct {
	smallDir, largeDir string
	small, large       int
	smallBytes         int64 // all small files
	largeSize          int64 // one large file
}

// group is a set of rows compared with each other, with the untimed setup
// they need (run once, only when a row of the group is selected).
type group struct {
	setup      func(context.Context) error
	contenders []*contender
}

func run(ctx context.Context, c config) error {
	if c.work == "" {
		dir, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			return fmt.Errorf("create work dir: %w", err)
		}
		defer os.RemoveAll(dir)
		c.work = dir
	}
	if p, err := exec.LookPath(c.rclone); err == nil {
		c.rclone = p
	} else {
		c.rclone = ""
	}
	w := workloads{smallDir: filepath.Join(c.work, "small"), largeDir: filepath.Join(c.work, "large"),
		small: c.small, large: c.large, largeSize: c.largeSize}
	fmt.Fprintf(os.Stderr, "generating %d × %d B and %d × %d B under %s\n", c.small, c.smallSize, c.large, c.largeSize, c.work)
	if err := genFiles(w.smallDir, c.small, int64(c.smallSize)); err != nil {
		return err
	}
	if err := genFiles(w.largeDir, c.large, c.largeSize); err != nil {
		return err
	}
	w.smallBytes = dirSize(w.smallDir)
	s, err := startServers(ctx, c)
	if err != nil {
		return err
	}
	defer s.stop()

	h := &harness{c: c, srv: s}
	var rows []row
	groups, stopNet := s.profileGroups(ctx, w)
	defer stopNet()
	if c.hasLoopback() && (c.only.MatchString("dir → Azure | ferry migrate") || c.only.MatchString("Azure → dir | rclone copy (azureblob)")) {
		az, stopAz := s.azureGroups(ctx, w)
		defer stopAz()
		groups = append(groups, az...)
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		var cs []*contender
		for _, ct := range g.contenders {
			if c.only.MatchString(ct.workload + " | " + ct.tool) {
				cs = append(cs, ct)
			}
		}
		if len(cs) == 0 {
			continue
		}
		if g.setup != nil {
			sctx, cancel := context.WithTimeout(ctx, c.timeout)
			err := g.setup(sctx)
			cancel()
			if err != nil {
				fmt.Fprintf(os.Stderr, "setup of %s: %v\n", cs[0].workload, err)
				for _, ct := range cs {
					rows = append(rows, row{workload: ct.workload, tool: ct.tool, runs: c.runs, note: "setup error: " + err.Error()})
				}
				continue
			}
		}
		rows = append(rows, h.runGroup(ctx, cs)...)
	}
	if left, err := s.leftovers(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "warning: check cleanup: %v\n", err)
	} else if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "warning: cleanup left %v\n", left)
	}
	var loop, net []row
	for _, r := range rows {
		if r.net != nil {
			net = append(net, r)
		} else {
			loop = append(loop, r)
		}
	}
	if len(loop) > 0 {
		printTable(os.Stdout, loop, c)
	}
	if len(net) > 0 {
		printNetTable(os.Stdout, net, c)
	}
	return nil
}

// profileGroups are the groups of every -profiles profile: the direct
// loopback rows, then each network profile's rows through Toxiproxy. The
// returned function stops Toxiproxy.
func (s *servers) profileGroups(ctx context.Context, w workloads) ([]group, func()) {
	var groups []group
	var link *netLink
	var linkErr error
	started := false
	for _, p := range s.c.profiles {
		if p.loopback() {
			groups = append(groups, s.destGroups(w)...)
			groups = append(groups, s.sourceGroups(w)...)
			continue
		}
		if !started {
			started = true
			bin, err := exec.LookPath(s.c.toxiproxy)
			if err == nil {
				link, linkErr = s.startNet(ctx, bin)
			} else {
				linkErr = fmt.Errorf("toxiproxy not installed (make bench installs it with go install): %w", err)
			}
			if linkErr != nil {
				fmt.Fprintf(os.Stderr, "warning: network profiles skipped: %v\n", linkErr)
			}
		}
		gs := s.netGroups(link, p, w, s.seedSmall(w))
		if linkErr != nil {
			for k := range gs {
				gs[k].setup = nil
				for _, c := range gs[k].contenders {
					c.skip = linkErr.Error()
				}
			}
		}
		groups = append(groups, gs...)
	}
	return groups, func() {
		if link != nil {
			link.stop()
		}
	}
}

// destGroups are the uploads from local files: for each of the small and
// large workloads, Ferry beside the ingest limit into us3emu, and Ferry
// beside rclone and the ingest limit into MinIO.
func (s *servers) destGroups(w workloads) []group {
	var groups []group
	for _, wl := range []struct {
		name string
		dir  string
		n    int
	}{
		{fmt.Sprintf("%d × %s", w.small, units.Bytes(int64(s.c.smallSize))), w.smallDir, w.small},
		{fmt.Sprintf("%d × %s", w.large, units.Bytes(w.largeSize)), w.largeDir, w.large},
	} {
		size := dirSize(wl.dir)
		base := slug(wl.name)
		groups = append(groups, group{contenders: []*contender{
			s.ferryCopy(wl.name, "ferry → us3emu", wl.dir, target{"us3", "ferry-" + base}, wl.n, size, s.emuProc),
			s.ingest(wl.name, "ingest limit us3emu (from memory)", target{"us3", "ingest-" + base}, wl.n, size),
		}}, group{contenders: []*contender{
			s.ferryCopy(wl.name, "ferry → MinIO", wl.dir, target{"s3", "ferry-" + base}, wl.n, size, s.minioProc),
			s.rcloneCopy(wl.name, "rclone copy → MinIO", wl.dir, "bench", target{"s3", "rclone-" + base}, wl.n, size, s.minioProc),
			s.ingest(wl.name, "ingest limit MinIO (from memory)", target{"s3", "ingest-" + base}, wl.n, size),
		}})
	}
	return groups
}

// once returns a setup function that runs f the first time only and then
// returns its error forever.
func once(f func(context.Context) error) func(context.Context) error {
	done := false
	var err error
	return func(ctx context.Context) error {
		if !done {
			done, err = true, f(ctx)
		}
		return err
	}
}

// defaultServerDir is /dev/shm when it exists (a tmpfs), else "" (the work
// directory).
func defaultServerDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}
