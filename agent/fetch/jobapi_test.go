package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent/agenttest"

	"github.com/ferry-project/ferry/agent"
)

func TestJobAPI_create(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	srv := httptest.NewServer(NewJobAPI(db, JobAPIOptions{Drivers: agenttest.Drivers(t)}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	key := []JobKey{{"p", "s"}}
	for name, spec := range map[string]JobSpec{
		"no keys":           {Dest: "us3://b"},
		"bad dest":          {Dest: "nope://b", Keys: key},
		"url list":          {Dest: "urllist:///x", Keys: key},
		"local, no buckets": {Dest: "/data", Keys: key},
		"empty private":     {Dest: "us3://b", Keys: []JobKey{{"p", ""}}},
		"duplicate public":  {Dest: "us3://b", Keys: []JobKey{{"p", "a"}, {"p", "b"}}},
		"bad bucket":        {Dest: "us3://b", Keys: key, AllowedBuckets: []string{"a/b"}},
		"foreign variable":  {Dest: "us3://b", Keys: key, Credentials: map[string]string{"HOME": "/root"}},
	} {
		if v, err := CreateJob(ctx, c, spec); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("%s: CreateJob = %+v, %v; want a 400", name, v, err)
		}
	}
	if jobs, _ := db.FetchJobs(ctx); len(jobs) != 0 {
		t.Fatalf("%d jobs stored after refusals", len(jobs))
	}
	v, err := CreateJob(ctx, c, JobSpec{Dest: "/data", AllowedBuckets: []string{"in"}, Keys: key, MaxQueue: 5,
		Credentials: map[string]string{"US3_PRIVATE_KEY": "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.ID, "fetch-") || v.Type != "fetch" || v.MaxQueue != 5 || v.CredentialNames[0] != "US3_PRIVATE_KEY" {
		t.Fatalf("view = %+v", v)
	}
	j, err := CatalogJobs{DB: db}.FetchJob(ctx, v.ID)
	if err != nil || j.Keys[0] != (KeyPair{"p", "s"}) || j.Creds["US3_PRIVATE_KEY"] != "secret" || !j.BucketAllowed(agenttest.Drivers(t), "in") {
		t.Fatalf("stored job = %+v, %v", j, err)
	}
	if dest, _ := j.SinkURI(agenttest.Drivers(t), "in"); dest != "/data/in" {
		t.Fatalf("SinkURI = %q", dest)
	}
	if _, err := (CatalogJobs{DB: db}).FetchJob(ctx, "fetch-none"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("unknown job: %v", err)
	}
	var list []JobView
	err = c.Do(ctx, http.MethodGet, PathJobs, nil, &list)
	if err != nil || len(list) != 1 {
		t.Fatalf("Jobs = %+v, %v", list, err)
	}
	if err := c.Do(ctx, http.MethodGet, PathJobs+"/fetch-none", nil, &JobView{}); !agent.IsNotFound(err) {
		t.Fatalf("Job(unknown) = %v", err)
	}
}

func TestJob_SinkURI(t *testing.T) {
	j, d := Job{ID: "j", Dest: "us3://main/pre/fix"}, agenttest.Drivers(t)
	if got, _ := j.SinkURI(d, "other"); got != "us3://other/pre/fix" {
		t.Fatalf("SinkURI = %q", got)
	}
	if _, err := j.SinkURI(d, "../x"); err == nil {
		t.Fatal("SinkURI accepted a bucket with a slash")
	}
	if !j.BucketAllowed(d, "main") || j.BucketAllowed(d, "other") {
		t.Fatal("without AllowedBuckets only the destination's bucket is allowed")
	}
}

// The callback policy and replay options are stored with the job and shown
// by the API; CatalogJobs finds the jobs of a key.
func TestCatalogJobs_JobsWithKey(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	srv := httptest.NewServer(NewJobAPI(db, JobAPIOptions{Drivers: agenttest.Drivers(t)}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	v, err := CreateJob(ctx, c, JobSpec{Dest: "us3://b", Keys: []JobKey{{"p", "s"}}, AllowPrivateCallbacks: true, RejectReplays: true})
	if err != nil {
		t.Fatal(err)
	}
	if !v.AllowPrivateCallbacks || !v.RejectReplays || v.AllowPrivateURLs {
		t.Fatalf("view = %+v", v)
	}
	plain, err := CreateJob(ctx, c, JobSpec{Dest: "us3://b", Keys: []JobKey{{"q", "s"}, {"p", "t"}}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := CatalogJobs{DB: db}
	j, err := jobs.FetchJob(ctx, v.ID)
	if err != nil || !j.AllowPrivateCallbacks || !j.RejectReplays {
		t.Fatalf("stored job = %+v, %v", j, err)
	}
	if j, _ := jobs.FetchJob(ctx, plain.ID); j.AllowPrivateCallbacks || j.RejectReplays {
		t.Fatalf("options set on a job that did not ask: %+v", j)
	}
	for key, want := range map[string]int{"p": 2, "q": 1, "s": 0, "": 0} {
		if got, err := jobs.JobsWithKey(ctx, key); err != nil || len(got) != want {
			t.Errorf("JobsWithKey(%q) = %d jobs, %v; want %d", key, len(got), err, want)
		}
	}
}
