package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestFetchQueue_CreateFetchJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	m := mustOpenMaster(t, path)
	db := m.Fetch()
	j := FetchJob{ID: "fj1", Dest: "us3://b", Creds: map[string]string{"US3_PUBLIC_KEY": "p"},
		AllowedBuckets: []string{"b", "c"}, Keys: []FetchKey{{"pub", "priv"}, {"pub2", "priv2"}},
		Concurrency: 3, AllowPrivateURLs: true, MaxQueue: 7}
	fmust(t, db.CreateFetchJob(ctx, j, ft0))
	if err := db.CreateFetchJob(ctx, j, ft0); !errors.Is(err, ErrJobExists) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if err := db.CreateFetchJob(ctx, FetchJob{ID: "x", Dest: "us3://b"}, ft0); err == nil {
		t.Fatal("job without keys stored")
	}
	fmust(t, db.CreateFetchJob(ctx, FetchJob{ID: "fj2", Dest: "/data", Keys: []FetchKey{{"a", "b"}}}, ft0.Add(time.Second)))
	m.Close()
	m = mustOpenMaster(t, path)
	defer m.Close()
	db = m.Fetch()
	got, err := db.FetchJob(ctx, "fj1")
	if err != nil {
		t.Fatal(err)
	}
	j.CreatedAt = ft0
	if fmt.Sprint(got) != fmt.Sprint(j) {
		t.Fatalf("job after reopen = %+v, want %+v", got, j)
	}
	all, err := db.FetchJobs(ctx)
	if err != nil || len(all) != 2 || all[1].ID != "fj2" || all[1].Creds == nil || all[1].AllowedBuckets == nil {
		t.Fatalf("FetchJobs = %+v, %v", all, err)
	}
	if _, err := db.FetchJob(ctx, "nope"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
	// Deleting fails its unfinished tasks and keeps finished ones.
	open, done := newFetch("open"), newFetch("done")
	open.JobID, done.JobID = "fj1", "fj1"
	mustCreate(t, db, open, ft0)
	mustCreate(t, db, done, ft0.Add(time.Second))
	if _, err := db.LeaseFetchTasks(ctx, "ag", 2, ft0, time.Minute); err != nil {
		t.Fatal(err)
	}
	fmust(t, db.FinishFetchTask(ctx, "done", "ag", FetchOutcome{OK: true}, ft0))
	fmust(t, db.DeleteFetchJob(ctx, "fj1", ft0))
	if err := db.DeleteFetchJob(ctx, "fj1", ft0); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	checkOpenCounts(t, db)
	o, _ := db.FetchTask(ctx, "open")
	d, _ := db.FetchTask(ctx, "done")
	if o.State != FetchFailed || o.LastError != "fetch job deleted" || o.CallbackState != CallbackPending || d.State != FetchDone {
		t.Fatalf("after delete: open %+v, done %+v", o, d)
	}
}
