package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// benchCount reads a size from the environment (default def).
func benchCount(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkConsole measures the pages that grow with the data: the Jobs
// page with FERRY_WEB_BENCH_JOBS jobs (10,000) and a job page whose job has
// FERRY_WEB_BENCH_FAILED failed objects (1,000,000), each served by a real
// master over loopback. make bench prints it.
func BenchmarkConsole(b *testing.B) {
	e := startEnv(b)
	ctx := context.Background()
	nJobs, nFailed := benchCount("FERRY_WEB_BENCH_JOBS", 10000), benchCount("FERRY_WEB_BENCH_FAILED", 1000000)
	src, dst := e.tree(b, "src", map[string]string{"a": "x"}), e.tree(b, "dst", nil)

	// The job with the failed objects: the benchmark is its agent.
	failed, err := e.admin.CreateJob(ctx, agent.JobSpec{Source: src, Dest: dst})
	if err != nil {
		b.Fatal(err)
	}
	l, ok, err := e.cluster.Lease(ctx, "bench-agent")
	if err != nil || !ok {
		b.Fatalf("lease: %v %v", ok, err)
	}
	start := time.Now()
	const batch = 20000
	for sent := 0; sent < nFailed; sent += batch {
		fs := make([]agent.FailureView, 0, batch)
		for i := sent; i < min(sent+batch, nFailed); i++ {
			fs = append(fs, agent.FailureView{Path: fmt.Sprintf("dir%04d/file%07d.bin", i/1000, i), Size: int64(i), Error: "read: input/output error", RangeID: l.RangeID, Agent: "bench-agent", At: time.Now()})
		}
		if _, err := e.cluster.SendReport(ctx, l.ID, agent.ReportRequest{Agent: "bench-agent", JobID: l.JobID, RangeID: l.RangeID,
			Cursor: fs[len(fs)-1].Path, Failed: int64(sent + len(fs)), Failures: fs, Done: sent+batch >= nFailed}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d failed objects reported in %s", nFailed, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < nJobs-1; i += 8 {
				if _, err := e.admin.CreateJob(ctx, agent.JobSpec{Source: src, Dest: dst}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("%d jobs created in %s", nJobs, time.Since(start).Round(time.Millisecond))

	br := e.signIn(b, adminTok)
	for _, p := range []struct{ name, path string }{
		{fmt.Sprintf("jobs-page/%d-jobs", nJobs), "/ui/jobs"},
		{fmt.Sprintf("jobs-page-filtered/%d-jobs", nJobs), "/ui/jobs?state=failed&q=src"},
		{"overview", "/ui/"},
		{fmt.Sprintf("job-page/%d-failed", nFailed), "/ui/jobs/" + failed.ID},
		{fmt.Sprintf("job-page-last/%d-failed", nFailed), "/ui/jobs/" + failed.ID + "?fafter=" + fmt.Sprintf("dir%04d/file%07d.bin", (nFailed-10)/1000, nFailed-10)},
		{fmt.Sprintf("api-jobs/%d-jobs", nJobs), ""},
		{fmt.Sprintf("api-job/%d-failed", nFailed), "api-job"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				switch p.path { // the API alone, for comparison
				case "":
					if _, err := e.admin.Jobs(ctx); err != nil {
						b.Fatal(err)
					}
					continue
				case "api-job":
					if _, err := e.admin.Job(ctx, failed.ID); err != nil {
						b.Fatal(err)
					}
					continue
				}
				resp, err := br.c.Get(e.srv.URL + p.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", p.path, resp.StatusCode)
				}
			}
		})
	}
}
