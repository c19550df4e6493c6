package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/catalog"
)

// raw sends a request with an optional token and body and returns the
// status, the decoded error message (if the body is a JSON error) and body.
func raw(t *testing.T, tm *testMaster, method, path, token, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, tm.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var eb errorBody
	_ = json.Unmarshal(b, &eb)
	return resp.StatusCode, eb.Error, string(b)
}

func TestMaster_ServeHTTP_errors(t *testing.T) {
	tm := startMaster(t, nil)
	src := t.TempDir()
	makeFiles(t, src, 1, 3, "e")
	good := `{"source":"` + src + `","dest":"` + filepath.Join(t.TempDir(), "d") + `"}`
	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		msg                             string
	}{
		{"no token", "GET", "/api/v1/jobs", "", "", 401, "missing bearer token"},
		{"wrong token", "GET", "/api/v1/jobs", "nope", "", 401, "invalid token"},
		{"cluster token on an admin endpoint", "GET", "/api/v1/jobs", clusterToken, "", 403, "admin token"},
		{"admin token on an agent endpoint", "POST", "/api/v1/leases", adminToken, `{"agent":"a"}`, 403, "cluster token"},
		{"unknown job", "GET", "/api/v1/jobs/job-nope", adminToken, "", 404, `unknown job "job-nope"`},
		{"pause unknown job", "POST", "/api/v1/jobs/job-nope/pause", adminToken, "", 404, "unknown job"},
		{"delete unknown job", "DELETE", "/api/v1/jobs/job-nope", adminToken, "", 404, "unknown job"},
		{"failed of unknown job", "GET", "/api/v1/jobs/job-nope/failed", adminToken, "", 404, "unknown job"},
		{"malformed JSON", "POST", "/api/v1/jobs", adminToken, `{"source": `, 400, "malformed JSON"},
		{"empty body", "POST", "/api/v1/jobs", adminToken, ``, 400, "malformed JSON: empty body"},
		{"unknown field", "POST", "/api/v1/jobs", adminToken, `{"sauce":"/x"}`, 400, "unknown field"},
		{"two values", "POST", "/api/v1/jobs", adminToken, good + good, 400, "more than one value"},
		{"missing dest", "POST", "/api/v1/jobs", adminToken, `{"source":"/x"}`, 400, "needs a source and a destination"},
		{"invalid cron", "POST", "/api/v1/jobs", adminToken, strings.Replace(good, "}", `,"schedule":"61 * * * *"}`, 1), 400, "minute field"},
		{"bad skip rule", "POST", "/api/v1/jobs", adminToken, strings.Replace(good, "}", `,"options":{"skip":"maybe"}}`, 1), 400, "skip must be"},
		{"bad filter", "POST", "/api/v1/jobs", adminToken, strings.Replace(good, "}", `,"options":{"include":["[a"]}}`, 1), 400, "options"},
		{"foreign credential", "POST", "/api/v1/jobs", adminToken, strings.Replace(good, "}", `,"credentials":{"HOME":"/root"}}`, 1), 400, "credentials"},
		{"unlistable source", "POST", "/api/v1/jobs", adminToken, `{"source":"us3://nowhere/x","dest":"/tmp/x"}`, 422, "cannot open source us3://nowhere/x"},
		{"missing source dir", "POST", "/api/v1/jobs", adminToken, `{"source":"/does/not/exist","dest":"/tmp/x"}`, 422, "cannot open source"},
		{"bad agent name", "POST", "/api/v1/leases", clusterToken, `{"agent":"a b"}`, 400, "invalid agent name"},
		{"report on a lost lease", "POST", "/api/v1/leases/lease-x/report", clusterToken, `{"agent":"a","job_id":"j","range_id":1}`, 409, "lease lost"},
		{"wrong method", "PUT", "/api/v1/jobs", adminToken, "", 405, "not allowed"},
		{"unknown endpoint", "GET", "/api/v2/things", adminToken, "", 404, "no such endpoint"},
		{"bad report format", "GET", "/api/v1/jobs/x/report?format=pdf", adminToken, "", 400, "format must be"},
	} {
		status, msg, body := raw(t, tm, c.method, c.path, c.token, c.body)
		if status != c.status || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q (body %s), want %d with %q", c.name, status, msg, body, c.status, c.msg)
		}
	}
	// Nothing was created by any of them.
	jobs, err := tm.admin.Jobs(context.Background())
	if err != nil || len(jobs) != 0 {
		t.Fatalf("jobs after bad requests = %+v, %v", jobs, err)
	}
	// The client surfaces the message and status.
	_, err = tm.admin.Job(context.Background(), "job-nope")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || !strings.Contains(err.Error(), "unknown job") {
		t.Fatalf("client error = %v", err)
	}
}

