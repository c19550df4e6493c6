package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-project/ferry/test/faultproxy"
)

// proxyScenario copies the shared tree into MinIO through a fault proxy
// that gives pct percent of connections a fault (two fifths resets, two
// fifths cuts, one fifth stalls), rerunning until a run succeeds with the
// faults still on.
func proxyScenario(pct int) scenario {
	name := fmt.Sprintf("1. local → MinIO via proxy, %d%% conn faults", pct)
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		bucket := fmt.Sprintf("proxy%d", pct)
		d, err := l.bucket(ctx, bucket)
		if err != nil {
			r.problem("%v", err)
			return r
		}
		rate := float64(pct) / 100
		p, err := faultproxy.New(faultproxy.Options{
			Target: strings.TrimPrefix(l.minio.Endpoint, "http://"), Seed: l.c.seed + uint64(pct),
			Rates:    faultproxy.Rates{Reset: rate * 0.4, Cut: rate * 0.4, Stall: rate * 0.2},
			MaxBytes: l.c.proxyMaxBytes, StallFor: l.c.stallFor, PerExchange: true,
		})
		if err != nil {
			r.problem("%v", err)
			return r
		}
		defer p.Close()
		cat := filepath.Join(l.work, bucket+".db")
		args := l.migrateArgs(l.tree.dir, "s3://"+bucket+"/", cat)
		l.finalRun(ctx, r, bucket, l.minioEnv("http://"+p.Addr()), args)
		s := p.Stats()
		r.faults = fmt.Sprintf("%d (%d resets, %d cuts, %d stalls; %d conns, %d exchanges)", s.Faults(), s.Resets, s.Cuts, s.Stalls, s.Conns, s.Conns+s.Exchanges)
		if s.Faults() == 0 {
			r.problem("the proxy injected no fault in %d connections", s.Conns)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		l.finish(cctx, r, d, "", l.tree)
		return r
	}}
}
