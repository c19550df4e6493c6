package us3emu

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the emulator: a plain http.Handler (no ServeMux, which would
// clean paths holding "//" or ".."). It is safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	signer  *signer
	buckets map[string]*bucket
	first   *bucket
	stats   *counters
	now     func() time.Time

	faultMu sync.RWMutex
	faults  Faults

	upMu    sync.Mutex
	uploads map[string]*upload
}

var _ http.Handler = (*Server)(nil)

// New opens (creating as needed) the buckets under opts.Root, reloads the
// objects and pending multipart uploads stored there, and returns a Server.
func New(opts Options) (*Server, error) {
	if err := opts.normalize(); err != nil {
		return nil, fmt.Errorf("new us3emu: %w", err)
	}
	if err := os.MkdirAll(opts.Root, 0o755); err != nil {
		return nil, fmt.Errorf("new us3emu: create root: %w", err)
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		buckets: map[string]*bucket{},
		stats:   newCounters(),
		now:     time.Now,
		faults:  opts.Faults,
		uploads: map[string]*upload{},
	}
	s.signer = &signer{publicKey: opts.PublicKey, privateKey: opts.PrivateKey, now: s.now}
	for _, name := range opts.Buckets {
		b, err := openBucket(opts.Root, name)
		if err != nil {
			return nil, fmt.Errorf("new us3emu: open bucket %s: %w", name, err)
		}
		s.buckets[name] = b
		if s.first == nil {
			s.first = b
		}
		if err := s.loadUploads(b); err != nil {
			return nil, fmt.Errorf("new us3emu: load uploads of %s: %w", name, err)
		}
	}
	return s, nil
}

// SetFaults replaces the injected faults; rates are clamped to [0,1].
func (s *Server) SetFaults(f Faults) {
	f.ErrorRate = math.Min(math.Max(f.ErrorRate, 0), 1)
	f.DropRate = math.Min(math.Max(f.DropRate, 0), 1)
	f.Latency = max(f.Latency, 0)
	s.faultMu.Lock()
	s.faults = f
	s.faultMu.Unlock()
}

func (s *Server) currentFaults() Faults {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	return s.faults
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.stats.reset() }

// call is one routed object request.
type call struct {
	op     string
	bucket *bucket
	key    string // decoded URL path without the leading "/"
	q      url.Values
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) *apiError

// ServeHTTP answers admin requests under /_us3emu/ and US3 object requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_us3emu" || strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	start := time.Now()
	b, ok := s.bucketFor(r.Host)
	if !ok {
		s.stats.request("Unknown")
		discardBody(r, 8<<20)
		writeError(w, errNoBucket(r.Host))
		return
	}
	c := &call{bucket: b, key: strings.TrimPrefix(r.URL.Path, "/"), q: r.URL.Query()}
	var h handlerFunc
	c.op, h = s.route(r, c)
	s.stats.request(c.op)
	sw := &statusWriter{ResponseWriter: w, onDone: func(status int, bodyBytes int64) {
		s.stats.done(c.op, status)
		if c.op == "GetFile" && status/100 == 2 {
			s.stats.bytesOut(bodyBytes)
		}
	}}
	sw.Header().Set("X-SessionId", newID())
	defer func() {
		s.log.Debug("us3emu request", "op", c.op, "method", r.Method, "bucket", c.bucket.name,
			"key", c.key, "status", sw.status, "duration", time.Since(start))
	}()

	var out http.ResponseWriter = sw
	switch s.injectFault(sw, r) {
	case faultHandled:
		return
	case faultDropResponse:
		sw.onDone = nil // a dropped response is no success
		dw := &dropWriter{ResponseWriter: sw}
		defer dw.drop()
		out = dw
	}
	e := s.serve(out, r, c, h)
	if e != nil {
		discardBody(r, 8<<20)
		writeError(out, e)
	}
	sw.finish(sw.written)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *call, h handlerFunc) *apiError {
	if h == nil {
		return errf(http.StatusMethodNotAllowed, retMethodNotAllowed, "unsupported request %s", r.Method)
	}
	if c.op != "PostFile" {
		if e := s.signer.verifyRequest(r, c.q, c.bucket.name, c.key); e != nil {
			return e
		}
	}
	return h(w, r, c)
}

