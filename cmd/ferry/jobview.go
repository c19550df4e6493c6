package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// jobSource is what the SOURCE column of `ferry job list` shows for a job
// that is not a migration: where its objects come from.
func jobSource(v agent.JobView) string {
	if v.Type == agent.TypeFetch {
		return "URLs posted to /fetch/"
	}
	return "-"
}

// showOtherJob prints `ferry job show` of a job that is not a migration:
// a fetch job's state, destination, settings, tasks by state and
// callbacks by state.
func showOtherJob(w io.Writer, v agent.JobView) error {
	fmt.Fprintf(w, "job %s: %s (%s)\n  destination  %s\n", v.ID, v.State, v.Type, v.Dest)
	fmt.Fprintf(w, "  created      %s\n", v.CreatedAt.Local().Format(time.RFC3339))
	f := v.Fetch
	if f == nil {
		return nil
	}
	buckets := "the destination's"
	if len(f.AllowedBuckets) > 0 {
		buckets = strings.Join(f.AllowedBuckets, ", ")
	}
	fmt.Fprintf(w, "  buckets      %s\n  keys         %s\n", buckets, strings.Join(f.PublicKeys, ", "))
	total := 0
	for _, n := range f.Tasks {
		total += n
	}
	fmt.Fprintf(w, "  tasks        %d (%s)\n", total, counts(f.Tasks, "pending", "leased", "running", "done", "failed"))
	fmt.Fprintf(w, "  callbacks    %s\n", counts(f.Callbacks, "pending", "delivered", "failed", "none"))
	return nil
}

// counts renders "3 pending, 1 done": the states of order first (even at
// 0), then any other state the master reported, in name order.
func counts(m map[string]int, order ...string) string {
	var parts []string
	for _, s := range order {
		parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
	}
	for _, s := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(order, s) {
			parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
		}
	}
	return strings.Join(parts, ", ")
}
