package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/agenttest"
	"github.com/ferry-project/ferry/agent/sources"
	"github.com/ferry-project/ferry/catalog"
)

func status(err error) int {
	var ae *agent.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func TestSavedSources(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k, _ := catalog.NewSecretKey()
	db, err := catalog.OpenMaster(ctx, filepath.Join(dir, "m.db"), agent.NextRun, catalog.WithSecretKey(k))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	op := agenttest.LocalOpener{Drivers: agenttest.Drivers(t), Creds: make(chan map[string]string, 100)}
	svc, err := sources.New(sources.Config{DB: db, Opener: op, Drivers: agenttest.Drivers(t)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := agent.NewMaster(ctx, agent.MasterConfig{DB: db, Opener: op, Drivers: agenttest.Drivers(t), AdminToken: "adm", ClusterToken: "clu", ViewerToken: "view",
		Mounts: []agent.Mount{svc.Mount}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	defer srv.Close()
	admin, _ := agent.NewClient(srv.URL, "adm")
	viewer, _ := agent.NewClient(srv.URL, "view")

	src := filepath.Join(dir, "src")
	for _, p := range []string{"photos/a.jpg", "photos/b.jpg", "docs/x.txt", "top.txt"} {
		os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(src, p), []byte(p), 0o644)
	}
	var v sources.View
	spec := sources.Spec{URI: src, Region: "r1", Secrets: map[string]string{"FERRY_SRC_TOKEN": "very-secret"}}
	if err := admin.Do(ctx, http.MethodPut, "/api/v1/sources/nas", spec, &v); err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.SecretNames, ",") != "FERRY_SRC_TOKEN" || v.URI != src {
		t.Errorf("saved %+v", v)
	}
	// Secrets are never sent back.
	var list []sources.View
	if err := viewer.Do(ctx, http.MethodGet, "/api/v1/sources", nil, &list); err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	resp, _ := http.Get(srv.URL + "/api/v1/sources")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	resp.Body.Close()
	// Replaced without secrets, the source keeps its own.
	spec.Secrets, spec.Region = nil, "r2"
	if err := admin.Do(ctx, http.MethodPut, "/api/v1/sources/nas", spec, &v); err != nil || v.Region != "r2" || len(v.SecretNames) != 1 {
		t.Fatalf("replace: %+v %v", v, err)
	}
	// One level, with the source's secrets handed to the opener.
	var l sources.Listing
	if err := viewer.Do(ctx, http.MethodGet, "/api/v1/sources/nas/ls", nil, &l); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range l.Entries {
		names = append(names, fmt.Sprintf("%s:%v", e.Name, e.Dir))
	}
	if strings.Join(names, " ") != "docs:true photos:true top.txt:false" {
		t.Errorf("root listing %v", names)
	}
	if c := <-op.Creds; c["FERRY_SRC_TOKEN"] != "very-secret" {
		t.Errorf("opener creds %v", c)
	}
	if err := admin.Do(ctx, http.MethodGet, "/api/v1/sources/nas/ls?path=photos", nil, &l); err != nil || len(l.Entries) != 2 || l.Entries[0].Path != "photos/a.jpg" {
		t.Errorf("photos: %+v %v", l, err)
	}
	if err := admin.Do(ctx, http.MethodGet, "/api/v1/sources/nas/ls?path=nope", nil, &l); status(err) != http.StatusNotFound {
		t.Errorf("missing dir: %v", err)
	}
	// A job from the source: its path, region and secrets, plus the job's own credentials.
	var j agent.JobView
	js := sources.JobSpec{Path: "photos", Dest: filepath.Join(dir, "dst"), Credentials: map[string]string{"FERRY_DST_TOKEN": "d"}}
	if err := viewer.Do(ctx, http.MethodPost, "/api/v1/sources/nas/jobs", js, &j); status(err) != http.StatusForbidden {
		t.Errorf("viewer creates a job: %v", err)
	}
	if err := admin.Do(ctx, http.MethodPost, "/api/v1/sources/nas/jobs", js, &j); err != nil {
		t.Fatal(err)
	}
	if j.Source != src+"/photos" || j.Options.FromRegion != "r2" {
		t.Errorf("job %+v", j)
	}
	creds, err := db.JobCreds(ctx, j.ID)
	if err != nil || creds["FERRY_SRC_TOKEN"] != "very-secret" || creds["FERRY_DST_TOKEN"] != "d" {
		t.Errorf("job creds %v %v", creds, err)
	}
	// Refusals: bad name, bad body, viewer changes, unknown source.
	if err := admin.Do(ctx, http.MethodPut, "/api/v1/sources/bad%20name", spec, nil); status(err) != http.StatusBadRequest {
		t.Errorf("bad name: %v", err)
	}
	if err := viewer.Do(ctx, http.MethodPut, "/api/v1/sources/nas", spec, nil); status(err) != http.StatusForbidden {
		t.Errorf("viewer saves: %v", err)
	}
	if err := viewer.Do(ctx, http.MethodDelete, "/api/v1/sources/nas", nil, nil); status(err) != http.StatusForbidden {
		t.Errorf("viewer deletes: %v", err)
	}
	if err := admin.Do(ctx, http.MethodDelete, "/api/v1/sources/nas", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, http.MethodGet, "/api/v1/sources/nas/ls", nil, nil); status(err) != http.StatusNotFound {
		t.Errorf("deleted source: %v", err)
	}
}
