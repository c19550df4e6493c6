package us3emu

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

type faultKind int

const (
	faultNone         faultKind = iota
	faultHandled                // the request was answered or dropped
	faultDropResponse           // serve, but cut the response body halfway
)

// errDropped is returned to handlers writing into a dropped connection.
var errDropped = errors.New("us3emu: connection dropped by fault injection")

// injectFault applies the current faults before the request takes effect.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) faultKind {
	f := s.currentFaults()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return faultHandled
		}
	}
	if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
		s.stats.injectedError()
		discardBody(r, 1<<62)
		if rand.IntN(2) == 0 {
			writeError(w, errf(http.StatusInternalServerError, retInternal, "injected fault: internal error"))
		} else {
			writeError(w, errf(http.StatusServiceUnavailable, retServiceBusy, "injected fault: service busy"))
		}
		return faultHandled
	}
	if f.DropRate > 0 && rand.Float64() < f.DropRate {
		s.stats.injectedDrop()
		if r.ContentLength != 0 {
			n := r.ContentLength / 2
			if n < 0 {
				n = 32 << 10
			}
			_, _ = io.CopyN(io.Discard, r.Body, n)
			hijackClose(w, false)
			return faultHandled
		}
		if r.Method == http.MethodGet {
			return faultDropResponse
		}
		hijackClose(w, false)
		return faultHandled
	}
	return faultNone
}

// hijackClose closes the connection under w, first flushing what was
// written when flush is set (flushing would otherwise send a 200 header).
func hijackClose(w http.ResponseWriter, flush bool) {
	rc := http.NewResponseController(w)
	if flush {
		_ = rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// dropWriter passes the status and the first half of the response body
// (by Content-Length), then closes the connection.
type dropWriter struct {
	http.ResponseWriter
	headerDone bool
	cut, sent  int64
	dead       bool
}

func (d *dropWriter) WriteHeader(code int) {
	if d.headerDone || d.dead {
		return
	}
	cl, _ := strconv.ParseInt(d.Header().Get("Content-Length"), 10, 64)
	d.cut = cl / 2
	if d.cut <= 0 {
		d.drop()
		return
	}
	d.headerDone = true
	d.ResponseWriter.WriteHeader(code)
}

func (d *dropWriter) Write(p []byte) (int, error) {
	if !d.headerDone && !d.dead {
		d.WriteHeader(http.StatusOK)
	}
	if d.dead {
		return 0, errDropped
	}
	room := d.cut - d.sent
	if int64(len(p)) < room {
		n, err := d.ResponseWriter.Write(p)
		d.sent += int64(n)
		return n, err
	}
	n, _ := d.ResponseWriter.Write(p[:room])
	d.sent += int64(n)
	d.drop()
	return n, errDropped
}

// drop closes the connection once; calling it again does nothing.
func (d *dropWriter) drop() {
	if !d.dead {
		d.dead = true
		hijackClose(d.ResponseWriter, d.headerDone)
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (d *dropWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
