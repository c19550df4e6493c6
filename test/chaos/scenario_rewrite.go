package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"
)

// rewriteScenario copies c.rewriteFiles files of 1–12 MiB into MinIO
// while a writer rewrites random ones in place, keeping every version
// written. After that run every object must equal one complete version of
// its file; after a final run without writer, its final version.
func rewriteScenario() scenario {
	const name = "5. source files rewritten in place during the copy"
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		dir, err := l.dir("rewrite-src")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		src, rng := newSource(dir), l.rng(5)
		for i := 0; i < l.c.rewriteFiles; i++ {
			if err := src.write(rewriteKey(i), randomBytes(rng, rewriteSize(rng))); err != nil {
				r.problem("%v", err)
				return r
			}
		}
		d, err := l.bucket(ctx, "rewrite")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		vars := l.minioEnv(l.minio.Endpoint)
		args := l.migrateArgs(dir, "s3://rewrite/", filepath.Join(l.work, "rewrite.db"), "--bwlimit", l.c.bwlimit)

		p, err := l.ferry.start("rewrite", vars, args...)
		if err != nil {
			r.problem("%v", err)
			return r
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var rewrites int
		var werr error
		wg.Add(1)
		go func() { defer wg.Done(); rewrites, werr = rewriter(src, rng, l.c.rewriteFiles, stop) }()
		select {
		case <-p.exited:
		case <-ctx.Done():
			p.kill()
		}
		close(stop)
		wg.Wait()
		r.faults = fmt.Sprintf("%d rewrites in place", rewrites)
		if werr != nil {
			r.problem("%v", werr)
			return r
		}
		if code := p.exitCode(); code != 0 {
			r.note("the run during the rewrites exited %d: %s", code, p.tail(2))
		}

		// Mid-way: whatever is there must be one whole version.
		cctx := context.WithoutCancel(ctx)
		mid, err := check(cctx, d, "", src)
		if err != nil {
			r.problem("%v", err)
			return r
		}
		if len(mid.corrupted) > 0 {
			r.note("after the run during the rewrites, %d object(s) equal no version of their file (a mix): %s", len(mid.corrupted), sample(mid.corrupted))
		}
		l.finalRun(ctx, r, "rewrite", vars, args)
		l.finish(cctx, r, d, "", src)
		r.corrupted = max(r.corrupted, len(mid.corrupted))
		return r
	}}
}

func rewriteKey(i int) string { return fmt.Sprintf("rw/file%03d.bin", i) }

// rewriteSize draws a file size of 1–12 MiB: some files are multipart.
func rewriteSize(rng *rand.Rand) int { return 1<<20 + rng.IntN(11<<20) }

// rewriter rewrites a random one of n files in place every 50 ms until
// stop is closed, and returns how many rewrites it made.
func rewriter(src *source, rng *rand.Rand, n int, stop <-chan struct{}) (int, error) {
	count := 0
	for {
		select {
		case <-stop:
			return count, nil
		case <-time.After(50 * time.Millisecond):
		}
		data := randomBytes(rng, rewriteSize(rng))
		// 256 KiB at a time, 2 ms apart: a rewrite lasts long enough for a
		// reader to see it under way.
		if err := src.rewrite(rewriteKey(rng.IntN(n)), data, 256<<10, 2*time.Millisecond); err != nil {
			return count, err
		}
		count++
	}
}
