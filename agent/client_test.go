package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Every refusal of a real master reaches the caller as the one *APIError,
// with the status, a code and the master's message, never with the token;
// IsLeaseLost and IsNotFound read it.
func TestClient_APIError(t *testing.T) {
	ctx := context.Background()
	tm := startMaster(t, nil)
	src := t.TempDir()
	makeFiles(t, src, 1, 3, "a")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: filepath.Join(t.TempDir(), "d")})
	const wrongToken = "not-the-token-0123456789"
	wrong, err := NewClient(tm.srv.URL, wrongToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		call     func() error
		status   int
		code     string
		msg      string
		lost, nf bool
	}{
		{"wrong token", func() error { _, err := wrong.Jobs(ctx); return err }, 401, "unauthorized", "invalid token", false, false},
		{"cluster token for operators", func() error { _, err := tm.cluster.Jobs(ctx); return err }, 403, "forbidden", "needs the admin token", false, false},
		{"admin token for agents", func() error { _, _, err := tm.admin.Lease(ctx, "a1"); return err }, 403, "forbidden", "needs the cluster token", false, false},
		{"unknown job", func() error { _, err := tm.admin.Job(ctx, "job-nope"); return err }, 404, "not_found", `unknown job "job-nope"`, false, true},
		{"invalid job", func() error { _, err := tm.admin.CreateJob(ctx, JobSpec{Source: src}); return err }, 400, "bad_request", "needs a source and a destination", false, false},
		{"lost lease", func() error {
			_, err := tm.cluster.SendReport(ctx, "lease-gone", ReportRequest{Agent: "a1", JobID: id, RangeID: 1})
			return err
		}, 409, "conflict", "lease lost", true, false},
		{"unknown endpoint", func() error { return tm.admin.Do(ctx, http.MethodGet, "/api/v1/nothing", nil, nil) }, 404, "not_found", "no such endpoint", false, true},
	} {
		err := c.call()
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v is not an *APIError", c.name, err)
			continue
		}
		if ae.Status != c.status || ae.Code != c.code || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%s: %+v, want %d %s %q", c.name, ae, c.status, c.code, c.msg)
		}
		if want := fmt.Sprintf("(HTTP %d)", c.status); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q does not name the HTTP status", c.name, err)
		}
		if IsLeaseLost(err) != c.lost || IsNotFound(err) != c.nf {
			t.Errorf("%s: IsLeaseLost %v, IsNotFound %v", c.name, IsLeaseLost(err), IsNotFound(err))
		}
		for _, secret := range []string{wrongToken, adminToken, clusterToken} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: %q quotes a token", c.name, err)
			}
		}
	}
	// A wrapped *APIError is still found.
	_, err = tm.admin.Job(ctx, "job-nope")
	if wrapped := errors.Join(errors.New("show job"), err); !IsNotFound(wrapped) {
		t.Errorf("IsNotFound(%v) = false through a wrap", wrapped)
	}
}

// Errors that are not the master's answers are not *APIError, and neither
// they nor NewClient's refusals quote the token or a password in the URL.
func TestClient_transportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	const token = "tok-9f8e7d6c5b4a"
	c, err := NewClient("http://"+addr, token)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Jobs(context.Background())
	var ae *APIError
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "reach master") || strings.Contains(err.Error(), token) {
		t.Errorf("unreachable master: %v", err)
	}
	for _, base := range []string{"ftp://user:pw-secret@host:1", "http://user:pw-secret@", "host:7070"} {
		if _, err := NewClient(base, token); err == nil || strings.Contains(err.Error(), "pw-secret") || strings.Contains(err.Error(), token) {
			t.Errorf("NewClient(%q) = %v, want a refusal without the password or token", base, err)
		}
	}
	if _, err := NewClient("http://"+addr, ""); err == nil {
		t.Error("NewClient accepted an empty token")
	}
}
