package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// pageSize is the rows of one page of every list.
const pageSize = 50

// progress is a job's completion in percent: its finished ranges (migrate)
// or finished tasks (fetch); 100 once a migrate job's run is over.
func progress(j agent.JobView) float64 {
	if j.Fetch != nil {
		var all, fin int
		for s, n := range j.Fetch.Tasks {
			all += n
			if s == "done" || s == "failed" {
				fin += n
			}
		}
		if all == 0 {
			return 0
		}
		return 100 * float64(fin) / float64(all)
	}
	switch {
	case j.State == "done" || j.State == "failed" && j.RangesPending+j.RangesLeased == 0:
		return 100
	case j.RangesTotal == 0:
		return 0
	}
	return 100 * float64(j.RangesDone+j.RangesFailed) / float64(j.RangesTotal)
}

// pager is one page of a list.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string // query strings of the neighbours, "" at the ends
}

// paginate cuts n rows into pages of size and returns the bounds of the
// page q asks for ("page" parameter, from 1).
func paginate(q map[string][]string, param string, n, size int) (lo, hi int, p pager) {
	p.Total = n
	p.Pages = max(1, (n+size-1)/size)
	p.Page, _ = strconv.Atoi(first(q[param]))
	p.Page = min(max(p.Page, 1), p.Pages)
	link := func(page int) string {
		v := map[string][]string{}
		for k, vs := range q {
			v[k] = vs
		}
		v[param] = []string{strconv.Itoa(page)}
		return "?" + encodeQuery(v)
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	lo = (p.Page - 1) * size
	return lo, min(lo+size, n), p
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// overview is the Overview page.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, ss *session) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	jobs, err := cl.Jobs(r.Context())
	if err != nil {
		return err
	}
	agents, err := cl.Agents(r.Context())
	if err != nil {
		return err
	}
	c.render(w, http.StatusOK, ss, "overview", "Overview", "overview", c.overviewData(jobs, agents))
	return nil
}

// overviewData sums the jobs and agents for the Overview.
func (c *Console) overviewData(jobs []agent.JobView, agents []agent.AgentView) map[string]any {
	states := map[string]int{}
	var objects, bytes, pending, inflight int64
	for _, j := range jobs {
		states[j.State]++
		objects += j.Copied + j.Unchanged
		bytes += j.Bytes
		if j.Fetch != nil {
			pending += int64(j.Fetch.Tasks["pending"])
			inflight += int64(j.Fetch.Tasks["leased"] + j.Fetch.Tasks["running"])
		}
	}
	var stateList []map[string]any
	for _, s := range []string{"running", "pending", "paused", "idle", "done", "failed", "canceled"} {
		if states[s] > 0 {
			stateList = append(stateList, map[string]any{"State": s, "N": states[s]})
		}
	}
	online := 0
	for _, a := range agents {
		if c.agentState(a) == "online" {
			online++
		}
	}
	p := pointOf(c.cfg.Now(), jobs)
	pts := c.history.points()
	chart, _ := json.Marshal(chartOf(pts))
	return map[string]any{
		"Jobs": len(jobs), "States": stateList, "Objects": objects, "Bytes": bytes,
		"Rate": p.RateBytes, "Agents": len(agents), "Online": online,
		"FailedHour":   c.history.failedSince(c.cfg.Now().Add(-time.Hour), p.Failed),
		"FetchPending": pending, "FetchInFlight": inflight, "Chart": string(chart),
	}
}

// jobsPage is the Jobs page: every type, filtered by state, type and a
// search of ID, source and destination, newest first, a page at a time.
func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	jobs, err := cl.Jobs(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state, typ, search := q.Get("state"), q.Get("type"), strings.ToLower(strings.TrimSpace(q.Get("q")))
	var rows []agent.JobView
	for _, j := range slices.Backward(jobs) {
		if (state == "" || j.State == state) && (typ == "" || j.Type == typ) &&
			(search == "" || strings.Contains(strings.ToLower(j.ID+" "+j.Source+" "+j.Dest), search)) {
			rows = append(rows, j)
		}
	}
	lo, hi, pg := paginate(q, "page", len(rows), pageSize)
	var out []map[string]any
	for _, j := range rows[lo:hi] {
		out = append(out, map[string]any{"J": j, "Pct": progress(j)})
	}
	c.render(w, http.StatusOK, ss, "jobs", "Jobs", "jobs", map[string]any{
		"Rows": out, "Pager": pg, "State": state, "Type": typ, "Q": q.Get("q"), "Any": len(jobs) > 0,
		"States": []string{"pending", "running", "paused", "idle", "done", "failed", "canceled"},
	})
	return nil
}

// jobPage is one job: header, options, live progress, ranges, runs and a
// page of failed objects.
func (c *Console) jobPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	j, err := cl.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rlo, rhi, rpg := paginate(q, "rpage", len(j.Ranges), pageSize)
	data := map[string]any{"J": j, "Pct": progress(j), "Ranges": j.Ranges[rlo:rhi], "RangePager": rpg}
	if j.Fetch == nil && j.Failed > 0 {
		after := q.Get("fafter")
		failed, more, err := c.failedPage(r, cl, j.ID, after, pageSize)
		if err != nil {
			return err
		}
		fp := pager{}
		if after != "" {
			fp.Prev = "?" + encodeQuery(without(q, "fafter")) // back to the first page
		}
		if more {
			v := without(q, "fafter")
			v["fafter"] = []string{failed[len(failed)-1].Path}
			fp.Next = "?" + encodeQuery(v)
		}
		data["Failed"], data["FailedPager"], data["FailedFirst"] = failed, fp, after == ""
	}
	if j.Schedule != "" {
		data["NextRuns"] = nextRuns(j.Schedule, c.cfg.Now(), 3)
	}
	c.render(w, http.StatusOK, ss, "job", "Job "+j.ID, "jobs", data)
	return nil
}

