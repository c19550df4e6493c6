package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// ferryRunner starts the ferry binary with a clean environment: the
// program's own minus every credential, plus FERRY_STATE_DIR and what each
// command is given. Every process logs to its own file under logs.
type ferryRunner struct {
	bin, state, logs string
	seq              atomic.Int64
}

func newFerryRunner(bin, work string) (*ferryRunner, error) {
	f := &ferryRunner{bin: bin, state: filepath.Join(work, "state"), logs: filepath.Join(work, "logs")}
	if err := os.MkdirAll(f.logs, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	return f, nil
}

// env is the environment of a ferry command with vars added.
func (f *ferryRunner) env(vars []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "US3_") || strings.HasPrefix(k, "FERRY_") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "FERRY_STATE_DIR="+f.state), vars...)
}

// start runs ferry with args in the background; name labels its log file.
func (f *ferryRunner) start(name string, vars []string, args ...string) (*proc, error) {
	log := filepath.Join(f.logs, fmt.Sprintf("%03d-%s.log", f.seq.Add(1), name))
	return startProc("ferry "+name, log, f.env(vars), append([]string{f.bin}, args...)...)
}

// run runs ferry to its exit (killing it if ctx ends first) and returns
// its exit code and process.
func (f *ferryRunner) run(ctx context.Context, name string, vars []string, args ...string) (int, *proc, error) {
	p, err := f.start(name, vars, args...)
	if err != nil {
		return 0, nil, err
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		p.kill()
		return 0, p, fmt.Errorf("run ferry %s: %w", name, ctx.Err())
	}
	return p.exitCode(), p, nil
}

// untilDone runs the same ferry command until it exits 0, at most max
// times. It returns the runs made, with a note for each that did not exit
// 0, and an error when none did or ctx ended.
func (f *ferryRunner) untilDone(ctx context.Context, name string, max int, vars []string, args ...string) (int, []string, error) {
	var notes []string
	for i := 1; i <= max; i++ {
		code, p, err := f.run(ctx, name, vars, args...)
		if err != nil {
			return i, notes, err
		}
		if code == 0 {
			return i, notes, nil
		}
		notes = append(notes, fmt.Sprintf("%s run %d exited %d: %s", name, i, code, p.tail(2)))
	}
	return max, notes, fmt.Errorf("%s: no run of %d exited 0", name, max)
}

// output runs ferry to its exit and returns its stdout; a non-zero exit is
// an error carrying its stderr.
func (f *ferryRunner) output(ctx context.Context, vars []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Env = f.env(vars)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("run ferry %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
