package main

import (
	"context"
	"fmt"
	"time"
)

// masterScenario copies the shared tree into MinIO as a job of a master
// with two agents, killing -9 and restarting the master or an agent at
// random moments, c.kills times or until the job ends; then the job must
// finish with every object copied.
func masterScenario() scenario {
	const name = "4. kill -9 of master and agents during a job"
	return scenario{name: name, run: func(ctx context.Context, l *lab) *result {
		r := &result{name: name}
		d, err := l.bucket(ctx, "cluster")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		c, err := startCluster(ctx, l, "a1", "a2")
		if err != nil {
			r.problem("%v", err)
			return r
		}
		defer c.stop()
		id, err := c.createJob(ctx, l.minioEnv(l.minio.Endpoint), "--from", l.tree.dir, "--to", "s3://cluster/",
			"--workers", fmt.Sprint(l.c.workers), "--part-size", l.c.partSize, "--bwlimit", l.c.bwlimit)
		if err != nil {
			r.problem("%v", err)
			return r
		}
		kills, err := killCluster(ctx, l, c, id)
		r.faults = fmt.Sprintf("%d kill -9 (%s)", len(kills), countNames(kills))
		if err != nil {
			r.problem("%v", err)
			return r
		}
		j, err := c.wait(ctx, id)
		for retry := 0; err == nil && j.State == "failed" && retry < l.c.reruns; retry++ {
			r.note("job %s ended failed (%d objects failed); retry-failed", id, j.Failed)
			if _, err = l.ferry.output(ctx, c.operator(), "job", "retry-failed", id); err == nil {
				j, err = c.wait(ctx, id)
			}
		}
		switch {
		case err != nil:
			r.problem("%v", err)
		case j.State != "done":
			r.problem("job %s ended %s: %d objects, %d copied, %d failed", id, j.State, j.Objects, j.Copied, j.Failed)
		}
		l.finish(context.WithoutCancel(ctx), r, d, "", l.tree)
		return r
	}}
}

// killCluster kills -9 the master or an agent, chosen at random, every
// 0.4–1.2 s, and restarts it after 0.2–0.6 s, c.kills times or until the
// job has ended. It returns the names killed, in order.
func killCluster(ctx context.Context, l *lab, c *cluster, id string) ([]string, error) {
	rng := l.rng(4)
	victims := []string{"master", "a1", "a2"}
	var kills []string
	for len(kills) < l.c.kills && sleep(ctx, between(rng, 400*time.Millisecond, 1200*time.Millisecond)) {
		if j, err := c.show(ctx, id); err == nil && j.finished() {
			break
		}
		v := victims[rng.IntN(len(victims))]
		c.kill(v)
		kills = append(kills, v)
		sleep(ctx, between(rng, 200*time.Millisecond, 600*time.Millisecond))
		if err := c.start(ctx, v); err != nil {
			return kills, fmt.Errorf("restart %s: %w", v, err)
		}
	}
	return kills, nil
}

// countNames renders how many times each name occurs ("master ×3, a1 ×2").
func countNames(names []string) string {
	var order []string
	n := map[string]int{}
	for _, s := range names {
		if n[s] == 0 {
			order = append(order, s)
		}
		n[s]++
	}
	out := ""
	for i, s := range order {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s ×%d", s, n[s])
	}
	return out
}
