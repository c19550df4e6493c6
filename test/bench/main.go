// Command bench measures Ferry beside rclone on the same workloads in the
// same run and prints a table: objects/s, MB/s and peak RSS. It starts its
// own MinIO server and US3 emulator on loopback. `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	only := flag.String("only", "", "run only the rows whose \"workload | tool\" matches this regexp")
	flag.Parse()
	c.only = regexp.MustCompile(*only)
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.work == "" {
		dir, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.work = dir
	}
	if p, err := exec.LookPath(c.rclone); err == nil {
		c.rclone = p
	} else {
		c.rclone = ""
	}
	smallDir, largeDir := filepath.Join(c.work, "small"), filepath.Join(c.work, "large")
	fmt.Fprintf(os.Stderr, "generating %d × %d B and %d × %d B under %s\n", c.small, c.smallSize, c.large, c.largeSize, c.work)
	if err := genFiles(smallDir, c.small, int64(c.smallSize)); err != nil {
		return err
	}
	if err := genFiles(largeDir, c.large, c.largeSize); err != nil {
		return err
	}
	env, err := startServers(ctx, c)
	if err != nil {
		return err
	}
	defer env.stop()

	var rows []row
	want := func(workload, tool string) bool { return c.only.MatchString(workload + " | " + tool) }
	add := func(r row, err error) {
		if err != nil {
			r.note = "error: " + err.Error()
		}
		fmt.Fprintln(os.Stderr, r.String())
		rows = append(rows, r)
	}
	for _, w := range []struct {
		name string
		dir  string
		n    int
	}{{fmt.Sprintf("%d × %s", c.small, human(int64(c.smallSize))), smallDir, c.small}, {fmt.Sprintf("%d × %s", c.large, human(c.largeSize)), largeDir, c.large}} {
		if want(w.name, "ferry → us3emu") {
			add(env.ferryRun(ctx, w.name, "ferry → us3emu", w.dir, "us3://bench/"+slug(w.name)+"/", w.n, dirSize(w.dir)))
		}
		if want(w.name, "ingest limit us3emu") {
			add(env.ingest(ctx, w.name, "ingest limit us3emu (from memory)", "us3", w.dir, w.n))
		}
		if want(w.name, "ferry → MinIO") {
			add(env.ferryRun(ctx, w.name, "ferry → MinIO", w.dir, "s3://bench/"+slug(w.name)+"/", w.n, dirSize(w.dir)))
		}
		if want(w.name, "rclone copy → MinIO") {
			add(env.rcloneRun(ctx, w.name, "rclone copy → MinIO", w.dir, "bench/rclone-"+slug(w.name), w.n, dirSize(w.dir)))
		}
		if want(w.name, "ingest limit MinIO") {
			add(env.ingest(ctx, w.name, "ingest limit MinIO (from memory)", "s3", w.dir, w.n))
		}
	}
	env.sourceRows(ctx, slug(fmt.Sprintf("%d × %s", c.small, human(int64(c.smallSize))))+"/",
		slug(fmt.Sprintf("%d × %s", c.large, human(c.largeSize)))+"/f000000.bin", c.small, dirSize(smallDir), c.largeSize, want, add)
	printTable(os.Stdout, rows, c)
	return nil
}

// defaultServerDir is /dev/shm when it exists (a tmpfs), else "" (the work
// directory).
func defaultServerDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

func slug(s string) string {
	out := []rune{}
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		} else if len(out) > 0 && out[len(out)-1] != '-' {
			out = append(out, '-')
		}
	}
	return string(out)
}
