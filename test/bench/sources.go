package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/internal/units"
)

// Source objects on MinIO, stored once (untimed) before the first group
// that reads them: every small file, and the first large file alone.
const (
	srcSmall = "src/small/"
	srcLarge = "src/large/"
	largeKey = "f000000.bin"
)

// sourceGroups measures the source side: reads through the mount against
// a direct GET, `find` through ferry mount against rclone mount,
// migrations out of S3, and the memory of listing -ls-keys keys.
func (s *servers) sourceGroups(w workloads) []group {
	minio, emu := s.minioProc, s.emuProc
	seedSmall := s.seedSmall(w)
	seedLarge := once(func(ctx context.Context) error {
		return s.seedDir(ctx, w.largeDir, []string{largeKey}, srcLarge)
	})
	obj := units.Bytes(w.largeSize) + " object"
	tree := fmt.Sprintf("find, %d objects", w.small)
	s2s := fmt.Sprintf("S3 → S3, %d objects", w.small)
	s2u := fmt.Sprintf("S3 → US3, %d objects", w.small)
	l2s := "S3 → S3, " + obj
	l2u := "S3 → US3, " + obj
	groups := []group{
		{setup: seedLarge, contenders: []*contender{
			s.directGet(obj, srcLarge+largeKey, w.largeSize),
			s.mountRead(obj, "cat through ferry mount", "s3://bench/"+srcLarge, largeKey, w.largeSize),
		}},
		{setup: seedSmall, contenders: []*contender{
			s.mountFind(tree, "ferry mount", []string{s.c.ferry, "mount", "s3://bench/" + srcSmall}, w.small),
			s.mountFind(tree, "rclone mount", []string{s.c.rclone, "mount", "bench:bench/" + srcSmall, "--read-only"}, w.small),
		}},
		{setup: seedSmall, contenders: []*contender{
			s.ferryCopy(s2s, "ferry migrate", "s3://bench/"+srcSmall, target{"s3", "s2s-ferry"}, w.small, w.smallBytes, minio),
			s.rcloneCopy(s2s, "rclone copy (two remotes)", "bench:bench/"+srcSmall, "bench2", target{"s3", "s2s-rclone"}, w.small, w.smallBytes, minio),
			s.copyLimit(s2s, "copy limit MinIO → MinIO (GET + PUT from memory)", srcSmall, fileNames(w.small), w.smallBytes, target{"s3", "s2s-limit"}, minio),
		}},
		{setup: seedSmall, contenders: []*contender{
			s.ferryCopy(s2u, "ferry migrate", "s3://bench/"+srcSmall, target{"us3", "s2u-ferry"}, w.small, w.smallBytes, minio, emu),
		}},
		{setup: seedLarge, contenders: []*contender{
			s.ferryCopy(l2s, "ferry migrate", "s3://bench/"+srcLarge, target{"s3", "l2s-ferry"}, 1, w.largeSize, minio),
			s.rcloneCopy(l2s, "rclone copy (two remotes)", "bench:bench/"+srcLarge, "bench2", target{"s3", "l2s-rclone"}, 1, w.largeSize, minio),
		}},
		{setup: seedLarge, contenders: []*contender{
			s.ferryCopy(l2u, "ferry migrate", "s3://bench/"+srcLarge, target{"us3", "l2u-ferry"}, 1, w.largeSize, minio, emu),
		}},
	}
	for _, n := range s.c.lsKeys {
		wl := fmt.Sprintf("ls -R, %d keys", n)
		prefix := fmt.Sprintf("keys%d/", n)
		groups = append(groups, group{
			setup: once(func(ctx context.Context) error {
				fmt.Fprintf(os.Stderr, "storing %d empty objects under %s\n", n, prefix)
				return s.fillKeys(ctx, prefix, n)
			}),
			contenders: []*contender{
				s.listing(wl, "ferry ls --recursive", n, s.c.ferry, "ls", "--recursive", "s3://bench/"+prefix),
				s.listing(wl, "rclone lsf -R", n, s.c.rclone, "lsf", "-R", "bench:bench/"+prefix),
			},
		})
	}
	return groups
}

// seedSmall returns the setup that stores every small file under
// srcSmall, once for all the groups that read them.
func (s *servers) seedSmall(w workloads) func(context.Context) error {
	if s.seededSmall == nil {
		s.seededSmall = once(func(ctx context.Context) error {
			return s.seedDir(ctx, w.smallDir, fileNames(w.small), srcSmall)
		})
	}
	return s.seededSmall
}

// listing times a command that lists n keys on MinIO.
func (s *servers) listing(workload, tool string, n int, argv ...string) *contender {
	c := &contender{workload: workload, tool: tool, objects: n, servers: []*serverProc{s.minioProc}}
	if argv[0] == "" {
		c.skip = "rclone not installed"
		return c
	}
	c.run = func(ctx context.Context, _ int, sw *stopwatch) (int64, error) { return s.timed(ctx, sw, argv...) }
	return c
}

