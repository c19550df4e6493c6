package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/ferry-project/ferry/agent/agenttest"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

// Test keys and job.
const (
	testPub  = "fetch-pub-1"
	testPriv = "fetch-priv-1"
	testJob  = "job-fetch-1"
)

// testClient is the master's client for base, with token (default: a
// token that handlers without a token check ignore).
func testClient(t testing.TB, base string, token ...string) *agent.Client {
	t.Helper()
	tok := "test-token"
	if len(token) > 0 {
		tok = token[0]
	}
	c, err := agent.NewClient(base, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openDB opens a real master catalog in a temporary directory and
// returns its fetch queue.
func openDB(t testing.TB) *catalog.FetchQueue {
	t.Helper()
	m, err := catalog.OpenMaster(context.Background(), filepath.Join(t.TempDir(), "master.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.Fetch()
}

// testJobs is one fetch job into us3://bucket-a (bucket-b allowed too),
// with private URLs and callbacks allowed (origins and receivers are on
// loopback).
func testJobs(t testing.TB, mod func(*Job)) StaticJobs {
	t.Helper()
	j := Job{ID: testJob, Dest: "us3://bucket-a/pre", AllowedBuckets: []string{"bucket-a", "bucket-b"},
		Keys: []KeyPair{{"other-pub", "other-priv"}, {testPub, testPriv}}, AllowPrivateURLs: true,
		AllowPrivateCallbacks: true}
	if mod != nil {
		mod(&j)
	}
	jobs, err := JobsFromConfig(j)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// postJSON sends a signed POST /fetch/ with body (a value or raw []byte)
// and returns the status and decoded answer.
func postJSON(t testing.TB, base string, body any, pub, priv string) (int, Response) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/fetch/", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
	if pub != "" {
		SignRequest(req, pub, priv)
	}
	return doJSON(t, req)
}

// doJSON sends req and decodes a Response.
func doJSON(t testing.TB, req *http.Request) (int, Response) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, body %s", ct, b)
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, r
}

// startHandler serves NewHandler over db and jobs.
func startHandler(t testing.TB, db *catalog.FetchQueue, jobs JobLookup, opts HandlerOptions) string {
	t.Helper()
	if len(opts.Drivers.Schemes()) == 0 {
		opts.Drivers = agenttest.Drivers(t)
	}
	srv := httptest.NewServer(NewHandler(db, jobs, opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fetchCounts returns the number of tasks of every state.
func fetchCounts(t testing.TB, db *catalog.FetchQueue) int {
	t.Helper()
	tasks, _, err := db.FetchCounts(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range tasks {
		n += c
	}
	return n
}
