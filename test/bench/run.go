package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	s3fs "github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/test/miniotest"
	"github.com/ferry-project/ferry/transfer"
)

// servers holds the destinations every tool writes to.
type servers struct {
	c       config
	minio   *miniotest.Server
	stopMin func()
	emu     *exec.Cmd
	emuURL  string
	dataDir string // servers' data directory to remove at the end ("" = inside work)
	runs    int
}

const emuPub, emuKey = "bench-public", "bench-private"

func startServers(ctx context.Context, c config) (*servers, error) {
	s := &servers{c: c}
	dataDir := c.work
	if c.serverDir != "" {
		d, err := os.MkdirTemp(c.serverDir, "ferry-bench-servers-")
		if err != nil {
			return nil, err
		}
		dataDir, s.dataDir = d, d
	}
	m, stop, err := miniotest.Launch(filepath.Join(dataDir, "minio"))
	if err != nil {
		return nil, err
	}
	s.minio, s.stopMin = m, stop
	if err := m.MakeBucket(ctx, "bench"); err != nil {
		stop()
		return nil, err
	}
	s.emu = exec.Command(c.us3emu, "--addr", "127.0.0.1:0", "--root", filepath.Join(dataDir, "us3"),
		"--public-key", emuPub, "--private-key", emuKey, "--bucket", "bench")
	out, _ := s.emu.StdoutPipe()
	if err := s.emu.Start(); err != nil {
		stop()
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
			s.emuURL = strings.TrimSpace(addr)
			break
		}
	}
	go io.Copy(io.Discard, out)
	if s.emuURL == "" {
		s.stop()
		return nil, fmt.Errorf("us3emu did not start")
	}
	return s, nil
}

func (s *servers) stop() {
	if s.emu != nil && s.emu.Process != nil {
		_ = s.emu.Process.Kill()
		_ = s.emu.Wait()
	}
	if s.stopMin != nil {
		s.stopMin()
	}
	if s.dataDir != "" {
		os.RemoveAll(s.dataDir)
	}
}

func (s *servers) env() []string {
	return append(os.Environ(),
		"US3_PUBLIC_KEY="+emuPub, "US3_PRIVATE_KEY="+emuKey, "US3_ENDPOINT="+s.emuURL,
		"AWS_ACCESS_KEY_ID="+s.minio.AccessKey, "AWS_SECRET_ACCESS_KEY="+s.minio.SecretKey,
		"AWS_ENDPOINT_URL="+s.minio.Endpoint, "AWS_REGION="+s.minio.Region,
		"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Minio",
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+s.minio.AccessKey, "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+s.minio.SecretKey,
		"RCLONE_CONFIG_BENCH_ENDPOINT="+s.minio.Endpoint, "RCLONE_CONFIG_BENCH_REGION="+s.minio.Region,
		// bench2 is the same server under another remote name: a copy from
		// bench: to bench2: streams the bytes as a copy between two clouds
		// must (rclone uses server-side copy only within one remote).
		"RCLONE_CONFIG_BENCH2_TYPE=s3", "RCLONE_CONFIG_BENCH2_PROVIDER=Minio",
		"RCLONE_CONFIG_BENCH2_ACCESS_KEY_ID="+s.minio.AccessKey, "RCLONE_CONFIG_BENCH2_SECRET_ACCESS_KEY="+s.minio.SecretKey,
		"RCLONE_CONFIG_BENCH2_ENDPOINT="+s.minio.Endpoint, "RCLONE_CONFIG_BENCH2_REGION="+s.minio.Region)
}