// directGet reads the object with one GET straight from MinIO
// (aws-sdk-go-v2, in this process: no RSS).
func (s *servers) directGet(workload, key string, size int64) *contender {
	return &contender{
		workload: workload, tool: "direct ranged GET (aws-sdk-go-v2)", objects: 1, bytes: size, servers: []*serverProc{s.minioProc},
		run: func(ctx context.Context, _ int, sw *stopwatch) (int64, error) {
			cl := s.minio.Client()
			sw.start()
			defer sw.stop()
			out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Range: aws.String("bytes=0-")})
			if err != nil {
				return 0, fmt.Errorf("get %s: %w", key, err)
			}
			defer out.Body.Close()
			n, err := io.Copy(io.Discard, out.Body)
			if err != nil {
				return 0, fmt.Errorf("read %s: %w", key, err)
			}
			if n != size {
				return 0, fmt.Errorf("read %s: %d bytes, want %d", key, n, size)
			}
			return 0, nil
		},
	}
}

// mountRead mounts src with a fresh ferry mount each run (untimed) and
// times reading name through the kernel as cat(1) does. The RSS is the
// mount's peak.
func (s *servers) mountRead(workload, tool, src, name string, size int64) *contender {
	return &contender{
		workload: workload, tool: tool, objects: 1, bytes: size, servers: []*serverProc{s.minioProc},
		run: func(ctx context.Context, _ int, sw *stopwatch) (int64, error) {
			m, err := s.mount(ctx, []string{s.c.ferry, "mount", src})
			if err != nil {
				return 0, err
			}
			defer m.stop()
			sw.start()
			f, err := os.Open(filepath.Join(m.dir, name))
			if err != nil {
				sw.stop()
				return 0, fmt.Errorf("read through mount: %w", err)
			}
			n, err := readLikeCat(f)
			f.Close()
			sw.stop()
			if err == nil && n != size {
				err = fmt.Errorf("%d bytes, want %d", n, size)
			}
			if err != nil {
				return 0, fmt.Errorf("read through mount: %w", err)
			}
			return m.rss(), nil
		},
	}
}

// mountFind mounts with argv + mountpoint (a fresh mount each run,
// untimed) and times `find` over the mount. The RSS is the mount's peak.
func (s *servers) mountFind(workload, tool string, argv []string, n int) *contender {
	c := &contender{workload: workload, tool: tool, objects: n, servers: []*serverProc{s.minioProc}}
	if argv[0] == "" {
		c.skip = "rclone not installed"
		return c
	}
	c.run = func(ctx context.Context, _ int, sw *stopwatch) (int64, error) {
		m, err := s.mount(ctx, argv)
		if err != nil {
			return 0, err
		}
		defer m.stop()
		sw.start()
		out, err := exec.CommandContext(ctx, "find", m.dir, "-type", "f").Output()
		sw.stop()
		if err != nil {
			return 0, fmt.Errorf("find through mount: %w", err)
		}
		if got := strings.Count(string(out), "\n"); got != n {
			return 0, fmt.Errorf("find through mount: %d files, want %d", got, n)
		}
		return m.rss(), nil
	}
	return c
}

// mounted is a running mount process.
type mounted struct {
	dir string
	cmd *exec.Cmd
}

// rss returns the mount process's peak RSS so far.
func (m *mounted) rss() int64 { return readHWM(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid)) }

// stop unmounts (SIGTERM, then a lazy umount and SIGKILL after 10 s) and
// removes the mountpoint.
func (m *mounted) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = exec.Command("umount", "-l", m.dir).Run()
		_ = m.cmd.Process.Kill()
		<-done
	}
	_ = os.Remove(m.dir)
}

// mount runs argv + a new mountpoint in the background until the mount
// shows in /proc/self/mountinfo (10 s at most). ctx's end kills it.
func (s *servers) mount(ctx context.Context, argv []string) (*mounted, error) {
	name := filepath.Base(argv[0])
	dir, err := os.MkdirTemp(s.c.work, "mnt-")
	if err != nil {
		return nil, fmt.Errorf("mount with %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], dir)...)
	cmd.Env = s.env()
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("mount with %s: %w", name, err)
	}
	m := &mounted{dir: dir, cmd: cmd}
	for range 200 {
		if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), " "+dir+" ") {
			return m, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.stop()
	return nil, &cmdError{name: name, err: fmt.Errorf("no mount at %s after 10s", dir), tail: stderr.lines(tailLines)}
}

// catBlock is the read size of GNU cat on this machine (coreutils 9:
// 128 KiB, or st_blksize when larger).
const catBlock = 128 << 10

// readLikeCat reads f to its end in catBlock reads, as `cat f >/dev/null`
// does, and returns the bytes read. (io.Copy to io.Discard would read in
// 8 KiB pieces whatever the buffering around f, since *os.File's WriteTo
// and io.Discard's ReadFrom take over the copy: 16 times the system calls
// of cat, which the bench then measured more than the mount.)
func readLikeCat(f *os.File) (int64, error) {
	buf := make([]byte, catBlock)
	var n int64
	for {
		m, err := f.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
