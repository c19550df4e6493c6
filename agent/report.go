package agent

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// failedList handles GET /api/v1/jobs/{id}/failed?format=json|csv: the
// current run's failed objects in path order, streamed; with after=PATH,
// those after that path (a reader that stops early reads a page).
func (m *Master) failedList(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after := r.URL.Query().Get("after")
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return errStatus(http.StatusBadRequest, "format must be json or csv, not %q", format)
	}
	if _, err := m.getJob(r.Context(), id); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(bw)
		cw.Write([]string{"path", "size", "error", "range", "agent", "at"})
		err := m.db.FailedAfter(r.Context(), id, after, func(f catalog.FailedObject) error {
			return cw.Write([]string{f.Path, strconv.FormatInt(f.Size, 10), f.Error, strconv.Itoa(f.RangeID), f.Agent, f.At.UTC().Format(time.RFC3339)})
		})
		cw.Flush()
		return streamErr(err)
	}
	w.Header().Set("Content-Type", "application/json")
	bw.WriteString("[")
	first := true
	err := m.db.FailedAfter(r.Context(), id, after, func(f catalog.FailedObject) error {
		b, err := json.Marshal(FailureView{Path: f.Path, Size: f.Size, Error: f.Error, RangeID: f.RangeID, Agent: f.Agent, At: f.At.UTC()})
		if err != nil {
			return err
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		bw.WriteString("\n  ")
		_, err = bw.Write(b)
		return err
	})
	bw.WriteString("\n]\n")
	return streamErr(err)
}

// streamErr logs nothing and answers nothing more: once a streamed body has
// started, an error can only cut it short.
func streamErr(err error) error {
	if err != nil {
		return fmt.Errorf("stream failed objects: %w", err)
	}
	return nil
}

// jobReport handles GET /api/v1/jobs/{id}/report?format=csv|md|html: the
// job, its finished runs, every range with its outcome and duration, and
// every failed object with its error.
func (m *Master) jobReport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	format := r.URL.Query().Get("format")
	var rw reportWriter
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		rw = &csvReport{}
	case "md", "markdown", "":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		rw = &mdReport{}
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw = &htmlReport{}
	default:
		return errStatus(http.StatusBadRequest, "format must be csv, md or html, not %q", format)
	}
	v, err := m.fullJobView(r.Context(), id)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	rw.begin(bw, v)
	for _, rg := range v.Ranges {
		rw.rangeRow(rg)
	}
	rw.failedHeader()
	err = m.db.Failed(r.Context(), id, func(f catalog.FailedObject) error {
		rw.failedRow(f)
		return nil
	})
	rw.end()
	return streamErr(err)
}

// reportWriter renders a report section by section.
type reportWriter interface {
	begin(w *bufio.Writer, v JobView)
	rangeRow(r RangeView)
	failedHeader()
	failedRow(f catalog.FailedObject)
	end()
}

var (
	_ reportWriter = (*csvReport)(nil)
	_ reportWriter = (*mdReport)(nil)
	_ reportWriter = (*htmlReport)(nil)
)

// rangeCells are a range's report columns.
func rangeCells(r RangeView) []string {
	return []string{strconv.Itoa(r.ID), r.Start, r.End, r.State, r.Agent, strconv.Itoa(r.Leases),
		strconv.FormatInt(r.Copied, 10), strconv.FormatInt(r.Unchanged, 10), strconv.FormatInt(r.Failed, 10),
		strconv.FormatInt(r.Bytes, 10), strconv.FormatFloat(r.Seconds, 'f', 1, 64), r.LastError}
}

var rangeHeader = []string{"range", "start", "end", "state", "agent", "leases", "copied", "unchanged", "failed", "bytes", "seconds", "error"}

func jobSummary(v JobView) [][2]string {
	dur := ""
	if v.StartedAt != nil {
		end := time.Now()
		if v.FinishedAt != nil {
			end = *v.FinishedAt
		}
		dur = end.Sub(*v.StartedAt).Round(time.Second).String()
	}
	fmtT := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	return [][2]string{
		{"job", v.ID}, {"source", v.Source}, {"destination", v.Dest}, {"state", v.State},
		{"run", strconv.Itoa(v.Run)}, {"schedule", v.Schedule}, {"copied", strconv.FormatInt(v.Copied, 10)},
		{"unchanged", strconv.FormatInt(v.Unchanged, 10)}, {"failed", strconv.FormatInt(v.Failed, 10)},
		{"bytes", strconv.FormatInt(v.Bytes, 10)}, {"started", fmtT(v.StartedAt)},
		{"finished", fmtT(v.FinishedAt)}, {"duration", dur}, {"error", v.Error},
	}
}

// csvReport is one CSV table: a "kind" column says what each row is (job,
// run, range, failed); the other columns follow the range layout.
type csvReport struct{ cw *csv.Writer }

