package us3emu

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// adminPrefix starts every admin API path; object keys under it are reserved.
const adminPrefix = "/_us3emu/"

// serveAdmin answers the admin API (see the package doc). It needs no
// signature and is never subject to fault injection.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-SessionId", newID())
	switch p := r.URL.Path; {
	case p == adminPrefix+"health" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "2")
		_, _ = io.WriteString(w, "ok")
	case p == adminPrefix+"stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case p == adminPrefix+"stats/reset" && r.Method == http.MethodPost:
		s.ResetStats()
		writeJSON(w, http.StatusOK, s.Stats())
	case p == adminPrefix+"uploads" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.PendingUploads())
	case p == adminPrefix+"faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.currentFaults())
	case p == adminPrefix+"faults" && r.Method == http.MethodPut:
		var f Faults
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = json.Unmarshal(body, &f)
		}
		if err == nil {
			err = f.Validate()
		}
		if err != nil {
			writeError(w, errBadArg("%v", err))
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, s.currentFaults())
	default:
		writeError(w, errf(http.StatusNotFound, retInvalidArgument,
			"unknown admin request %s %s (the key prefix %s is reserved)", r.Method, strconv.Quote(p), adminPrefix))
	}
}
