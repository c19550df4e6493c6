package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lab is what every scenario shares: the configuration, the work
// directory, the MinIO server, the ferry runner and the source tree of
// scenarios 1–4 (read only; each scenario copies it into its own bucket).
type lab struct {
	c     config
	work  string
	minio *minioServer
	ferry *ferryRunner
	tree  *source
}

// newLab starts MinIO and writes the shared tree. The caller must call
// close.
func newLab(ctx context.Context, c config, work string) (*lab, error) {
	f, err := newFerryRunner(c.ferry, work)
	if err != nil {
		return nil, err
	}
	l := &lab{c: c, work: work, ferry: f, tree: newSource(filepath.Join(work, "tree"))}
	spec := treeSpec{small: c.small, smallMax: c.smallMax, large: c.large, largeSize: c.largeSize}
	if err := l.tree.fill(spec, l.rng(0)); err != nil {
		return nil, err
	}
	if l.minio, err = startMinio(ctx, c.minio, filepath.Join(work, "minio")); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *lab) close() { l.minio.stop() }

// rng returns a generator for one use of the seed (stream), so scenarios
// draw the same numbers whatever runs before them.
func (l *lab) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(l.c.seed, stream))
}

// dir returns a new directory under the work directory.
func (l *lab) dir(name string) (string, error) {
	d := filepath.Join(l.work, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	return d, nil
}

// bucket creates a MinIO bucket and returns its reader.
func (l *lab) bucket(ctx context.Context, name string) (*s3Dest, error) {
	if err := l.minio.MakeBucket(ctx, name); err != nil {
		return nil, err
	}
	return &s3Dest{c: l.minio.Client(), bucket: name}, nil
}

// minioEnv is what ferry needs to reach MinIO at endpoint (MinIO's own,
// or a proxy's in front of it).
func (l *lab) minioEnv(endpoint string) []string {
	m := l.minio
	return []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey,
		"AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=" + m.Region}
}

// migrateArgs is `ferry migrate run` from src to to with its own catalog,
// the configured workers and part size, then extra.
func (l *lab) migrateArgs(src, to, catalog string, extra ...string) []string {
	args := []string{"migrate", "run", "--from", src, "--to", to, "--catalog", catalog,
		"--workers", fmt.Sprint(l.c.workers), "--part-size", l.c.partSize, "--progress", "none", "--verbose"}
	return append(args, extra...)
}

// finish checks the destination after the final run: every source file
// must be there and equal its final version, and no upload may be open.
func (l *lab) finish(ctx context.Context, r *result, d dest, prefix string, src *source) {
	t, err := check(ctx, d, prefix, src)
	if err != nil {
		r.problem("%v", err)
		return
	}
	r.checked = t.checked
	r.lost += len(t.lost)
	r.corrupted += len(t.corrupted)
	if len(t.lost) > 0 {
		r.note("lost: %s", sample(t.lost))
	}
	if len(t.corrupted) > 0 {
		r.note("corrupted: %s", sample(t.corrupted))
	}
	if len(t.stale) > 0 {
		r.problem("%d object(s) hold an older version after the final run: %s", len(t.stale), sample(t.stale))
	}
	if len(t.extra) > 0 {
		r.note("%d object(s) at the destination that no source file has: %s", len(t.extra), sample(t.extra))
	}
	n, err := d.openUploads(ctx)
	if err != nil {
		r.problem("%v", err)
		return
	}
	r.orphaned = n
}

// finalRun runs the migration until it exits 0 (at most c.reruns times),
// recording runs that did not as notes and none that did as a problem.
func (l *lab) finalRun(ctx context.Context, r *result, name string, vars []string, args []string) {
	runs, notes, err := l.ferry.untilDone(ctx, name, l.c.reruns, vars, args...)
	r.notes = append(r.notes, notes...)
	if err != nil {
		r.problem("run to completion: %v", err)
		return
	}
	if runs > 1 {
		r.note("the run to completion took %d runs", runs)
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// between returns a random duration in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// slug turns a scenario name into a bucket-safe word.
func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s)), "-")
}
