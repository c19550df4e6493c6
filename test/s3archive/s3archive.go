// Package s3archive is an archive-faithful layer for S3 tests: a loopback
// reverse proxy in front of a real S3 server (MinIO, which accepts
// storage-class headers but never archives) that makes chosen keys behave
// like S3 Glacier objects. For a marked key
//
//   - GET answers 403 InvalidObjectState, as S3 does, until a restore was
//     requested (POST ?restore) and the proxy's delay has passed;
//   - HEAD reports x-amz-storage-class and, once a restore was asked for,
//     x-amz-restore (ongoing-request="true", then "false" with an expiry);
//   - ListObjectsV2 reports its StorageClass and, when a restore was asked
//     for, its RestoreStatus;
//   - POST ?restore answers 202 Accepted, 409 RestoreAlreadyInProgress while
//     it runs, and 200 once the copy is restored.
//
// Everything else is forwarded unchanged, signatures included (the Host
// header is kept, so SigV4 verifies against the proxy's address).
package s3archive

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy is a running archive layer. Its methods are safe for concurrent
// use.
type Proxy struct {
	// URL is the proxy's endpoint, to be used instead of the server's.
	URL string

	srv   *httptest.Server
	delay time.Duration
	mu    sync.Mutex
	marks map[string]*mark // "bucket/key" → state
	// Restores counts the restore requests received.
	restores int
}

type mark struct {
	class     string
	requested time.Time // zero: no restore asked for
}

// Start runs a proxy in front of the S3 endpoint target (path-style
// requests); restores finish delay after they are requested. Close stops
// it.
func Start(target string, delay time.Duration) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("start s3archive: bad target %q", target)
	}
	p := &Proxy{delay: delay, marks: map[string]*mark{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: u.Scheme, Host: u.Host})
			r.Out.Host = r.In.Host
		},
		ModifyResponse: p.modify,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, rp) }))
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Archive marks bucket/key as an archived object of class ("GLACIER",
// "DEEP_ARCHIVE").
func (p *Proxy) Archive(bucket, key, class string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marks[bucket+"/"+key] = &mark{class: class}
}

// Restores returns how many restore requests the proxy received.
func (p *Proxy) Restores() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restores
}

// state reports a marked object's class and restore state.
func (p *Proxy) state(bucketKey string) (m mark, marked, restoring, restored bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mk, ok := p.marks[bucketKey]
	if !ok {
		return mark{}, false, false, false
	}
	if mk.requested.IsZero() {
		return *mk, true, false, false
	}
	done := time.Since(mk.requested) >= p.delay
	return *mk, true, !done, done
}

// objectOf splits a path-style request path into "bucket/key" ("" for a
// bucket-level request).
func objectOf(r *http.Request) string {
	b, k, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || k == "" {
		return ""
	}
	return b + "/" + k
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	obj := objectOf(r)
	if obj == "" {
		rp.ServeHTTP(w, r)
		return
	}
	m, marked, restoring, restored := p.state(obj)
	switch {
	case !marked:
	case r.Method == http.MethodPost && r.URL.Query().Has("restore"):
		_, _ = io.Copy(io.Discard, r.Body)
		p.mu.Lock()
		p.restores++
		mk := p.marks[obj]
		first := mk.requested.IsZero()
		if first {
			mk.requested = time.Now()
		}
		p.mu.Unlock()
		switch {
		case first:
			w.WriteHeader(http.StatusAccepted)
		case restoring:
			writeError(w, http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress", "")
		default:
			w.WriteHeader(http.StatusOK)
		}
		return
	case r.Method == http.MethodGet && !restored:
		writeError(w, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class", m.class)
		return
	}
	rp.ServeHTTP(w, r)
}

// writeError answers an S3 XML error.
func writeError(w http.ResponseWriter, status int, code, msg, class string) {
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg + "</Message>"
	if class != "" {
		body += "<StorageClass>" + class + "</StorageClass>"
	}
	body += "</Error>"
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

var (
	contentsRE = regexp.MustCompile(`(?s)<Contents>.*?</Contents>`)
	keyRE      = regexp.MustCompile(`(?s)<Key>(.*?)</Key>`)
	classRE    = regexp.MustCompile(`(?s)<StorageClass>.*?</StorageClass>`)
)

// modify adds the archive headers to HEADs and the classes and restore
// status to listings of marked objects.
func (p *Proxy) modify(resp *http.Response) error {
	r := resp.Request
	obj := objectOf(r)
	if r.Method == http.MethodHead && obj != "" {
		if m, marked, restoring, restored := p.state(obj); marked {
			resp.Header.Set("X-Amz-Storage-Class", m.class)
			switch {
			case restoring:
				resp.Header.Set("X-Amz-Restore", `ongoing-request="true"`)
			case restored:
				resp.Header.Set("X-Amz-Restore", `ongoing-request="false", expiry-date="`+time.Now().Add(24*time.Hour).UTC().Format(http.TimeFormat)+`"`)
			}
		}
		return nil
	}
	if r.Method != http.MethodGet || obj != "" || r.URL.Query().Get("list-type") != "2" || resp.StatusCode != http.StatusOK {
		return nil
	}
	bucket := strings.Trim(r.URL.Path, "/")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	encoded := bytes.Contains(body, []byte("<EncodingType>url</EncodingType>"))
	body = contentsRE.ReplaceAllFunc(body, func(c []byte) []byte {
		km := keyRE.FindSubmatch(c)
		if km == nil {
			return c
		}
		key := string(km[1])
		if encoded {
			if k, err := url.QueryUnescape(key); err == nil {
				key = k
			}
		}
		m, marked, restoring, restored := p.state(bucket + "/" + key)
		if !marked {
			return c
		}
		cls := []byte("<StorageClass>" + m.class + "</StorageClass>")
		if classRE.Match(c) {
			c = classRE.ReplaceAll(c, cls)
		} else {
			c = bytes.Replace(c, []byte("</Contents>"), append(cls, []byte("</Contents>")...), 1)
		}
		if restoring || restored {
			rs := "<RestoreStatus><IsRestoreInProgress>" + strconv.FormatBool(restoring) + "</IsRestoreInProgress>"
			if restored {
				rs += "<RestoreExpiryDate>" + time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339) + "</RestoreExpiryDate>"
			}
			rs += "</RestoreStatus>"
			c = bytes.Replace(c, []byte("</Contents>"), []byte(rs+"</Contents>"), 1)
		}
		return c
	})
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
