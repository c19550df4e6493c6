package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/test/miniotest"
)

// servers holds the MinIO server and the US3 emulator every tool talks to,
// with the processes whose CPU time the table accounts.
type servers struct {
	c       config
	minio   *miniotest.Server
	stopMin func()
	emu     *exec.Cmd
	emuURL  string
	dataDir string // servers' data directory to remove at the end ("" = inside work)

	// minioProc and emuProc are the server processes; pid 0 when MinIO's
	// could not be found (its CPU column then shows "-").
	minioProc, emuProc *serverProc

	// seededSmall is the setup that stores the small files as a source
	// (seedSmall).
	seededSmall func(context.Context) error

	// payloads are the ingest rows' random bodies by size (randomBytes).
	payloads map[int64][]byte
}

// serverProc is a server process whose CPU time runs account.
type serverProc struct {
	name string
	pid  int
}

// cpu returns the process's CPU time so far, or 0 when unknown.
func (p *serverProc) cpu() (time.Duration, bool) {
	if p == nil || p.pid == 0 {
		return 0, false
	}
	d, err := procCPU(p.pid)
	return d, err == nil
}

const emuPub, emuKey = "bench-public", "bench-private"

// startServers starts MinIO (bucket "bench") and us3emu (bucket "bench")
// on loopback with their data under c.serverDir (else c.work). The caller
// must call stop.
func startServers(ctx context.Context, c config) (*servers, error) {
	s := &servers{c: c}
	dataDir := c.work
	if c.serverDir != "" {
		d, err := os.MkdirTemp(c.serverDir, "ferry-bench-servers-")
		if err != nil {
			return nil, fmt.Errorf("create server dir: %w", err)
		}
		dataDir, s.dataDir = d, d
	}
	m, stop, err := miniotest.Launch(filepath.Join(dataDir, "minio"))
	if err != nil {
		s.stop()
		return nil, err
	}
	s.minio, s.stopMin = m, stop
	if err := m.MakeBucket(ctx, "bench"); err != nil {
		s.stop()
		return nil, err
	}
	// miniotest does not expose the process: find it by its data
	// directory, which only this server's command line holds.
	s.minioProc = &serverProc{name: "minio"}
	if pid, err := findPID("server", m.Dir); err == nil {
		s.minioProc.pid = pid
	} else {
		fmt.Fprintf(os.Stderr, "warning: %v: MinIO's CPU is not accounted\n", err)
	}

	s.emu = exec.Command(c.us3emu, "--addr", "127.0.0.1:0", "--root", filepath.Join(dataDir, "us3"),
		"--public-key", emuPub, "--private-key", emuKey, "--bucket", "bench")
	s.emu.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // as miniotest does for MinIO
	out, err := s.emu.StdoutPipe()
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("start us3emu: %w", err)
	}
	if err := s.emu.Start(); err != nil {
		s.emu = nil
		s.stop()
		return nil, fmt.Errorf("start us3emu: %w", err)
	}
	s.emuProc = &serverProc{name: "us3emu", pid: s.emu.Process.Pid}
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
		return nil, fmt.Errorf("start us3emu: it printed no address")
	}
	return s, nil
}

// stop ends both servers and removes their data.
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

// emptyTrash removes the contents of MinIO's deferred-delete directory
// (<data dir>/.minio.sys/tmp/.trash). MinIO moves deleted objects there
// and frees them later in the background; with data on tmpfs, a run's
// deletes otherwise hold RAM (and MinIO CPU) into the next run.
func (s *servers) emptyTrash() error {
	trash := filepath.Join(s.minio.Dir, ".minio.sys", "tmp", ".trash")
	ents, err := os.ReadDir(trash)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("empty minio trash: %w", err)
	}
	for _, e := range ents {
		// MinIO may be removing the same entries: a vanished one is fine.
		if err := os.RemoveAll(filepath.Join(trash, e.Name())); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("empty minio trash: %w", err)
		}
	}
	return nil
}

// env is the environment of every tool: credentials and endpoints of both
// servers, and the rclone remotes "bench" and "bench2" (both MinIO).
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