// bucketFor maps a Host header to a bucket. An IP address or a name
// without a dot ("localhost") is the SDK's Endpoint form and addresses the
// first bucket; "<bucket>.<host>" addresses that bucket, and ok is false
// when no such bucket exists (US3 answers 404 "bucket not exist").
func (s *Server) bucketFor(host string) (b *bucket, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	i := strings.IndexByte(host, '.')
	if i <= 0 || net.ParseIP(host) != nil {
		return s.first, true
	}
	b, ok = s.buckets[host[:i]]
	return b, ok
}

// route names the operation and picks its handler by method, query flags
// and the X-Ufile-Copy-Source header.
func (s *Server) route(r *http.Request, c *call) (string, handlerFunc) {
	q := c.q
	copySrc := r.Header.Get("X-Ufile-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		if c.key == "" {
			switch {
			case q.Has("listobjects"):
				return "ListObjects", s.listObjects
			case q.Has("list"):
				return "PrefixFileList", s.prefixFileList
			case q.Has("muploadpart"):
				return "ListParts", s.listParts
			case q.Has("muploadid"):
				return "GetMultiUploadId", s.getMultiUploadID
			}
		}
		switch {
		case q.Has("tagging"):
			return "GetObjectTagging", s.getTagging
		case q.Has("acl"):
			return "GetObjectAcl", s.getACL
		}
		return "GetFile", s.getFile
	case http.MethodHead:
		return "HeadFile", s.headFile
	case http.MethodPut:
		switch {
		case q.Has("uploadId") && q.Has("partNumber") && copySrc:
			return "UploadPartCopy", s.uploadPartCopy
		case q.Has("uploadId") && q.Has("partNumber"):
			return "UploadPart", s.uploadPart
		case q.Has("tagging"):
			return "PutObjectTagging", s.putTagging
		case q.Has("acl"):
			return "PutObjectAcl", s.putACL
		case q.Has("restore"):
			return "Restore", s.restore
		case q.Has("storageClass"):
			return "ClassSwitch", s.classSwitch
		case copySrc:
			return "Copy", s.copyObject
		}
		return "PutFile", s.putFile
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return "InitiateMultipart", s.initiateMultipart
		case q.Has("uploadId"):
			return "FinishMultipart", s.finishMultipart
		case c.key == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data"):
			return "PostFile", s.postFile
		}
	case http.MethodDelete:
		switch {
		case q.Has("uploadId"):
			return "AbortMultipart", s.abortMultipart
		case q.Has("tagging"):
			return "DeleteObjectTagging", s.deleteTagging
		}
		return "DeleteFile", s.deleteFile
	}
	return "Unknown", nil
}

// statusWriter records the status and reports the request done (onDone)
// before the client can see the whole response: just before the last body
// byte of a response with a Content-Length is written, or when the handler
// returns (small responses are buffered until then). So counters are
// current by the time a client has its answer.
type statusWriter struct {
	http.ResponseWriter
	status  int
	length  int64 // Content-Length sent, -1 when unknown
	written int64
	onDone  func(status int, bodyBytes int64) // nil: report nothing
	done    bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.length = -1
		if cl, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
			w.length = cl
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.length >= 0 && w.written+int64(len(p)) >= w.length {
		w.finish(w.length)
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for file bodies (a
// *io.LimitedReader of an *os.File) for all but the last byte.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	lr, isLimited := r.(*io.LimitedReader)
	var total int64
	if ok && isLimited && w.length >= 0 {
		if rest := w.length - w.written - 1; rest > 0 {
			head := *lr
			head.N = min(lr.N, rest)
			n, err := rf.ReadFrom(&head)
			lr.N -= n
			w.written += n
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	n, err := io.Copy(struct{ io.Writer }{w}, r)
	return total + n, err
}

// finish reports the request done once.
func (w *statusWriter) finish(bodyBytes int64) {
	if !w.done {
		w.done = true
		if w.onDone != nil {
			w.onDone(w.status, bodyBytes)
		}
	}
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
