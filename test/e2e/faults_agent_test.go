package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/test/faultproxy"
	"github.com/ferry-project/ferry/test/miniotest"
)

// TestAgent_ThroughFaultyNetwork: two agents copy one job into MinIO
// through a network that resets, cuts and stalls about one request in ten
// (in its first 2 KiB), and reach their master through a second proxy
// that resets or cuts about one API call (lease, heartbeat, report) in
// eight. The job ends done, nothing failed, every byte equal, no
// multipart upload left open.
func TestAgent_ThroughFaultyNetwork(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 600, large: []int{13<<20 + 5, 11 << 20}, seed: 51, perDirMax: 100})
	mi := miniotest.Start(t)
	mi.CreateBucket(t, "dst")
	// Calm while the job is created (the master checks the destination
	// through the same proxy); faulty once the agents copy.
	dp := startProxy(t, faultproxy.Options{Target: strings.TrimPrefix(mi.Endpoint, "http://"), Seed: 51,
		MaxBytes: 2 << 10, StallFor: linkStall, PerExchange: true})
	vars := minioEnv(mi, "")
	vars["AWS_ENDPOINT_URL"] = "http://" + dp.Addr()

	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"), "--ranges", "8")
	// --attempts 2: two faults in a row (a few of them over the job's
	// hundreds of requests) outlast a request's quick retries, and the
	// object must go round again rather than fail. --bwlimit stretches the
	// job over a few seconds of leases, heartbeats and reports.
	id := createJob(t, m, vars, "--from", src, "--to", "s3://dst/agents", "--workers", "8", "--part-size", "5MiB",
		"--attempts", "2", "--bwlimit", "3MiB")
	if err := dp.SetRates(faultproxy.Rates{Reset: 0.06, Cut: 0.06, Stall: 0.04}); err != nil {
		t.Fatal(err)
	}
	mp := startProxy(t, faultproxy.Options{Target: m.addr, Seed: 52, Rates: faultproxy.Rates{Reset: 0.12, Cut: 0.12},
		MaxBytes: 256, PerExchange: true})
	viaProxy := *m
	viaProxy.url = "http://" + mp.Addr()
	agents := []*agentProc{startAgent(t, &viaProxy, "f1", nil), startAgent(t, &viaProxy, "f2", nil)}

	v := waitJob(t, m, id, "finished", 90*time.Second, func(v agent.JobView) bool {
		return v.State == "done" || v.State == "failed"
	})
	for _, p := range []*faultproxy.Proxy{dp, mp} {
		if err := p.SetRates(faultproxy.Rates{}); err != nil {
			t.Fatal(err)
		}
	}
	ds, ms := dp.Stats(), mp.Stats()
	t.Logf("job: state %s, %d objects, %d copied, %d unchanged, %d failed, ranges %d done of %d",
		v.State, v.Objects, v.Copied, v.Unchanged, v.Failed, v.RangesDone, v.RangesTotal)
	t.Logf("destination proxy: %s", describeStats(ds))
	t.Logf("master proxy:      %s", describeStats(ms))
	if v.State != "done" || v.Failed != 0 || v.Objects != int64(len(want)) {
		for _, a := range agents {
			log, _ := os.ReadFile(a.log)
			t.Logf("agent %s log: %s", a.name, tail(string(log), 3000))
		}
		t.Fatalf("job ended %s with %d objects, %d failed; want done, %d objects, 0 failed", v.State, v.Objects, v.Failed, len(want))
	}
	compareSums(t, "MinIO after two agents through a faulty network", want, readBackS3(t, mi.Client(), "dst", "agents/"))
	if up := openUploadsS3(t, mi.Client(), "dst"); len(up) != 0 {
		t.Fatalf("multipart uploads left open: %v", up)
	}
	byAgent := map[string]int{}
	for _, r := range v.Ranges {
		byAgent[r.Agent]++
	}
	if len(byAgent) < 2 {
		t.Errorf("ranges finished per agent %v: want both agents to have copied", byAgent)
	}
	if ds.Resets == 0 || ds.Cuts == 0 {
		t.Errorf("the destination proxy fired %d resets, %d cuts: want some of each", ds.Resets, ds.Cuts)
	}
	if ms.Resets+ms.Cuts == 0 {
		t.Errorf("no request to the master was broken: the agents' way to it was not exercised")
	}
}