// without copies q without the key k.
func without(q map[string][]string, k string) map[string][]string {
	v := map[string][]string{}
	for kk, vs := range q {
		if kk != k {
			v[kk] = vs
		}
	}
	return v
}

// failedPage reads the first n failed objects after the path after from
// the API's stream, and whether more follow; it stops reading there, so a
// page costs the same at the start and the end of a million.
func (c *Console) failedPage(r *http.Request, cl *agent.Client, id, after string, n int) ([]agent.FailureView, bool, error) {
	pr, pw := pipe()
	done := make(chan error, 1)
	go func() {
		err := cl.FailedAfter(r.Context(), id, after, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	defer func() { pr.Close(); <-done }()
	dec := json.NewDecoder(pr)
	if _, err := dec.Token(); err != nil {
		return nil, false, fmt.Errorf("read failed objects: %w", err)
	}
	var out []agent.FailureView
	for dec.More() {
		if len(out) == n {
			return out, true, nil
		}
		var f agent.FailureView
		if err := dec.Decode(&f); err != nil {
			return nil, false, fmt.Errorf("read failed objects: %w", err)
		}
		out = append(out, f)
	}
	return out, false, nil
}

// agentState is "online", or "lost" for an agent not heard from for
// longer than the lease TTL (its ranges go back to the pool).
func (c *Console) agentState(a agent.AgentView) string {
	if c.cfg.Now().Sub(a.LastSeen) > c.cfg.LeaseTTL {
		return "lost"
	}
	return "online"
}

// agentsPage lists the agents.
func (c *Console) agentsPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	agents, err := cl.Agents(r.Context())
	if err != nil {
		return err
	}
	slices.SortFunc(agents, func(a, b agent.AgentView) int { return cmp.Compare(a.Name, b.Name) })
	lo, hi, pg := paginate(r.URL.Query(), "page", len(agents), pageSize)
	var rows []map[string]any
	for _, a := range agents[lo:hi] {
		rows = append(rows, map[string]any{"A": a, "State": c.agentState(a), "Ago": c.cfg.Now().Sub(a.LastSeen).Round(time.Second).String()})
	}
	c.render(w, http.StatusOK, ss, "agents", "Agents", "agents", map[string]any{"Rows": rows, "Pager": pg, "TTL": c.cfg.LeaseTTL.String()})
	return nil
}

// fetchPage lists the fetch jobs with their keys and task counts.
func (c *Console) fetchPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	jobs, err := cl.Jobs(r.Context())
	if err != nil {
		return err
	}
	var rows []agent.JobView
	for _, j := range slices.Backward(jobs) {
		if j.Type == agent.TypeFetch {
			rows = append(rows, j)
		}
	}
	lo, hi, pg := paginate(r.URL.Query(), "page", len(rows), pageSize)
	c.render(w, http.StatusOK, ss, "fetch", "Fetch", "fetch", map[string]any{"Rows": rows[lo:hi], "Pager": pg})
	return nil
}

// nextRuns are the next n runs of a schedule after t, or nil if invalid.
func nextRuns(schedule string, t time.Time, n int) []time.Time {
	s, err := agent.ParseSchedule(schedule)
	if err != nil {
		return nil
	}
	var out []time.Time
	for range n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// schedulePreview answers the new-job form's schedule check as JSON: the
// next three runs, or why the schedule is invalid.
func (c *Console) schedulePreview(w http.ResponseWriter, r *http.Request, ss *session) error {
	out := map[string]any{}
	if s := strings.TrimSpace(r.URL.Query().Get("s")); s != "" {
		if _, err := agent.ParseSchedule(s); err != nil {
			out["error"] = err.Error()
		} else {
			var runs []string
			for _, t := range nextRuns(s, c.cfg.Now(), 3) {
				runs = append(runs, when(t))
			}
			out["runs"] = runs
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}
