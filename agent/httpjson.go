package agent

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Body size limits: job creation may carry a file list.
const (
	maxJobBody    = 256 << 20
	maxReportBody = 64 << 20
	maxSmallBody  = 1 << 20
)

// routes registers every endpoint, then the mounted ones. Requests about
// one job reach its type (byType).
func (m *Master) routes() (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/jobs", m.admin(m.createJob))
	mux.Handle("GET /api/v1/jobs", m.admin(m.listJobs))
	mux.Handle("GET /api/v1/jobs/{id}", m.admin(m.byType("show", m.showJob)))
	mux.Handle("DELETE /api/v1/jobs/{id}", m.admin(m.byType("delete", m.deleteJob)))
	for _, action := range []string{"pause", "resume", "cancel", "retry-failed"} {
		mux.Handle("POST /api/v1/jobs/{id}/"+action, m.admin(m.byType(action, m.jobAction(action))))
	}
	mux.Handle("GET /api/v1/jobs/{id}/failed", m.admin(m.byType("failed", m.failedList)))
	mux.Handle("GET /api/v1/jobs/{id}/report", m.admin(m.byType("report", m.jobReport)))
	mux.Handle("GET /api/v1/agents", m.admin(m.listAgents))
	mux.Handle("POST /api/v1/leases", m.cluster(m.lease))
	mux.Handle("POST /api/v1/leases/{id}/report", m.cluster(m.report))
	mux.Handle("POST /api/v1/leases/{id}/release", m.cluster(m.release))
	mux.Handle("GET /api/v1/work", m.cluster(m.work))
	mux.HandleFunc("GET /healthz", serveLive)
	mux.HandleFunc("GET /readyz", serveReady(m.ready))
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /metrics", m.metricsAuth)
	for i, mt := range m.cfg.Mounts {
		if err := m.mount(mux, i, mt); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

// ServeHTTP serves the API; every answer that is not a success is JSON.
// A path that is not in canonical form ("..", ".", "//") is refused with a
// JSON 400 before any route sees it, where ServeMux would redirect with an
// HTML body; requests no route matches get a JSON 404 or 405 instead of
// ServeMux's plain text; any other non-JSON error or redirect is rewritten
// as JSON (jsonWriter). Listener does the same for the errors net/http
// answers before a handler runs.
func (m *Master) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && cleanPath(p) != p {
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("path %q is not canonical (it has '.', '..' or '//' segments)", p))
		return
	}
	w := &jsonWriter{ResponseWriter: rw}
	defer w.finish()
	if _, pattern := m.mux.Handler(r); pattern == "" {
		probe := &statusProbe{header: http.Header{}}
		m.mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, probe.status, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, probe.header.Get("Allow")))
			return
		}
		if probe.status == 0 || probe.status == http.StatusNotFound {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
			return
		}
	}
	m.mux.ServeHTTP(w, r)
}

// statusProbe records what ServeMux would answer, discarding the body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// apiHandler is a handler that returns an error to be answered as JSON.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status to answer it with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// errStatus builds an httpError.
func errStatus(status int, format string, a ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, a...)}
}

// admin and cluster check the bearer token of their role.
func (m *Master) admin(h apiHandler) http.Handler {
	return m.auth(m.cfg.AdminToken, m.cfg.ClusterToken, "admin", h)
}

func (m *Master) cluster(h apiHandler) http.Handler {
	return m.auth(m.cfg.ClusterToken, m.cfg.AdminToken, "cluster", h)
}

// auth answers 401 for a missing or unknown token, 403 for the other
// role's token (and for the viewer token on anything but an admin GET or
// HEAD), and otherwise runs h, turning its error into JSON.
func (m *Master) auth(want, other, role string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || tok == "":
			writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN)")
			return
		case subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1:
		case subtle.ConstantTimeCompare([]byte(tok), []byte(other)) == 1:
			writeError(w, http.StatusForbidden, "this endpoint needs the "+role+" token")
			return
		case m.cfg.ViewerToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(m.cfg.ViewerToken)) == 1:
			if role != "admin" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
				writeError(w, http.StatusForbidden, "the viewer token only reads: this endpoint needs the "+role+" token")
				return
			}
		default:
			writeError(w, http.StatusUnauthorized, "invalid token")
			return
		}
		err := h(w, r)
		m.stats.observe(r.Pattern, time.Since(start))
		if err == nil {
			return
		}
		var he *httpError
		if errors.As(err, &he) {
			writeError(w, he.status, he.msg)
			return
		}
		if r.Context().Err() == nil {
			m.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, http.StatusInternalServerError, err.Error())
	})
}

// metricsAuth serves /metrics, checking the metrics token when one is set.
func (m *Master) metricsAuth(w http.ResponseWriter, r *http.Request) {
	if m.cfg.MetricsToken != "" {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN): /metrics needs the metrics token")
			return
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(m.cfg.MetricsToken)) != 1 &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(m.cfg.AdminToken)) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid token: /metrics needs the metrics token")
			return
		}
	}
	m.metrics(w, r)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers {"error": msg, "code": ErrorCode(status)} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: ErrorCode(status)})
}

// decodeJSON reads exactly one JSON value of at most limit bytes into v,
// rejecting unknown fields; any problem is a 400 error.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errStatus(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", limit)
		}
		if errors.Is(err, io.EOF) {
			return errStatus(http.StatusBadRequest, "malformed JSON: empty body")
		}
		return errStatus(http.StatusBadRequest, "malformed JSON: %v", err)
	}
	if dec.More() {
		return errStatus(http.StatusBadRequest, "malformed JSON: more than one value in the body")
	}
	return nil
}
