package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/fetch"
)

const (
	adminTok   = "bench-admin"
	clusterTok = "bench-cluster"
	emuPub     = "bench-us3-public"
	emuPriv    = "bench-us3-private"
	fetchPub   = "bench-fetch-public"
	fetchPriv  = "bench-fetch-private"
	bucket     = "fetched"
)

// env is the running processes and in-process servers.
type env struct {
	c        config
	work     string
	emu      string // emulator endpoint
	master   string
	admin    *agent.Client // the master's API, with the admin token
	procs    []*exec.Cmd
	origin   *origin
	receiver *receiver
	cbURL    string
}

// start runs the emulator, the master, an origin and a callback receiver.
func start(ctx context.Context, c config, work string) (*env, error) {
	e := &env{c: c, work: work}
	emuOut, err := e.spawn(ctx, c.us3emu, "us3emu", "--addr", "127.0.0.1:0", "--root", filepath.Join(work, "emu"),
		"--public-key", emuPub, "--private-key", emuPriv, "--bucket", bucket)
	if err != nil {
		e.stop()
		return nil, err
	}
	if e.emu, err = waitLine(emuOut, "listening on "); err != nil {
		e.stop()
		return nil, fmt.Errorf("us3emu: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.stop()
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	e.master = "http://" + addr
	if _, err := e.spawn(ctx, c.ferry, "master", "master", "--listen", addr, "--db", filepath.Join(work, "master.db"),
		"--admin-token", adminTok, "--cluster-token", clusterTok, "--quiet"); err != nil {
		e.stop()
		return nil, err
	}
	admin, err := agent.NewClient(e.master, adminTok)
	if err != nil {
		e.stop()
		return nil, err
	}
	e.admin = admin
	deadline := time.Now().Add(20 * time.Second)
	for _, err := admin.Jobs(ctx); err != nil; _, err = admin.Jobs(ctx) {
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("ferry master did not start: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.origin = startOrigin()
	e.receiver = newReceiver()
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.stop()
		return nil, err
	}
	go (&http.Server{Handler: e.receiver}).Serve(rl)
	e.cbURL = "http://" + rl.Addr().String()
	return e, nil
}

// spawn starts a binary with its stderr in work/<name>.log and returns its
// stdout.
func (e *env) spawn(ctx context.Context, bin, name string, args ...string) (io.Reader, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	logf, err := os.Create(filepath.Join(e.work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	e.procs = append(e.procs, cmd)
	go func() {
		if name != "us3emu" {
			_, _ = io.Copy(logf, out)
		}
	}()
	return out, nil
}

// waitLine reads stdout until a line holds marker and returns what follows
// it; the rest of the output is drained.
func waitLine(rd io.Reader, marker string) (string, error) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), marker); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return strings.TrimSpace(rest), nil
		}
	}
	return "", errors.New("exited before it listened")
}

// cleanEnv is this environment without credentials.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "US3_") && !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "FERRY_") {
			out = append(out, kv)
		}
	}
	return out
}

// startAgents runs n agents.
func (e *env) startAgents(ctx context.Context, n int) error {
	for i := range n {
		name := fmt.Sprintf("bench-agent-%d", i)
		cmd := exec.CommandContext(ctx, e.c.ferry, "migrate", "run", "--master", e.master, "--token", clusterTok, "--name", name)
		cmd.Env = append(cleanEnv(), "FERRY_STATE_DIR="+filepath.Join(e.work, name))
		logf, err := os.Create(filepath.Join(e.work, name+".log"))
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start agent: %w", err)
		}
		e.procs = append(e.procs, cmd)
	}
	return nil
}

// createJob makes a fetch job into the emulator bucket.
func (e *env) createJob(ctx context.Context) (string, error) {
	v, err := fetch.CreateJob(ctx, e.admin, fetch.JobSpec{Dest: "us3://" + bucket, AllowPrivateURLs: true, AllowPrivateCallbacks: true,
		Keys:        []fetch.JobKey{{Public: fetchPub, Private: fetchPriv}},
		Credentials: map[string]string{"US3_PUBLIC_KEY": emuPub, "US3_PRIVATE_KEY": emuPriv, "US3_ENDPOINT": e.emu}})
	if err != nil {
		return "", err
	}
	return v.ID, nil
}

// stop kills every process (SIGKILL: nothing to keep).
func (e *env) stop() {
	for _, p := range e.procs {
		_ = p.Process.Signal(syscall.SIGKILL)
		_ = p.Wait()
	}
	if e.origin != nil {
		e.origin.Close()
	}
}
