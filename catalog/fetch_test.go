package catalog

import (
	"context"
	"testing"
	"time"
)

// ft0 is the clock the fetch queue tests start at.
var ft0 = time.Unix(1700000000, 0)

// newFetch is a task of job1 with both callbacks.
func newFetch(id string) NewFetchTask {
	return NewFetchTask{ID: id, JobID: "job1", URL: "http://origin/" + id, Bucket: "b", Key: "k/" + id,
		SuccessCallback: "http://app/ok", FailureCallback: "http://app/fail"}
}

// mustCreate stores a new (not duplicate) task and returns its ID.
func mustCreate(t *testing.T, db *FetchQueue, nt NewFetchTask, now time.Time) string {
	t.Helper()
	id, dup, err := db.CreateFetchTask(context.Background(), nt, now, QueueLimits{})
	if err != nil || dup {
		t.Fatalf("CreateFetchTask(%s) = %q, dup %v, %v", nt.ID, id, dup, err)
	}
	return id
}

// fetchIDs returns the IDs of ts, in order.
func fetchIDs(ts []FetchTask) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// fmust fails the test on err.
func fmust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkOpenCounts compares the trigger-kept counts with the tasks.
func checkOpenCounts(t *testing.T, db *FetchQueue) {
	t.Helper()
	rows, err := db.st.r.Query(`SELECT j, a, b FROM (
		SELECT job_id AS j, n AS a, (SELECT COUNT(*) FROM fetch_tasks t WHERE t.job_id = c.job_id
			AND t.state IN ('pending', 'leased', 'running')) AS b FROM fetch_open_counts c
		UNION ALL
		SELECT job_id, 0, COUNT(*) FROM fetch_tasks WHERE state IN ('pending', 'leased', 'running')
			AND job_id NOT IN (SELECT job_id FROM fetch_open_counts) GROUP BY job_id)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var j string
		var a, b int
		if err := rows.Scan(&j, &a, &b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("job %s: open count %d, %d unfinished tasks", j, a, b)
		}
	}
}
