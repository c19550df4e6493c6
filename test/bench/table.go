package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one measured run.
type row struct {
	workload, tool string
	objects        int
	bytes          int64
	elapsed        time.Duration
	rss            int64
	note           string
}

func newRow(workload, tool string, n int, bytes int64, el time.Duration, rss int64) row {
	return row{workload: workload, tool: tool, objects: n, bytes: bytes, elapsed: el, rss: rss}
}

func (r row) objPerSec() float64 { return float64(r.objects) / max(r.elapsed.Seconds(), 1e-9) }
func (r row) mbPerSec() float64  { return float64(r.bytes) / 1e6 / max(r.elapsed.Seconds(), 1e-9) }

func (r row) String() string {
	if r.elapsed == 0 {
		return fmt.Sprintf("%s | %s | %s", r.workload, r.tool, r.note)
	}
	return fmt.Sprintf("%s | %s | %.0f obj/s | %.1f MB/s | RSS %s %s", r.workload, r.tool, r.objPerSec(), r.mbPerSec(), human(r.rss), r.note)
}

func printTable(w io.Writer, rows []row, c config) {
	where := "on the work directory's disk"
	if c.serverDir != "" {
		where = "with their data on " + c.serverDir
	}
	fmt.Fprintf(w, "\nFerry benchmark — %d workers for every tool; MinIO and us3emu on 127.0.0.1 %s\n\n", c.workers, where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tTOOL\tTIME\tOBJECTS/S\tMB/S\tPEAK RSS\tNOTE")
	for _, r := range rows {
		if r.elapsed == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t%s\n", r.workload, r.tool, r.note)
			continue
		}
		rss := "-"
		if r.rss > 0 {
			rss = human(r.rss)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.1f\t%s\t%s\n", r.workload, r.tool, r.elapsed.Round(10*time.Millisecond), r.objPerSec(), r.mbPerSec(), rss, r.note)
	}
	tw.Flush()
	fmt.Fprintln(w, "\n"+strings.TrimSpace(`
ingest limit = the same bytes uploaded straight from memory with the same concurrency through
Ferry's own Sink (no source reads, no catalog): what the destination accepts on this machine.`))
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