// timed runs a command and measures its wall time and peak RSS. The peak
// is the child's own VmHWM, sampled from /proc while it runs: rusage's
// maxrss is useless here, because Linux carries the parent's high-water
// mark across the vfork+exec that os/exec uses.
func (s *servers) timed(ctx context.Context, name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if hwm := readHWM(status); hwm > peak.Load() {
				peak.Store(hwm)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	el := time.Since(start)
	if err != nil {
		return el, peak.Load(), fmt.Errorf("%s: %v: %s", filepath.Base(name), err, lastLine(stderr.String()))
	}
	return el, peak.Load(), nil
}

// readHWM returns VmHWM (bytes) from a /proc/PID/status file, or 0.
func readHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func (s *servers) ferryRun(ctx context.Context, workload, tool, dir, to string, n int, bytes int64) (row, error) {
	s.runs++
	cat := filepath.Join(s.c.work, fmt.Sprintf("catalog-%d.db", s.runs))
	el, rss, err := s.timed(ctx, s.c.ferry, "migrate", "run", "--from", dir, "--to", to, "--catalog", cat,
		"--workers", fmt.Sprint(s.c.workers), "--progress", "none")
	return newRow(workload, tool, n, bytes, el, rss), err
}

func (s *servers) rcloneRun(ctx context.Context, workload, tool, dir, dest string, n int, bytes int64) (row, error) {
	if s.c.rclone == "" {
		return row{workload: workload, tool: tool, note: "rclone not installed (make bench installs it with go install)"}, nil
	}
	w := fmt.Sprint(s.c.workers)
	if !strings.Contains(dest, ":") {
		dest = "bench:" + dest
	}
	el, rss, err := s.timed(ctx, s.c.rclone, "copy", dir, dest, "--transfers", w, "--checkers", w,
		"--s3-upload-concurrency", w, "--s3-chunk-size", "8M", "--no-check-dest", "--s3-no-check-bucket")
	return newRow(workload, tool, n, bytes, el, rss), err
}

// ingest uploads the same bytes straight from memory with the same
// concurrency through our Sink for the store: the destination's limit.
func (s *servers) ingest(ctx context.Context, workload, tool, kind, dir string, n int) (row, error) {
	var sink transfer.Sink
	var err error
	switch kind {
	case "us3":
		sink, err = us3.New(ctx, us3.Config{PublicKey: emuPub, PrivateKey: emuKey, Bucket: "bench", Prefix: "ingest/", Endpoint: s.emuURL})
	default:
		sink, err = s3fs.New(ctx, s3fs.Config{Endpoint: s.minio.Endpoint, Region: s.minio.Region, AccessKey: s.minio.AccessKey,
			SecretKey: s.minio.SecretKey, PathStyle: true, Bucket: "bench", Prefix: "ingest/"})
	}
	if err != nil {
		return row{workload: workload, tool: tool}, err
	}
	files, _ := os.ReadDir(dir)
	size := dirSize(dir)
	if len(files) == 0 {
		return row{workload: workload, tool: tool}, fmt.Errorf("no files in %s", dir)
	}
	per := size / int64(len(files))
	data := make([]byte, per)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	start := time.Now()
	err = uploadAll(ctx, sink, s.c.workers, len(files), data)
	return newRow(workload, tool, n, size, time.Since(start), 0), err
}

// uploadAll stores n copies of data with workers requests in flight, using
// multipart for objects above the sink's single-put limit.
func uploadAll(ctx context.Context, sink transfer.Sink, workers, n int, data []byte) error {
	size := int64(len(data))
	l := sink.Limits()
	type job struct {
		key, id string
		part    int
		ps      int64
	}
	jobs := make(chan job)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var err error
				if j.id == "" {
					_, err = sink.Put(ctx, j.key, bytes.NewReader(data), size)
				} else {
					off := int64(j.part) * j.ps
					b := data[off:min(off+j.ps, size)]
					_, err = sink.UploadPart(ctx, j.key, j.id, j.part, bytes.NewReader(b), int64(len(b)))
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	var uploads []job
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("obj-%06d", i)
		if size <= l.MaxSinglePut {
			jobs <- job{key: key}
			continue
		}
		up, err := sink.CreateMultipart(ctx, key, size, max(8<<20, l.MinPartSize))
		if err != nil {
			close(jobs)
			return err
		}
		uploads = append(uploads, job{key: key, id: up.ID, ps: up.PartSize})
		for p := 0; int64(p)*up.PartSize < size; p++ {
			jobs <- job{key: key, id: up.ID, part: p, ps: up.PartSize}
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	for _, u := range uploads {
		parts, err := sink.ListParts(ctx, u.key, u.id)
		if err != nil {
			return err
		}
		if _, err := sink.CompleteMultipart(ctx, u.key, u.id, parts); err != nil {
			return err
		}
	}
	return nil
}

func genFiles(dir string, n int, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	buf := make([]byte, min(size, 8<<20))
	for i := 0; i < n; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%06d.bin", i)))
		if err != nil {
			return err
		}
		for left := size; left > 0; left -= int64(len(buf)) {
			for j := 0; j+8 <= len(buf); j += 8 {
				v := r.Uint64()
				buf[j], buf[j+1], buf[j+2], buf[j+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
				buf[j+4], buf[j+5], buf[j+6], buf[j+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
			}
			if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
