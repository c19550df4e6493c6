package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// masterBusy is the summed time the master spent answering requests.
func masterBusy(m *Master) (time.Duration, uint64) {
	m.stats.mu.Lock()
	defer m.stats.mu.Unlock()
	var sum float64
	var n uint64
	for _, h := range m.stats.routes {
		sum += h.sum
		n += h.n
	}
	return time.Duration(sum * float64(time.Second)), n
}

// BenchmarkMaster_Report measures what a heartbeat costs the master with 50
// simulated agents reporting as fast as they can, each on its own lease:
// the p99 latency an agent sees over loopback HTTP, the time a report spends
// in the handler (including its wait for the single SQLite writer), the
// process CPU per report (master and the simulated agents together: an
// upper bound for the master), the reports per second the master sustains,
// and the share of that capacity 50 agents at the default 2 s heartbeat use.
func BenchmarkMaster_Report(b *testing.B) {
	const agents = 50
	tm := startMaster(b, func(c *MasterConfig) { c.LeaseTTL = time.Minute })
	ranges := make([]catalog.RangeSpec, agents)
	for i := range ranges {
		ranges[i] = catalog.RangeSpec{Start: fmt.Sprintf("k%03d", i), End: fmt.Sprintf("k%03d", i+1)}
	}
	ranges[0].Start, ranges[agents-1].End = "", ""
	ctx := context.Background()
	if err := tm.db.CreateJob(ctx, catalog.NewJob{ID: "bench", Source: "/src", Dest: "/dst", Ranges: ranges}, time.Now()); err != nil {
		b.Fatal(err)
	}
	leases := make([]LeaseView, agents)
	for i := range leases {
		l, ok, err := tm.cluster.Lease(ctx, fmt.Sprintf("sim%02d", i))
		if err != nil || !ok {
			b.Fatalf("lease %d: %v %v", i, ok, err)
		}
		leases[i] = l
	}
	busy0, n0 := masterBusy(tm.m)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var next atomic.Int64
	lat := make([][]time.Duration, agents)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < agents; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := leases[i]
			for k := int64(1); next.Add(1) <= int64(b.N); k++ {
				req := ReportRequest{Agent: fmt.Sprintf("sim%02d", i), JobID: l.JobID, RangeID: l.RangeID,
					Cursor: fmt.Sprintf("%s/%08d", l.Start, k), Copied: k * 100, Bytes: k << 20}
				if k%10 == 0 {
					req.Failures = []FailureView{{Path: fmt.Sprintf("%s/%08d", l.Start, k), Error: "403"}}
				}
				t0 := time.Now()
				if _, err := tm.cluster.SendReport(ctx, l.ID, req); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	b.StopTimer()
	busy1, n1 := masterBusy(tm.m)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) == 0 {
		return
	}
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	rate := float64(len(all)) / wall.Seconds()
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(busy1-busy0)/float64(max(n1-n0, 1))/1e3, "handler-µs/report")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-µs/report")
	b.ReportMetric(rate, "reports/s")
	// 50 agents reporting every 2 s send 25 reports/s: this is the share of
	// the master's capacity they use.
	b.ReportMetric(25/rate*100, "capacity-%-at-50-agents")
}

// BenchmarkAgents_Throughput copies 4,000 small files between local
// directories with 1, 2 and 4 in-process agents and reports objects/s,
// MB/s and how busy the master was: the summed time its handlers ran
// (waits for its SQLite writer included) over the wall time, an upper
// bound of its share. Everything shares one machine's cores here.
func BenchmarkAgents_Throughput(b *testing.B) {
	src := b.TempDir()
	files := makeFiles(b, src, 20, 4000, "bench")
	var size int64
	for _, v := range files {
		size += int64(len(v))
	}
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			tm := startMaster(b, func(c *MasterConfig) { c.Plan.Ranges = 64 })
			for i := 0; i < n; i++ {
				runAgent(b, tm, fmt.Sprintf("a%d", i), 8)
			}
			busy0, _ := masterBusy(tm.m)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				id := createJob(b, tm.admin, JobSpec{Source: src, Dest: filepath.Join(b.TempDir(), "dst")})
				waitJob(b, tm.admin, id, "done", isState("done"))
			}
			wall := time.Since(start)
			b.StopTimer()
			busy1, _ := masterBusy(tm.m)
			b.ReportMetric(float64(len(files)*b.N)/wall.Seconds(), "objects/s")
			b.ReportMetric(float64(size*int64(b.N))/wall.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(busy1-busy0)/float64(wall)*100, "master-busy-%")
		})
	}
}
