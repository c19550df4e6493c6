package agent

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// latencyBuckets are the upper bounds (seconds) of the API latency histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// apiStats is a latency histogram per route pattern.
type apiStats struct {
	mu     sync.Mutex
	routes map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newAPIStats() *apiStats { return &apiStats{routes: map[string]*histogram{}} }

// observe records one request of route taking d.
func (s *apiStats) observe(route string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.routes[route]
	if !ok {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		s.routes[route] = h
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

// write renders the histograms in Prometheus text format.
func (s *apiStats) write(w *bufio.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	routes := make([]string, 0, len(s.routes))
	for r := range s.routes {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Fprintln(w, "# HELP ferry_master_request_seconds Time the master took to answer an API request, by route.")
	fmt.Fprintln(w, "# TYPE ferry_master_request_seconds histogram")
	for _, r := range routes {
		h := s.routes[r]
		label := `route="` + escapeLabel(r) + `"`
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "ferry_master_request_seconds_bucket{%s,le=%q} %d\n", label, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "ferry_master_request_seconds_bucket{%s,le=\"+Inf\"} %d\n", label, h.n)
		fmt.Fprintf(w, "ferry_master_request_seconds_sum{%s} %g\n", label, h.sum)
		fmt.Fprintf(w, "ferry_master_request_seconds_count{%s} %d\n", label, h.n)
	}
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// metrics serves /metrics in the Prometheus text format: objects, bytes and
// failures per job and in total, jobs by state, agents, lease counters and
// API latency.
func (m *Master) metrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	jobs, err := m.db.Jobs(ctx)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	agents, err := m.db.Agents(ctx)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	counters, err := m.db.Counters(ctx)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	defer bw.Flush()

	var tot catalog.Totals
	byState := map[catalog.JobState]int{}
	gauge(bw, "ferry_job_objects", "Objects of a job's current run, by outcome.", "gauge")
	for _, j := range jobs {
		byState[j.State]++
		tot.Copied, tot.Unchanged, tot.Failed, tot.Bytes = tot.Copied+j.Copied, tot.Unchanged+j.Unchanged, tot.Failed+j.Failed, tot.Bytes+j.Bytes
		id := escapeLabel(j.ID)
		fmt.Fprintf(bw, "ferry_job_objects{job=\"%s\",outcome=\"copied\"} %d\n", id, j.Copied)
		fmt.Fprintf(bw, "ferry_job_objects{job=\"%s\",outcome=\"unchanged\"} %d\n", id, j.Unchanged)
		fmt.Fprintf(bw, "ferry_job_objects{job=\"%s\",outcome=\"failed\"} %d\n", id, j.Failed)
	}
	gauge(bw, "ferry_job_bytes", "Bytes copied in a job's current run.", "gauge")
	for _, j := range jobs {
		fmt.Fprintf(bw, "ferry_job_bytes{job=\"%s\"} %d\n", escapeLabel(j.ID), j.Bytes)
	}
	gauge(bw, "ferry_objects", "Objects of the current runs of all jobs, by outcome.", "gauge")
	fmt.Fprintf(bw, "ferry_objects{outcome=\"copied\"} %d\nferry_objects{outcome=\"unchanged\"} %d\nferry_objects{outcome=\"failed\"} %d\n",
		tot.Copied, tot.Unchanged, tot.Failed)
	gauge(bw, "ferry_bytes", "Bytes copied in the current runs of all jobs.", "gauge")
	fmt.Fprintf(bw, "ferry_bytes %d\n", tot.Bytes)
	gauge(bw, "ferry_failures", "Failed objects in the current runs of all jobs.", "gauge")
	fmt.Fprintf(bw, "ferry_failures %d\n", tot.Failed)
	gauge(bw, "ferry_jobs", "Jobs by state.", "gauge")
	for _, s := range []catalog.JobState{catalog.JobPending, catalog.JobRunning, catalog.JobPaused, catalog.JobDone, catalog.JobFailed, catalog.JobCanceled} {
		fmt.Fprintf(bw, "ferry_jobs{state=\"%s\"} %d\n", s, byState[s])
	}
	active, leasing := 0, 0
	for _, a := range agents {
		if m.active(a) {
			active++
			if a.JobID != "" {
				leasing++
			}
		}
	}
	gauge(bw, "ferry_agents_active", "Agents heard from within three lease TTLs.", "gauge")
	fmt.Fprintf(bw, "ferry_agents_active %d\n", active)
	gauge(bw, "ferry_agents_busy", "Active agents holding a lease.", "gauge")
	fmt.Fprintf(bw, "ferry_agents_busy %d\n", leasing)
	for _, c := range []struct{ name, key, help string }{
		{"ferry_lease_expiries_total", "lease_expiries", "Leases that expired and went back to the pool."},
		{"ferry_leases_granted_total", "leases_granted", "Leases handed to agents."},
		{"ferry_leases_released_total", "leases_released", "Leases given back by stopping agents and re-leased at once."},
		{"ferry_range_splits_total", "splits", "Leased ranges split for idle agents."},
		{"ferry_runs_started_total", "runs_started", "Scheduled re-runs started."},
	} {
		gauge(bw, c.name, c.help, "counter")
		fmt.Fprintf(bw, "%s %d\n", c.name, counters[c.key])
	}
	m.stats.write(bw)
}

func gauge(w *bufio.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}
