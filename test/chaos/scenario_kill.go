package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// killScenario copies the shared tree into MinIO with a bandwidth limit
// and kills the same `ferry migrate run` with SIGKILL at random moments,
// c.kills times (fewer if a run finishes before its kill), then runs it to
// completion.
func killScenario() scenario {
	const name = "2. kill -9 storm of ferry migrate run"
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		d, err := l.bucket(ctx, "killstorm")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		vars := l.minioEnv(l.minio.Endpoint)
		args := l.migrateArgs(l.tree.dir, "s3://killstorm/", filepath.Join(l.work, "killstorm.db"), "--bwlimit", l.c.bwlimit)
		rng := l.rng(2)
		kills := 0
		for kills < l.c.kills && ctx.Err() == nil {
			p, err := l.ferry.start("killstorm", vars, args...)
			if err != nil {
				r.problem("%v", err)
				return r
			}
			select {
			case <-p.exited:
				r.note("run %d finished (exit %d) before its kill; %d kill(s) so far", kills+1, p.exitCode(), kills)
			case <-time.After(between(rng, 300*time.Millisecond, 2500*time.Millisecond)):
				p.kill()
				kills++
				continue
			case <-ctx.Done():
				p.kill()
			}
			break
		}
		r.faults = fmt.Sprintf("%d kill -9", kills)
		l.finalRun(ctx, r, "killstorm", vars, args)
		l.finish(context.WithoutCancel(ctx), r, d, "", l.tree)
		return r
	}}
}
