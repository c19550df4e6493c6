package agent

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
)

// jsonWriter guards a response so that it is JSON whenever it is not a
// success: a status of 300 or more written with any other Content-Type
// (ServeMux's redirects, http.Error's plain text) is held back and, when
// the handler returns, answered with the same status as {"error": "…"},
// keeping Location and Allow. Successful answers (reports, /metrics) pass
// through untouched.
type jsonWriter struct {
	http.ResponseWriter
	wrote   bool
	held    int          // the status held back; 0 while passing through
	heldMsg bytes.Buffer // the start of the plain body held back
}

// WriteHeader passes code on, or holds it back (see jsonWriter).
func (w *jsonWriter) WriteHeader(code int) {
	if w.wrote || code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wrote = true
	if code >= 300 && !isJSON(w.Header().Get("Content-Type")) {
		w.held = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on, or keeps the first KiB of a held-back body as the
// error message.
func (w *jsonWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.held == 0 {
		return w.ResponseWriter.Write(b)
	}
	if room := 1024 - w.heldMsg.Len(); room > 0 {
		w.heldMsg.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// Flush flushes a response that is passing through.
func (w *jsonWriter) Flush() {
	if w.held == 0 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *jsonWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish answers a held-back status as JSON.
func (w *jsonWriter) finish() {
	if w.held == 0 {
		return
	}
	msg := strings.TrimSpace(w.heldMsg.String())
	if loc := w.Header().Get("Location"); w.held/100 == 3 && loc != "" {
		msg = fmt.Sprintf("%s: %s", strings.ToLower(http.StatusText(w.held)), loc)
	} else if msg == "" || strings.HasPrefix(msg, "<") {
		msg = strings.ToLower(http.StatusText(w.held))
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Del("X-Content-Type-Options")
	writeError(w.ResponseWriter, w.held, msg)
}

// isJSON reports whether a Content-Type is JSON.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// cleanPath is the canonical form of an escaped URL path, as ServeMux
// computes it: "." and ".." resolved, duplicate slashes removed, a
// trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}