func (c *csvReport) begin(w *bufio.Writer, v JobView) {
	c.cw = csv.NewWriter(w)
	c.cw.Write(append([]string{"kind"}, rangeHeader...))
	c.cw.Write([]string{"job", v.ID, v.Source, v.Dest, v.State, "", strconv.Itoa(v.Run), strconv.FormatInt(v.Copied, 10),
		strconv.FormatInt(v.Unchanged, 10), strconv.FormatInt(v.Failed, 10), strconv.FormatInt(v.Bytes, 10), "", v.Error})
	for _, r := range v.Runs {
		c.cw.Write([]string{"run", strconv.Itoa(r.Run), r.StartedAt.Format(time.RFC3339), r.FinishedAt.Format(time.RFC3339),
			r.State, "", "", strconv.FormatInt(r.Copied, 10), strconv.FormatInt(r.Unchanged, 10), strconv.FormatInt(r.Failed, 10),
			strconv.FormatInt(r.Bytes, 10), strconv.FormatFloat(r.FinishedAt.Sub(r.StartedAt).Seconds(), 'f', 1, 64), ""})
	}
}
func (c *csvReport) rangeRow(r RangeView) { c.cw.Write(append([]string{"range"}, rangeCells(r)...)) }
func (c *csvReport) failedHeader()        {}
func (c *csvReport) failedRow(f catalog.FailedObject) {
	c.cw.Write([]string{"failed", strconv.Itoa(f.RangeID), f.Path, "", "failed", f.Agent, "", "", "1", strconv.FormatInt(f.Size, 10), "", f.Error})
}
func (c *csvReport) end() { c.cw.Flush() }

// mdReport is a Markdown document.
type mdReport struct {
	w      *bufio.Writer
	failed int
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func (m *mdReport) row(cells []string) {
	for i := range cells {
		cells[i] = mdCell(cells[i])
	}
	fmt.Fprintf(m.w, "| %s |\n", strings.Join(cells, " | "))
}

func (m *mdReport) begin(w *bufio.Writer, v JobView) {
	m.w = w
	fmt.Fprintf(w, "# Ferry job %s\n\n| | |\n|---|---|\n", mdCell(v.ID))
	for _, kv := range jobSummary(v) {
		m.row([]string{kv[0], kv[1]})
	}
	if len(v.Runs) > 0 {
		fmt.Fprint(w, "\n## Runs\n\n| run | state | started | finished | copied | unchanged | failed | bytes |\n|---|---|---|---|---|---|---|---|\n")
		for _, r := range v.Runs {
			m.row([]string{strconv.Itoa(r.Run), r.State, r.StartedAt.Format(time.RFC3339), r.FinishedAt.Format(time.RFC3339),
				strconv.FormatInt(r.Copied, 10), strconv.FormatInt(r.Unchanged, 10), strconv.FormatInt(r.Failed, 10), strconv.FormatInt(r.Bytes, 10)})
		}
	}
	fmt.Fprintf(w, "\n## Ranges\n\n| %s |\n|%s\n", strings.Join(rangeHeader, " | "), strings.Repeat("---|", len(rangeHeader)))
}
func (m *mdReport) rangeRow(r RangeView) { m.row(rangeCells(r)) }
func (m *mdReport) failedHeader() {
	fmt.Fprint(m.w, "\n## Failed objects\n\n| path | size | error | range | agent |\n|---|---|---|---|---|\n")
}
func (m *mdReport) failedRow(f catalog.FailedObject) {
	m.failed++
	m.row([]string{f.Path, strconv.FormatInt(f.Size, 10), f.Error, strconv.Itoa(f.RangeID), f.Agent})
}
func (m *mdReport) end() {
	if m.failed == 0 {
		fmt.Fprint(m.w, "| (none) | | | | |\n")
	}
}

// htmlReport is a self-contained HTML page; every value is escaped.
type htmlReport struct{ w *bufio.Writer }

func (h *htmlReport) row(tag string, cells []string) {
	h.w.WriteString("<tr>")
	for _, c := range cells {
		fmt.Fprintf(h.w, "<%s>%s</%s>", tag, html.EscapeString(c), tag)
	}
	h.w.WriteString("</tr>\n")
}

func (h *htmlReport) begin(w *bufio.Writer, v JobView) {
	h.w = w
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Ferry job %s</title>\n", html.EscapeString(v.ID))
	w.WriteString("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>\n")
	fmt.Fprintf(w, "<h1>Ferry job %s</h1>\n<table>\n", html.EscapeString(v.ID))
	for _, kv := range jobSummary(v) {
		h.row("td", []string{kv[0], kv[1]})
	}
	w.WriteString("</table>\n")
	if len(v.Runs) > 0 {
		w.WriteString("<h2>Runs</h2>\n<table>\n")
		h.row("th", []string{"run", "state", "started", "finished", "copied", "unchanged", "failed", "bytes"})
		for _, r := range v.Runs {
			h.row("td", []string{strconv.Itoa(r.Run), r.State, r.StartedAt.Format(time.RFC3339), r.FinishedAt.Format(time.RFC3339),
				strconv.FormatInt(r.Copied, 10), strconv.FormatInt(r.Unchanged, 10), strconv.FormatInt(r.Failed, 10), strconv.FormatInt(r.Bytes, 10)})
		}
		w.WriteString("</table>\n")
	}
	w.WriteString("<h2>Ranges</h2>\n<table>\n")
	h.row("th", rangeHeader)
}
func (h *htmlReport) rangeRow(r RangeView) { h.row("td", rangeCells(r)) }
func (h *htmlReport) failedHeader() {
	h.w.WriteString("</table>\n<h2>Failed objects</h2>\n<table>\n")
	h.row("th", []string{"path", "size", "error", "range", "agent"})
}
func (h *htmlReport) failedRow(f catalog.FailedObject) {
	h.row("td", []string{f.Path, strconv.FormatInt(f.Size, 10), f.Error, strconv.Itoa(f.RangeID), f.Agent})
}
func (h *htmlReport) end() { h.w.WriteString("</table>\n</body></html>\n") }
