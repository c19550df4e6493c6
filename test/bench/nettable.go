package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-project/ferry/internal/units"
)

// reqPerObject is the median run's requests per object, or 0 when not
// counted.
func (r row) reqPerObject(m result) float64 {
	if m.requests < 0 || r.objects == 0 {
		return 0
	}
	return float64(m.requests) / float64(r.objects)
}

// limit is the row's ceiling and the median run's share of it: for small
// objects over a latency, in-flight / (requests per object × RTT)
// objects/s; for large objects under a cap, the cap in MB/s, else the
// ingest limit over the same network (ingest MB/s, 0 when unknown). ok
// is false when the row has none.
func (r row) limit(m result, ingest float64) (limit string, share float64, ok bool) {
	p := r.net.profile
	switch {
	case r.byBytes() && r.tool == ingestTool:
		return "", 0, false
	case r.byBytes() && p.cap == 0 && ingest > 0:
		return fmt.Sprintf("%.1f MB/s (ingest)", ingest), r.mbPerSec(m) / ingest, true
	case r.byBytes() && p.cap > 0:
		capMB := float64(p.cap) / 1e6
		return fmt.Sprintf("%.1f MB/s (cap)", capMB), r.mbPerSec(m) / capMB, true
	case !r.byBytes() && p.rtt > 0 && r.reqPerObject(m) > 0:
		l := float64(r.net.inflight) / (r.reqPerObject(m) * p.rtt.Seconds())
		return fmt.Sprintf("%.0f obj/s (%d / (%.2f × %s))", l, r.net.inflight, r.reqPerObject(m), p.rtt), r.objPerSec(m) / l, true
	}
	return "", 0, false
}

// cpuPer renders the client's CPU time per 1,000 objects or per GiB.
func cpuPer(d time.Duration, per float64) string {
	if d < 0 || per <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", d.Seconds()/per)
}

// printNetTable writes the table of the rows taken through Toxiproxy.
func printNetTable(w io.Writer, rows []row, c config) {
	runs := fmt.Sprintf("median of %d runs", c.runs)
	if c.runs == 1 {
		runs = "one run per row"
	}
	fmt.Fprintf(w, "\nFerry over a network — %s; MinIO behind Toxiproxy (source and destination sides) and a request counter\n\n", runs)
	ingest := map[string]float64{} // workload → the ingest row's MB/s
	for _, r := range rows {
		if m, ok := r.median(); ok && r.tool == ingestTool {
			ingest[r.workload] = r.mbPerSec(m)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tTOOL\tIN FLIGHT\tTIME\tOBJECTS/S\tMB/S\tREQ/OBJ\tCPU/1000 OBJ\tCPU/GiB\tPEAK RSS\tLIMIT\tSHARE\tNOTE")
	for _, r := range rows {
		m, ok := r.median()
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", r.workload, r.tool, r.net.inflight, r.notes())
			continue
		}
		rss := "-"
		if m.rss > 0 {
			rss = units.Bytes(m.rss)
		}
		req := "-"
		if rpo := r.reqPerObject(m); rpo > 0 {
			req = fmt.Sprintf("%.3f", rpo)
		}
		lim, share := "-", "-"
		if l, sh, ok := r.limit(m, ingest[r.workload]); ok {
			lim, share = l, fmt.Sprintf("%.0f%%", sh*100)
		}
		inflight := fmt.Sprint(r.net.inflight)
		if r.byBytes() {
			inflight = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.workload, r.tool, inflight,
			m.elapsed.Round(10*time.Millisecond), r.objPerSec(m), r.mbPerSec(m), req,
			cpuPer(m.clientCPU, float64(r.objects)/1000), cpuPer(m.clientCPU, float64(r.bytes)/(1<<30)),
			rss, lim, share, r.notes())
	}
	tw.Flush()
	fmt.Fprintln(w, "\n"+strings.TrimSpace(`
Each tool talks to MinIO through Toxiproxy (half the RTT added each way) and a counting reverse
proxy behind it, which under a cap holds all connections together to the cap each way
(Toxiproxy's bandwidth toxic limits each connection, not the link). REQ/OBJ = every request both
sides received during the run (listing pages, bucket checks and multipart calls included) ÷
objects. CPU = the tool's own user + system time. LIMIT for small objects = in-flight ÷ (REQ/OBJ
× RTT): what that many requests in flight can do at that RTT; for large objects, the cap, else
the ingest limit row: the same bytes uploaded from memory over the same network with -workers in
flight through Ferry's own S3 Sink (one PUT per object, so one stream; a multipart copy can pass
it). SHARE = the row's rate ÷ its limit.`))
}
