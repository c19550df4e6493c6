package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent/agenttest"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// dirOpener opens directories with fs/local: the master's migrate jobs in
// these tests copy one directory into another.
type dirOpener struct{}

var _ agent.Opener = dirOpener{}

func (dirOpener) OpenSource(_ context.Context, loc agent.Location) (fs.Tree, error) {
	return local.New(loc.URI)
}

func (dirOpener) OpenDest(_ context.Context, loc agent.Location) (fs.Sink, error) {
	return local.NewSink(loc.URI)
}

func (dirOpener) OpenDestTree(_ context.Context, loc agent.Location) (fs.Tree, error) {
	return local.New(loc.URI)
}

// jobsMaster is a real master on loopback with the fetch service mounted
// and its fetch jobs as a JobType, as `ferry master` assembles them.
type jobsMaster struct {
	url   string
	admin *agent.Client
}

func startJobsMaster(t *testing.T) *jobsMaster {
	t.Helper()
	ctx := context.Background()
	db, err := catalog.OpenMaster(ctx, filepath.Join(t.TempDir(), "master.db"), agent.NextRun)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := NewService(ctx, ServiceConfig{DB: db.Fetch(), Drivers: agenttest.Drivers(t)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := agent.NewMaster(ctx, agent.MasterConfig{DB: db, Opener: dirOpener{}, Drivers: agenttest.Drivers(t), AdminToken: "admin-token",
		ClusterToken: "cluster-token", Mounts: []agent.Mount{svc.Mount}, JobTypes: []agent.JobType{svc.JobType()}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &jobsMaster{url: srv.URL, admin: testClient(t, srv.URL, "admin-token")}
}

// get answers GET path with the admin token: status and body.
func (jm *jobsMaster) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, jm.url+path, nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// GET /api/v1/jobs lists migrate and fetch jobs, each with its type and
// only its own section; GET /api/v1/jobs/{id} shows either; an unknown ID
// of either form is a JSON 404; actions a fetch job does not take are a
// JSON 400; the older fetch routes answer as they did; DELETE of a fetch
// job through /api/v1/jobs/{id} deletes it.
func TestJobType_masterAPI(t *testing.T) {
	ctx := context.Background()
	jm := startJobsMaster(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	mig, err := jm.admin.CreateJob(ctx, agent.JobSpec{Source: src, Dest: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fj, err := CreateJob(ctx, jm.admin, JobSpec{Dest: "us3://b", Keys: []JobKey{{testPub, testPriv}}, MaxQueue: 7,
		Credentials: map[string]string{"US3_PRIVATE_KEY": "dest-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	// One task, posted as an application would: the job is running.
	sub := &Submitter{Master: jm.url, Public: testPub, Private: testPriv}
	if resp, status, err := sub.Post(ctx, Request{URL: "http://example.com/x", Bucket: "b", Key: "x", JobID: fj.ID}); err != nil || status != 200 {
		t.Fatalf("POST /fetch/ = %d %+v %v", status, resp, err)
	}

	jobs, err := jm.admin.Jobs(ctx)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("Jobs = %+v, %v; want 2", jobs, err)
	}
	if jobs[0].ID != mig.ID || jobs[0].Type != agent.TypeMigrate || jobs[0].Fetch != nil || jobs[0].Source != src {
		t.Errorf("first job = %+v, want the migrate job with no fetch section", jobs[0])
	}
	f := jobs[1]
	if f.ID != fj.ID || f.Type != agent.TypeFetch || f.Dest != "us3://b" || f.State != "running" || f.Fetch == nil ||
		f.Fetch.Tasks["pending"] != 1 || f.Fetch.MaxQueue != 7 || strings.Join(f.Fetch.PublicKeys, ",") != testPub {
		t.Errorf("second job = %+v (fetch %+v), want the running fetch job", f, f.Fetch)
	}
	status, body := jm.get(t, "/api/v1/jobs")
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); status != 200 || err != nil || len(raw) != 2 {
		t.Fatalf("GET /api/v1/jobs = %d %s", status, body)
	}
	if string(raw[0]["type"]) != `"migrate"` || raw[0]["fetch"] != nil || string(raw[1]["type"]) != `"fetch"` || raw[1]["fetch"] == nil {
		t.Errorf("GET /api/v1/jobs: types or sections wrong: %s", body)
	}
	if strings.Contains(body, testPriv) || strings.Contains(body, "dest-secret") {
		t.Errorf("GET /api/v1/jobs leaks a secret: %s", body)
	}

	// GET of each type.
	if v, err := jm.admin.Job(ctx, mig.ID); err != nil || v.Type != agent.TypeMigrate || len(v.Ranges) == 0 {
		t.Errorf("Job(migrate) = %+v, %v", v, err)
	}
	v, err := jm.admin.Job(ctx, fj.ID)
	if err != nil || v.Type != agent.TypeFetch || v.Fetch == nil || v.Fetch.Tasks["pending"] != 1 || v.Fetch.CredentialNames[0] != "US3_PRIVATE_KEY" {
		t.Errorf("Job(fetch) = %+v, %v", v, err)
	}

	// Unknown IDs of either form, and actions a fetch job does not take:
	// JSON errors, as the client's one error type.
	for _, c := range []struct {
		name   string
		call   func() error
		status int
		code   string
		msg    string
	}{
		{"unknown fetch job", func() error { _, err := jm.admin.Job(ctx, "fetch-0000000000000000"); return err }, 404, "not_found", `unknown job "fetch-0000000000000000"`},
		{"unknown migrate job", func() error { _, err := jm.admin.Job(ctx, "job-nope"); return err }, 404, "not_found", `unknown job "job-nope"`},
		{"delete unknown fetch job", func() error { return jm.admin.DeleteJob(ctx, "fetch-none") }, 404, "not_found", "unknown job"},
		{"pause a fetch job", func() error { _, err := jm.admin.JobAction(ctx, fj.ID, "pause"); return err }, 400, "bad_request", "is a fetch job: pause is not supported"},
		{"retry a fetch job", func() error { _, err := jm.admin.RetryFailed(ctx, fj.ID); return err }, 400, "bad_request", "retry-failed is not supported"},
		{"report of a fetch job", func() error { return jm.admin.Report(ctx, fj.ID, "md", io.Discard) }, 400, "bad_request", "report is not supported"},
		{"failed list of a fetch job", func() error { return jm.admin.Failed(ctx, fj.ID, "csv", io.Discard) }, 400, "bad_request", "failed is not supported"},
	} {
		err := c.call()
		var ae *agent.APIError
		if !errors.As(err, &ae) || ae.Status != c.status || ae.Code != c.code || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%s: %v (%+v), want %d %s with %q", c.name, err, ae, c.status, c.code, c.msg)
		}
	}
	if status, body := jm.get(t, "/api/v1/jobs/fetch-0000000000000000"); status != 404 || !strings.Contains(body, `"error"`) || !strings.Contains(body, `"code": "not_found"`) {
		t.Errorf("GET of an unknown fetch job = %d %s, want a JSON 404", status, body)
	}

	// The older routes answer as they did: the fetch fields at the top.
	for _, path := range []string{PathJobs, PathJobs + "/" + fj.ID} {
		status, body := jm.get(t, path)
		body = strings.TrimSpace(body)
		if strings.HasPrefix(body, "[") {
			body = strings.TrimSuffix(strings.TrimPrefix(body, "["), "]")
		}
		var old map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &old); status != 200 || err != nil {
			t.Fatalf("GET %s = %d %s", path, status, body)
		}
		for _, field := range []string{"id", "type", "dest", "allowed_buckets", "public_keys", "credential_names", "allow_private_urls",
			"max_queue", "allow_private_callbacks", "reject_replays", "created_at", "tasks", "callbacks"} {
			if old[field] == nil {
				t.Errorf("GET %s lacks %q: %s", path, field, body)
			}
		}
		if old["fetch"] != nil || old["source"] != nil {
			t.Errorf("GET %s answers the new view, not the fetch job as before: %s", path, body)
		}
	}

	// DELETE through /api/v1/jobs/{id} deletes a fetch job: gone from both routes.
	if err := jm.admin.DeleteJob(ctx, fj.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := jm.admin.Job(ctx, fj.ID); !agent.IsNotFound(err) {
		t.Errorf("Job after delete = %v, want not found", err)
	}
	if status, _ := jm.get(t, PathJobs+"/"+fj.ID); status != 404 {
		t.Errorf("old route after delete = %d, want 404", status)
	}
	if jobs, err := jm.admin.Jobs(ctx); err != nil || len(jobs) != 1 || jobs[0].ID != mig.ID {
		t.Errorf("Jobs after delete = %+v, %v", jobs, err)
	}
}

// A JobType that claims the migrate jobs' IDs, or a second type of the
// same name, stops the master.
func TestJobType_ambiguousTypesRefused(t *testing.T) {
	ctx := context.Background()
	db, err := catalog.OpenMaster(ctx, filepath.Join(t.TempDir(), "master.db"), agent.NextRun)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := NewService(ctx, ServiceConfig{DB: db.Fetch(), Drivers: agenttest.Drivers(t)})
	if err != nil {
		t.Fatal(err)
	}
	for name, types := range map[string][]agent.JobType{
		"twice":        {svc.JobType(), svc.JobType()},
		"migrate's ID": {greedyType{svc.JobType()}},
	} {
		_, err := agent.NewMaster(ctx, agent.MasterConfig{DB: db, Opener: dirOpener{}, Drivers: agenttest.Drivers(t), AdminToken: "a", ClusterToken: "c", JobTypes: types})
		if err == nil || !strings.Contains(err.Error(), "job type") {
			t.Errorf("%s: NewMaster with ambiguous job types = %v, want a job type error", name, err)
		}
	}
}

// greedyType owns every ID.
type greedyType struct{ agent.JobType }

func (greedyType) Type() string     { return "greedy" }
func (greedyType) Owns(string) bool { return true }
