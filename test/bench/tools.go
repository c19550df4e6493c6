package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// target is where a contender writes: bucket "bench" of one store, under
// a fresh prefix per run, so that no run overwrites keys (MinIO's
// overwrite path costs more than a first write) and cleanup can remove
// exactly what the run wrote.
type target struct {
	store string // "s3" (MinIO) or "us3" (us3emu)
	base  string // prefix without the run suffix or trailing slash
}

// prefix is run i's key prefix: "<base>-r<i>/".
func (t target) prefix(i int) string { return fmt.Sprintf("%s-r%d/", t.base, i) }

// uri is run i's destination as ferry takes it.
func (t target) uri(i int) string { return t.store + "://bench/" + t.prefix(i) }

// proc returns the server process behind store "s3" or "us3".
func (s *servers) proc(store string) *serverProc {
	if store == "us3" {
		return s.emuProc
	}
	return s.minioProc
}

// ferryCopy is `ferry migrate run` from `from` (a directory or URI) to a
// fresh prefix of to, with a fresh catalog per run; servers are the
// processes the run talks to.
func (s *servers) ferryCopy(workload, tool, from string, to target, n int, size int64, servers ...*serverProc) *contender {
	catalog := func(i int) string {
		return filepath.Join(s.c.work, fmt.Sprintf("catalog-%s-%s-r%d.db", to.store, to.base, i))
	}
	return &contender{
		workload: workload, tool: tool, objects: n, bytes: size, servers: servers,
		run: func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
			return s.timed(ctx, sw, s.c.ferry, "migrate", "run", "--from", from, "--to", to.uri(i),
				"--catalog", catalog(i), "--workers", fmt.Sprint(s.c.workers), "--progress", "none")
		},
		cleanup: func(ctx context.Context, i int) error {
			removeCatalog(catalog(i))
			return s.deletePrefix(ctx, to.store, to.prefix(i))
		},
	}
}

// removeCatalog removes a catalog file with its SQLite companions.
func removeCatalog(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(path + suffix)
	}
}

// rcloneCopy is `rclone copy` from `from` (a directory or "remote:path")
// to a fresh prefix of MinIO under rclone remote `remote` ("bench" or
// "bench2").
//
// Flags: the same concurrency as Ferry (--transfers and --checkers =
// workers; --s3-upload-concurrency = workers parts of one file in flight,
// as Ferry keeps workers parts in flight for one large file) and the same
// part size (8 MiB); --no-check-dest and --s3-no-check-bucket skip the
// listing of the (always empty) destination and the bucket probe, which
// Ferry does not do either; neither changes rclone's check of each
// upload (size and hash against the source). Everything else is rclone's
// default.
func (s *servers) rcloneCopy(workload, tool, from, remote string, to target, n int, size int64, servers ...*serverProc) *contender {
	c := &contender{workload: workload, tool: tool, objects: n, bytes: size, servers: servers}
	if s.c.rclone == "" {
		c.skip = "rclone not installed (make bench installs it with go install)"
		return c
	}
	w := fmt.Sprint(s.c.workers)
	c.run = func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
		return s.timed(ctx, sw, s.c.rclone, "copy", from, remote+":bench/"+to.prefix(i),
			"--transfers", w, "--checkers", w, "--s3-upload-concurrency", w, "--s3-chunk-size", "8M",
			"--no-check-dest", "--s3-no-check-bucket")
	}
	c.cleanup = func(ctx context.Context, i int) error { return s.deletePrefix(ctx, to.store, to.prefix(i)) }
	return c
}
