package fetch

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent/agenttest"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
)

func TestAgentAPI_leaseRenewFinish(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	jobs := testJobs(t, func(j *Job) {
		j.Creds = map[string]string{"US3_PUBLIC_KEY": "p"}
		j.Concurrency = 3
	})
	finished := 0
	srv := httptest.NewServer(NewAgentAPI(db, jobs, AgentAPIOptions{Drivers: agenttest.Drivers(t), TTL: time.Minute, OnFinish: func() { finished++ }}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	now := time.Now()
	for _, nt := range []catalog.NewFetchTask{
		{ID: "a", JobID: testJob, URL: "http://o/a", Bucket: "bucket-b", Key: "ka", FailureCallback: "http://cb/f"},
		{ID: "orphan", JobID: "deleted-job", URL: "http://o/b", Bucket: "x", Key: "kb", FailureCallback: "http://cb/f"},
	} {
		if _, _, err := db.CreateFetchTask(ctx, nt, now, catalog.QueueLimits{}); err != nil {
			t.Fatal(err)
		}
	}
	reply, err := leaseTasks(ctx, c, "agent-1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(reply.Tasks) != 1 || reply.TTLSeconds != 60 {
		t.Fatalf("lease = %+v", reply)
	}
	lt := reply.Tasks[0]
	if lt.ID != "a" || lt.Dest != "us3://bucket-b/pre" || lt.Credentials["US3_PUBLIC_KEY"] != "p" || lt.Concurrency != 3 ||
		!lt.AllowPrivateURLs || lt.Attempt != 1 {
		t.Fatalf("leased task = %+v", lt)
	}
	// The task of a vanished job failed at once, with its callback due.
	orphan, _ := db.FetchTask(ctx, "orphan")
	if orphan.State != catalog.FetchFailed || orphan.CallbackState != catalog.CallbackPending || finished != 1 {
		t.Fatalf("orphan = %+v (finished %d)", orphan, finished)
	}
	if err := renewTask(ctx, c, "a", "agent-2"); !agent.IsLeaseLost(err) {
		t.Fatalf("renew by another agent = %v", err)
	}
	if err := renewTask(ctx, c, "zzz", "agent-1"); !agent.IsNotFound(err) {
		t.Fatalf("renew unknown = %v", err)
	}
	if err := renewTask(ctx, c, "a", "agent-1"); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.FetchTask(ctx, "a"); a.State != catalog.FetchRunning {
		t.Fatalf("renewed task state = %s", a.State)
	}
	if err := finishTask(ctx, c, "a", "agent-1", Result{OK: true, ETag: "E", SHA1: "s", Size: 3}); err != nil {
		t.Fatal(err)
	}
	a, _ := db.FetchTask(ctx, "a")
	if a.State != catalog.FetchDone || a.ETag != "E" || a.SHA1 != "s" || a.Size != 3 || finished != 2 {
		t.Fatalf("finished task = %+v", a)
	}
	if err := finishTask(ctx, c, "a", "agent-1", Result{OK: true}); !agent.IsLeaseLost(err) {
		t.Fatalf("second finish = %v", err)
	}
	if reply, err := leaseTasks(ctx, c, "agent-1", 0); err == nil {
		t.Fatalf("lease of 0 tasks = %+v", reply)
	}
}