func TestMaster_createJob_credentialsStaySecret(t *testing.T) {
	tm := startMaster(t, nil)
	src := t.TempDir()
	makeFiles(t, src, 2, 10, "c")
	secret := "very-secret-private-key"
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: filepath.Join(t.TempDir(), "d"),
		Credentials: map[string]string{"US3_PRIVATE_KEY": secret, "FERRY_SRC_AWS_SECRET_ACCESS_KEY": secret}})
	for _, path := range []string{"/api/v1/jobs", "/api/v1/jobs/" + id, "/api/v1/jobs/" + id + "/report?format=html",
		"/api/v1/jobs/" + id + "/failed?format=csv", "/api/v1/agents", "/metrics"} {
		if _, _, body := raw(t, tm, "GET", path, adminToken, ""); strings.Contains(body, secret) {
			t.Fatalf("GET %s leaks the credentials: %s", path, body)
		}
	}
	// The master opened the source and destination with them, and an agent's lease carries them.
	tm.opener.mu.Lock()
	got := tm.opener.creds[0]["US3_PRIVATE_KEY"]
	tm.opener.mu.Unlock()
	if got != secret {
		t.Fatalf("the opener got credentials %q", got)
	}
	l, ok, err := tm.cluster.Lease(context.Background(), "a1")
	if err != nil || !ok || l.Credentials["FERRY_SRC_AWS_SECRET_ACCESS_KEY"] != secret {
		t.Fatalf("lease = %+v, %v, %v; want the job's credentials", l.Credentials, ok, err)
	}
}

func TestMaster_metrics(t *testing.T) {
	tm := startMaster(t, nil)
	src, dst := t.TempDir(), t.TempDir()
	makeFiles(t, src, 3, 30, "m")
	id := createJob(t, tm.admin, JobSpec{Source: src, Dest: dst})
	runAgent(t, tm, "a1", 4)
	waitJob(t, tm.admin, id, "done", isState("done"))
	_, _, body := raw(t, tm, "GET", "/metrics", "", "")
	for _, want := range []string{
		`ferry_objects{outcome="copied"} 30`,
		`ferry_job_objects{job="` + id + `",outcome="copied"} 30`,
		"ferry_failures 0",
		`ferry_jobs{state="done"} 1`,
		"ferry_agents_active 1",
		"ferry_lease_expiries_total 0",
		"# TYPE ferry_master_request_seconds histogram",
		`ferry_master_request_seconds_count{route="POST /api/v1/leases/{id}/report"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// mountPing adds routes to the master's API as the fetch service does.
func mountPing(mux *http.ServeMux, admin, cluster func(http.Handler) http.Handler) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pong")) })
	mux.Handle("GET /api/v1/ping/admin", admin(ok))
	mux.Handle("GET /api/v1/ping/cluster", cluster(ok))
	mux.Handle("GET /ping", ok)
}

// mountPong is a second service beside mountPing.
func mountPong(mux *http.ServeMux, admin, cluster func(http.Handler) http.Handler) {
	mux.Handle("GET /api/v1/pong", admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ping")) })))
}

func TestMasterConfig_Mount(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) { c.Mounts = []Mount{mountPing, mountPong} })
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/ping/admin", adminToken, 200},
		{"/api/v1/ping/admin", clusterToken, 403},
		{"/api/v1/ping/cluster", clusterToken, 200},
		{"/api/v1/ping/cluster", "", 401},
		{"/ping", "", 200},
	} {
		if status, _, body := raw(t, tm, "GET", c.path, c.token, ""); status != c.status || (status == 200 && body != "pong") {
			t.Errorf("GET %s with %q: %d %q, want %d", c.path, c.token, status, body, c.status)
		}
	}
	if status, _, body := raw(t, tm, "GET", "/api/v1/pong", adminToken, ""); status != 200 || body != "ping" {
		t.Errorf("GET /api/v1/pong of the second mount: %d %q", status, body)
	}
	// A mount whose routes conflict with another's stops the master.
	db, err := catalog.OpenMaster(context.Background(), filepath.Join(t.TempDir(), "m.db"), NextRun)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = NewMaster(context.Background(), MasterConfig{DB: db, Opener: &localOpener{}, AdminToken: adminToken,
		ClusterToken: clusterToken, Mounts: []Mount{mountPing, mountPing}})
	if err == nil || !strings.Contains(err.Error(), "mount 1") {
		t.Fatalf("NewMaster with conflicting mounts = %v, want an error naming mount 1", err)
	}
}
