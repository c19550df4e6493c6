package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// restartable is a server that can be killed -9 and started again on the
// same port and data.
type restartable interface {
	kill()
	restart(ctx context.Context) error
}

// minioRestartScenario copies the shared tree into MinIO while MinIO is
// killed -9 and restarted c.restarts times.
func minioRestartScenario() scenario {
	const name = "3. kill -9 + restart of MinIO (destination)"
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		d, err := l.bucket(ctx, "restarts")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		args := l.migrateArgs(l.tree.dir, "s3://restarts/", filepath.Join(l.work, "restarts-minio.db"), "--bwlimit", l.c.restartBwlimit)
		restarts(ctx, l, r, l.minio, "MinIO", l.minioEnv(l.minio.Endpoint), args)
		l.finish(context.WithoutCancel(ctx), r, d, "", l.tree)
		return r
	}}
}

// emuRestartScenario copies the shared tree into the US3 emulator while
// the emulator is killed -9 and restarted c.restarts times.
func emuRestartScenario() scenario {
	const name = "3. kill -9 + restart of us3emu (destination)"
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		dir, err := l.dir("us3emu")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		e, err := startEmu(ctx, l.c.us3emu, dir, "restarts")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		defer e.stop()
		args := l.migrateArgs(l.tree.dir, "us3://restarts/", filepath.Join(l.work, "restarts-us3.db"), "--bwlimit", l.c.restartBwlimit)
		restarts(ctx, l, r, e, "us3emu", e.env(e.endpoint()), args)
		l.finish(context.WithoutCancel(ctx), r, &us3Dest{e: e, bucket: "restarts"}, "", l.tree)
		return r
	}}
}

// restarts runs the migration while srv is killed -9 and restarted, at
// random moments, c.restarts times or until the run ends; then it runs the
// migration to completion.
func restarts(ctx context.Context, l *lab, r *result, srv restartable, what string, vars, args []string) {
	name := slug(what) + "-restarts"
	p, err := l.ferry.start(name, vars, append(args, "--attempts", "10")...)
	if err != nil {
		r.problem("%v", err)
		return
	}
	defer func() {
		if p.running() {
			p.kill()
		}
	}()
	rng := l.rng(3)
	n := 0
	for n < l.c.restarts && p.running() && sleep(ctx, between(rng, 500*time.Millisecond, 2*time.Second)) && p.running() {
		srv.kill()
		n++
		sleep(ctx, between(rng, 300*time.Millisecond, 1500*time.Millisecond))
		if err := srv.restart(ctx); err != nil {
			r.problem("restart %s: %v", what, err)
			return
		}
	}
	r.faults = fmt.Sprintf("%d kill -9 + restart of %s", n, what)
	if n < l.c.restarts {
		r.note("the run ended after %d of %d restarts", n, l.c.restarts)
	}
	select {
	case <-p.exited:
		if code := p.exitCode(); code != 0 {
			r.note("the run through the restarts exited %d: %s", code, p.tail(2))
		}
	case <-ctx.Done():
		r.problem("the run through the restarts did not end: %v", ctx.Err())
		return
	}
	l.finalRun(ctx, r, name, vars, args)
}
