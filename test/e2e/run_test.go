package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// result is one finished ferry command.
type result struct {
	stdout, stderr string
	code           int
}

// ferryEnv is the environment of a ferry command: the test process's
// environment minus credentials, plus vars.
func ferryEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "US3_") || strings.HasPrefix(k, "AZURE_STORAGE_") || strings.HasPrefix(k, "FERRY_") {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// ferry runs the ferry binary to completion.
func ferry(t testing.TB, vars map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bins.ferry, args...)
	cmd.Env = ferryEnv(vars)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run ferry %v: %v", args, err)
	}
	t.Logf("ferry %s → exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, tail(r.stderr, 2000))
	return r
}

// mustFerry runs ferry and fails the test unless it exits 0.
func mustFerry(t testing.TB, vars map[string]string, args ...string) result {
	t.Helper()
	r := ferry(t, vars, args...)
	if r.code != 0 {
		t.Fatalf("ferry %v exited %d: %s", args, r.code, tail(r.stderr, 2000))
	}
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
