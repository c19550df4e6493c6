package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/internal/syncbuf"
)

// waitFor polls buf until it holds every one of want, or fails after d.
func waitFor(t *testing.T, buf *syncbuf.Buffer, d time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		all := true
		for _, w := range want {
			all = all && strings.Contains(buf.String(), w)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %v in:\n%s", want, d, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRun_StatusLinesAreLogRecords: the master's "listening" and
// "stopped" lines and an agent's "working" and "range … done" lines are
// log/slog records of the process's logger (time=… level=INFO msg=…), not
// bare lines, with the words the tests and operators grep for.
func TestRun_StatusLinesAreLogRecords(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "http://" + addr
	masterVars := map[string]string{"FERRY_ADMIN_TOKEN": "admin-token", "FERRY_CLUSTER_TOKEN": "cluster-token",
		"FERRY_SECRET_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}
	var logs syncbuf.Buffer
	codes := make(chan int, 2)
	go func() {
		codes <- run([]string{"ferry", "master", "--listen", addr, "--db", filepath.Join(dir, "master.db"),
			"--lease-ttl", "3s", "--heartbeat", "200ms"}, &bytes.Buffer{}, &logs, func(k string) string { return masterVars[k] })
	}()
	waitFor(t, &logs, 20*time.Second, "ferry master: listening")

	code, stdout, _ := ferryRun(t, map[string]string{"FERRY_ADMIN_TOKEN": "admin-token"},
		"job", "create", "--master", url, "--from", src, "--to", dst)
	job := strings.TrimSpace(stdout)
	if code != 0 || job == "" {
		t.Fatalf("job create: exit %d, stdout %q", code, stdout)
	}
	go func() {
		codes <- run([]string{"ferry", "migrate", "run", "--master", url, "--name", "a1", "--catalog", filepath.Join(dir, "agent")},
			&bytes.Buffer{}, &logs, func(k string) string {
				return map[string]string{"FERRY_CLUSTER_TOKEN": "cluster-token"}[k]
			})
	}()
	waitFor(t, &logs, 30*time.Second, "ferry agent a1: job "+job+" range ", " done: 1 copied, 0 unchanged, 0 failed")
	// Both commands end on SIGINT, as from a terminal.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case c := <-codes:
			if c != 0 {
				t.Errorf("a command exited %d on SIGINT:\n%s", c, logs.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the master and the agent did not stop on SIGINT:\n%s", logs.String())
		}
	}

	want := map[string]string{
		"ferry master: listening":                `level=INFO msg="ferry master: listening" url=` + url + " catalog=",
		"ferry master: stopped":                  `level=INFO msg="ferry master: stopped"`,
		"ferry agent a1: working":                `level=INFO msg="ferry agent a1: working" master=` + url + " catalogs=",
		"ferry agent a1: job " + job + " range ": `level=INFO msg="ferry agent a1: job ` + job + ` range `,
	}
	found := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.HasPrefix(line, "ferry master") || strings.HasPrefix(line, "ferry agent") {
			t.Errorf("a bare status line, not a log record: %q", line)
		}
		for words, record := range want {
			if strings.Contains(line, words) {
				found[words] = true
				if !strings.HasPrefix(line, "time=") || !strings.Contains(line, record) {
					t.Errorf("status line %q, want a record like time=… %s…", line, record)
				}
			}
		}
	}
	for words := range want {
		if !found[words] {
			t.Errorf("no %q record in:\n%s", words, logs.String())
		}
	}
}
