package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-project/ferry/internal/units"
)

// noteMax bounds an error message in the table (stderr has all of it).
const noteMax = 100

// row is one table line: a contender's runs.
type row struct {
	workload, tool string
	objects        int
	bytes          int64
	runs           int      // runs asked for
	ok             []result // successful runs, fastest first
	failed         []result
	note           string // why the row did not run, when it did not
	net            *netInfo
}

// summarize builds c's row from its results.
func summarize(c *contender, rs []result, runs int) row {
	r := row{workload: c.workload, tool: c.tool, objects: c.objects, bytes: c.bytes, runs: runs, note: c.skip, net: c.net}
	for _, res := range rs {
		if res.err != nil {
			r.failed = append(r.failed, res)
		} else {
			r.ok = append(r.ok, res)
		}
	}
	slices.SortFunc(r.ok, func(a, b result) int { return cmp.Compare(a.elapsed, b.elapsed) })
	return r
}

// median is the median successful run (of an even count, the slower of
// the two middle ones); ok reports whether any run succeeded.
func (r row) median() (result, bool) {
	if len(r.ok) == 0 {
		return result{}, false
	}
	return r.ok[len(r.ok)/2], true
}

func (r row) objPerSec(res result) float64 {
	return float64(r.objects) / max(res.elapsed.Seconds(), 1e-9)
}

func (r row) mbPerSec(res result) float64 {
	return float64(r.bytes) / 1e6 / max(res.elapsed.Seconds(), 1e-9)
}

// byBytes reports whether the row's rate is best read in MB/s (objects of
// 1 MiB or more) rather than objects/s.
func (r row) byBytes() bool { return r.objects > 0 && r.bytes/int64(r.objects) >= 1<<20 }

// spread renders the min–max rate over the successful runs, in MB/s or
// objects/s (see byBytes), or "-" with fewer than two.
func (r row) spread() string {
	if len(r.ok) < 2 {
		return "-"
	}
	fast, slow := r.ok[0], r.ok[len(r.ok)-1]
	if r.byBytes() {
		return fmt.Sprintf("%.1f–%.1f MB/s", r.mbPerSec(slow), r.mbPerSec(fast))
	}
	return fmt.Sprintf("%.0f–%.0f obj/s", r.objPerSec(slow), r.objPerSec(fast))
}

// cpuPerObject renders the servers' CPU per object of run res.
func (r row) cpuPerObject(res result) string { return perObject(res.serverCPU, r.objects) }

// perObject renders CPU time d divided by n objects in µs, ms or s, or
// "-" when d is unknown (negative) or n is 0.
func perObject(d time.Duration, n int) string {
	if d < 0 || n == 0 {
		return "-"
	}
	us := float64(d.Microseconds()) / float64(n)
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 1e6:
		return fmt.Sprintf("%.1f ms", us/1e3)
	default:
		return fmt.Sprintf("%.2f s", us/1e6)
	}
}

// notes renders what the reader must know beside the numbers: failures,
// runs that started on a busy machine, why a row did not run.
func (r row) notes() string {
	var n []string
	if r.note != "" {
		n = append(n, r.note)
	}
	if len(r.failed) > 0 {
		f := r.failed[0]
		msg, _, _ := strings.Cut(f.err.Error(), "\n")
		if f.timedOut > 0 {
			msg = "timed out after " + f.timedOut.String()
		}
		if rs := []rune(msg); len(rs) > noteMax {
			msg = string(rs[:noteMax-1]) + "…"
		}
		n = append(n, fmt.Sprintf("error in %d of %d runs: %s (details on stderr)", len(r.failed), r.runs, msg))
	}
	busy := 0
	for _, res := range append(slices.Clone(r.ok), r.failed...) {
		if res.busy > 0 {
			busy++
		}
	}
	if busy > 0 {
		n = append(n, fmt.Sprintf("%d of %d runs started on a busy machine", busy, r.runs))
	}
	return strings.Join(n, "; ")
}

// printTable writes the table of rows.
func printTable(w io.Writer, rows []row, c config) {
	where := "on the work directory's disk"
	if c.serverDir != "" {
		where = "with their data on " + c.serverDir
	}
	runs := fmt.Sprintf("median of %d runs (RANGE: slowest–fastest run)", c.runs)
	if c.runs == 1 {
		runs = "one run per row"
	}
	fmt.Fprintf(w, "\nFerry benchmark — %s; %d workers for every tool; MinIO and us3emu on 127.0.0.1 %s\n\n",
		runs, c.workers, where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tTOOL\tTIME\tOBJECTS/S\tMB/S\tRANGE\tPEAK RSS\tSERVERS CPU/OBJ\tNOTE")
	for _, r := range rows {
		m, ok := r.median()
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n", r.workload, r.tool, r.notes())
			continue
		}
		rss := "-"
		if m.rss > 0 {
			rss = units.Bytes(m.rss)
		}
		mbs := "-"
		if r.bytes > 0 {
			mbs = fmt.Sprintf("%.1f", r.mbPerSec(m))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\n", r.workload, r.tool, m.elapsed.Round(10*time.Millisecond),
			r.objPerSec(m), mbs, r.spread(), rss, r.cpuPerObject(m), r.notes())
	}
	tw.Flush()
	fmt.Fprintln(w, "\n"+strings.TrimSpace(`
ingest limit = the same bytes uploaded straight from memory with the same concurrency through
Ferry's own Sink (no source reads, no catalog): what the destination accepts on this machine.
copy limit = the same objects read with one GET each into memory and written with one PUT,
with the same concurrency, through Ferry's drivers (no walk, catalog, hashing or verification):
what the servers serve and accept for that copy on this machine.
SERVERS CPU/OBJ = CPU time (user + system) of the servers the run talks to (MinIO, us3emu, Azurite, or
both for S3 → US3) during the median run, divided by its objects. Every run writes fresh keys;
they are deleted, untimed, after it.`))
}
