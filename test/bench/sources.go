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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3fs "github.com/ferry-project/ferry/fs/s3"
)

// sourceRows measures the source side: reads through the mount against a
// direct GET, `find` through ferry mount against rclone mount, migrations
// out of S3, and the memory of listing 20,000 and 200,000 keys.
func (s *servers) sourceRows(ctx context.Context, smallPrefix, largeKey string, small int, smallBytes, largeSize int64, want func(string, string) bool, add func(row, error)) {
	w := "512 MiB object"
	if want(w, "direct GET") {
		add(s.directGet(ctx, w, largeKey, largeSize))
	}
	if want(w, "cat through ferry mount") {
		add(s.mountRead(ctx, w, "cat through ferry mount", "s3://bench/"+filepath.Dir(largeKey), filepath.Base(largeKey), largeSize))
	}
	tree := fmt.Sprintf("find, %d objects", small)
	if want(tree, "ferry mount") {
		add(s.mountFind(ctx, tree, "ferry mount", []string{s.c.ferry, "mount", "s3://bench/" + smallPrefix}, small))
	}
	if want(tree, "rclone mount") {
		if s.c.rclone == "" {
			add(row{workload: tree, tool: "rclone mount", note: "rclone not installed"}, nil)
		} else {
			add(s.mountFind(ctx, tree, "rclone mount", []string{s.c.rclone, "mount", "bench:bench/" + smallPrefix, "--read-only"}, small))
		}
	}
	s2s := fmt.Sprintf("S3 → S3, %d objects", small)
	if want(s2s, "ferry") {
		add(s.ferryRun(ctx, s2s, "ferry migrate", "s3://bench/"+smallPrefix, "s3://bench/s2s-ferry/", small, smallBytes))
	}
	if want(s2s, "rclone") {
		add(s.rcloneRun(ctx, s2s, "rclone copy (two remotes)", "bench:bench/"+smallPrefix, "bench2:bench/s2s-rclone", small, smallBytes))
	}
	s2u := fmt.Sprintf("S3 → US3, %d objects", small)
	if want(s2u, "ferry") {
		add(s.ferryRun(ctx, s2u, "ferry migrate", "s3://bench/"+smallPrefix, "us3://bench/s2u-ferry/", small, smallBytes))
	}
	l2s := "S3 → S3, 512 MiB object"
	if want(l2s, "ferry") {
		add(s.ferryRun(ctx, l2s, "ferry migrate", "s3://bench/"+filepath.Dir(largeKey), "s3://bench/l2s-ferry/", 1, largeSize))
	}
	l2u := "S3 → US3, 512 MiB object"
	if want(l2u, "ferry") {
		add(s.ferryRun(ctx, l2u, "ferry migrate", "s3://bench/"+filepath.Dir(largeKey), "us3://bench/l2u-ferry/", 1, largeSize))
	}
	if want(l2s, "rclone") {
		add(s.rcloneRun(ctx, l2s, "rclone copy (two remotes)", "bench:bench/"+filepath.Dir(largeKey), "bench2:bench/l2s-rclone", 1, largeSize))
	}
	for _, n := range []int{20000, 200000} {
		wl := fmt.Sprintf("ls -R, %d keys", n)
		if !want(wl, "ferry ls") && !want(wl, "rclone lsf") {
			continue
		}
		prefix := fmt.Sprintf("keys%d/", n)
		fmt.Fprintf(os.Stderr, "storing %d empty objects under %s\n", n, prefix)
		if err := s.fillKeys(ctx, prefix, n); err != nil {
			add(row{workload: wl, tool: "setup"}, err)
			continue
		}
		if want(wl, "ferry ls") {
			el, rss, err := s.timed(ctx, s.c.ferry, "ls", "--recursive", "s3://bench/"+prefix)
			add(newRow(wl, "ferry ls --recursive", n, 0, el, rss), err)
		}
		if want(wl, "rclone lsf") && s.c.rclone != "" {
			el, rss, err := s.timed(ctx, s.c.rclone, "lsf", "-R", "bench:bench/"+prefix)
			add(newRow(wl, "rclone lsf -R", n, 0, el, rss), err)
		}
	}
}

// directGet reads the object with one GET straight from MinIO.
func (s *servers) directGet(ctx context.Context, w, key string, size int64) (row, error) {
	start := time.Now()
	out, err := s.minio.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Range: aws.String("bytes=0-")})
	if err != nil {
		return row{workload: w, tool: "direct GET"}, err
	}
	n, err := io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return newRow(w, "direct ranged GET (aws-sdk-go-v2)", 1, size, time.Since(start), 0), err
}

// mountRead mounts src with ferry and reads name through the kernel.
func (s *servers) mountRead(ctx context.Context, w, tool, src, name string, size int64) (row, error) {
	mp, stop, err := s.mount(ctx, []string{s.c.ferry, "mount", src})
	if err != nil {
		return row{workload: w, tool: tool}, err
	}
	defer stop()
	start := time.Now()
	f, err := os.Open(filepath.Join(mp, name))
	if err != nil {
		return row{workload: w, tool: tool}, err
	}
	n, err := io.Copy(io.Discard, bufio.NewReaderSize(f, 1<<20))
	f.Close()
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return newRow(w, tool, 1, size, time.Since(start), 0), err
}

// mountFind mounts with the given command and times `find` over the mount.
func (s *servers) mountFind(ctx context.Context, w, tool string, argv []string, n int) (row, error) {
	mp, stop, err := s.mount(ctx, argv)
	if err != nil {
		return row{workload: w, tool: tool}, err
	}
	defer stop()
	start := time.Now()
	out, err := exec.CommandContext(ctx, "find", mp, "-type", "f").Output()
	el := time.Since(start)
	if err == nil {
		if got := strings.Count(string(out), "\n"); got != n {
			err = fmt.Errorf("find listed %d files, want %d", got, n)
		}
	}
	return newRow(w, tool, n, 0, el, 0), err
}

// mount runs argv + mountpoint in the background until the mount is up.
func (s *servers) mount(ctx context.Context, argv []string) (string, func(), error) {
	mp, err := os.MkdirTemp(s.c.work, "mnt-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], mp)...)
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = exec.Command("umount", "-l", mp).Run()
			_ = cmd.Process.Kill()
		}
	}
	for i := 0; i < 200; i++ {
		if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), " "+mp+" ") {
			return mp, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("%s did not mount", filepath.Base(argv[0]))
}

// fillKeys stores n empty objects under prefix (once).
func (s *servers) fillKeys(ctx context.Context, prefix string, n int) error {
	sink, err := s3fs.New(ctx, s3fs.Config{Endpoint: s.minio.Endpoint, Region: s.minio.Region, AccessKey: s.minio.AccessKey,
		SecretKey: s.minio.SecretKey, PathStyle: true, Bucket: "bench", Prefix: prefix})
	if err != nil {
		return err
	}
	return uploadAll(ctx, sink, 32, n, nil)
}
