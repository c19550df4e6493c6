package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

const adminToken, clusterToken = "chaos-admin-token", "chaos-cluster-token"

// cluster is a `ferry master` and its agents (`ferry migrate run
// --master`), each restartable after kill -9: the master on the same
// address and catalog, an agent under the same name and state directory.
type cluster struct {
	l          *lab
	addr, db   string
	procs      map[string]*proc // "master" and the agents by name
	agentState map[string]string
}

// startCluster runs a master with short leases and quick heartbeats (as
// the end-to-end tests do) and the named agents.
func startCluster(ctx context.Context, l *lab, agents ...string) (*cluster, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &cluster{l: l, addr: addr, db: filepath.Join(l.work, "master.db"),
		procs: map[string]*proc{}, agentState: map[string]string{}}
	if err := c.start(ctx, "master"); err != nil {
		return nil, err
	}
	for _, a := range agents {
		c.agentState[a] = filepath.Join(l.work, "agent-"+a)
		if err := c.start(ctx, a); err != nil {
			c.stop()
			return nil, err
		}
	}
	return c, nil
}

// url is the master's base URL.
func (c *cluster) url() string { return "http://" + c.addr }

// start (re)starts the master or the named agent; the master is awaited
// until it serves.
func (c *cluster) start(ctx context.Context, name string) error {
	if name != "master" {
		p, err := c.l.ferry.start("agent-"+name, []string{"FERRY_STATE_DIR=" + c.agentState[name]},
			"migrate", "run", "--master", c.url(), "--token", clusterToken, "--name", name, "--verbose")
		c.procs[name] = p
		return err
	}
	p, err := c.l.ferry.start("master", nil, "master", "--listen", c.addr, "--db", c.db,
		"--admin-token", adminToken, "--cluster-token", clusterToken,
		"--lease-ttl", "3s", "--heartbeat", "300ms", "--ranges", "16")
	if err != nil {
		return err
	}
	c.procs[name] = p
	if err := waitHTTP(ctx, p, c.url()+"/metrics", 30*time.Second); err != nil {
		return fmt.Errorf("start master: %w (log: %s)", err, p.tail(3))
	}
	return nil
}

// kill sends SIGKILL to the master or the named agent.
func (c *cluster) kill(name string) { c.procs[name].kill() }

// stop kills every process of the cluster.
func (c *cluster) stop() {
	for _, p := range c.procs {
		if p != nil && p.running() {
			p.kill()
		}
	}
}

// operator is the environment of `ferry job` commands, with vars.
func (c *cluster) operator(vars ...string) []string {
	return append([]string{"FERRY_MASTER=" + c.url(), "FERRY_TOKEN=" + adminToken}, vars...)
}

// createJob runs `ferry job create` with args and returns the job ID.
func (c *cluster) createJob(ctx context.Context, vars []string, args ...string) (string, error) {
	out, err := c.l.ferry.output(ctx, c.operator(vars...), append([]string{"job", "create"}, args...)...)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "job-") {
		return "", fmt.Errorf("create job: printed %q, want a job ID", out)
	}
	return id, nil
}

// jobState is the part of `ferry job show --json` the scenario reads.
type jobState struct {
	State   string `json:"state"`
	Objects int64  `json:"objects"`
	Copied  int64  `json:"copied"`
	Failed  int64  `json:"failed"`
}

// finished reports whether the job's run has ended.
func (j jobState) finished() bool {
	return j.State == "done" || j.State == "failed" || j.State == "canceled"
}

// show runs `ferry job show ID --json`.
func (c *cluster) show(ctx context.Context, id string) (jobState, error) {
	var j jobState
	out, err := c.l.ferry.output(ctx, c.operator(), "job", "show", id, "--json")
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		return j, fmt.Errorf("parse job show: %w", err)
	}
	return j, nil
}

// wait polls the job until its run has ended or ctx ends.
func (c *cluster) wait(ctx context.Context, id string) (jobState, error) {
	for {
		j, err := c.show(ctx, id)
		if err == nil && j.finished() {
			return j, nil
		}
		if !sleep(ctx, 500*time.Millisecond) {
			return j, fmt.Errorf("wait for job %s (last state %q): %w", id, j.State, ctx.Err())
		}
	}
}
