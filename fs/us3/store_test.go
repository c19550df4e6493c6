package us3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/ferry-project/ferry/fs"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"US3_PUBLIC_KEY":              "pub",
		"US3_PRIVATE_KEY":             "priv",
		"US3_ENDPOINT":                "http://cn-bj.ufileos.com",
		"FERRY_SRC_US3_PUBLIC_KEY":    "srcpub",
		"FERRY_SRC_US3_PRIVATE_KEY":   "srcpriv",
		"FERRY_SRC_US3_CUSTOM_DOMAIN": "true",
	}
	get := func(k string) string { return env[k] }
	c := ConfigFromEnv(get, "FERRY_SRC_")
	if c.PublicKey != "srcpub" || c.PrivateKey != "srcpriv" || c.Endpoint != "http://cn-bj.ufileos.com" || !c.CustomDomain {
		t.Errorf("ConfigFromEnv(FERRY_SRC_) = %+v, want prefixed keys, shared endpoint, custom domain", c)
	}
	c = ConfigFromEnv(get, "FERRY_DST_")
	if c.PublicKey != "pub" || c.PrivateKey != "priv" || c.CustomDomain {
		t.Errorf("ConfigFromEnv(FERRY_DST_) = %+v, want the unprefixed keys", c)
	}
	c = ConfigFromEnv(get, "")
	if c.PublicKey != "pub" {
		t.Errorf("ConfigFromEnv(\"\") = %+v", c)
	}
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	base := Config{PublicKey: "PUBKEY", PrivateKey: "SECRETKEY", Bucket: "bkt", Endpoint: "http://cn-bj.ufileos.com"}
	bad := map[string]func(*Config){
		"US3 credentials missing: set US3_PUBLIC_KEY and US3_PRIVATE_KEY": func(c *Config) { c.PrivateKey = "" },
		"US3 endpoint missing":  func(c *Config) { c.Endpoint = "" },
		"US3 bucket missing":    func(c *Config) { c.Bucket = "" },
		"US3 endpoint \"ftp:":   func(c *Config) { c.Endpoint = "ftp://x" },
		"US3 bucket name \"a/b": func(c *Config) { c.Bucket = "a/b" },
	}
	for want, mod := range bad {
		c := base
		mod(&c)
		_, err := New(ctx, c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%+v) error = %v, want it to mention %q", c, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "SECRETKEY") || strings.Contains(err.Error(), "PUBKEY")) {
			t.Errorf("New error %q reveals a key", err)
		}
	}
	hosts := []struct {
		endpoint string
		custom   bool
		url, hdr string
	}{
		{"http://cn-bj.ufileos.com", false, "bkt.cn-bj.ufileos.com", "bkt.cn-bj.ufileos.com"},
		{"cn-bj.ufileos.com", false, "bkt.cn-bj.ufileos.com", "bkt.cn-bj.ufileos.com"},
		{"http://127.0.0.1:9000", false, "127.0.0.1:9000", "bkt.127.0.0.1:9000"},
		{"http://localhost:9000/ignored", false, "localhost:9000", "bkt.localhost:9000"},
		{"https://files.example.com", true, "files.example.com", "files.example.com"},
	}
	for _, h := range hosts {
		c := base
		c.Endpoint, c.CustomDomain = h.endpoint, h.custom
		s, err := New(ctx, c)
		if err != nil {
			t.Errorf("New(endpoint %q): %v", h.endpoint, err)
			continue
		}
		if s.urlHost != h.url || s.hostHeader != h.hdr {
			t.Errorf("endpoint %q custom %v: dials %q Host %q, want %q %q", h.endpoint, h.custom, s.urlHost, s.hostHeader, h.url, h.hdr)
		}
	}
	for in, want := range map[string]string{"": "", "p": "p/", "p/": "p/", "/a/b": "a/b/"} {
		if got := normPrefix(in); got != want {
			t.Errorf("normPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStore_do checks the wire form of a signed request against a real
// HTTP server: the reference's worked signature, the Host header, the
// escaped path and the explicit Content-Length.
func TestStore_do(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("ETag", `"etag-1"`)
	}))
	defer srv.Close()
	s, err := New(context.Background(), Config{PublicKey: "PUB", PrivateKey: "PRIV", Bucket: "mybucket", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = s.doDiscard(ctx, call{op: "put object", method: http.MethodPut, key: "k1", contentType: "text/plain",
		body: strings.NewReader("hello"), size: 5})
	if err != nil {
		t.Fatalf("PUT k1: %v", err)
	}
	weird := "dir/a b?c#d%e+f/ü//x"
	if _, err := s.doDiscard(ctx, call{op: "head", method: http.MethodHead, key: weird, size: -1}); err != nil {
		t.Fatalf("HEAD weird: %v", err)
	}
	info, err := s.Put(ctx, "k.txt", strings.NewReader("xyz-ignored-tail"), 3)
	if err != nil || info.ETag != "etag-1" || info.Size != 3 {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	if len(got) != 3 {
		t.Fatalf("server saw %d requests", len(got))
	}
	r := got[0]
	if a := r.Header.Get("Authorization"); a != "UCloud PUB:rQ1zc0rnyU6xnZ6QrsbWYQVfixw=" {
		t.Errorf("Authorization = %q, want the reference's worked example", a)
	}
	if r.Host != "mybucket."+strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host = %q, want mybucket.<endpoint host>", r.Host)
	}
	if r.ContentLength != 5 || bodies[0] != "hello" {
		t.Errorf("PUT Content-Length %d body %q", r.ContentLength, bodies[0])
	}
	h := got[1]
	if h.URL.Path != "/"+weird || h.URL.RawQuery != "" {
		t.Errorf("weird key arrived as path %q query %q (escaped %q)", h.URL.Path, h.URL.RawQuery, h.URL.EscapedPath())
	}
	if h.URL.EscapedPath() != "/dir/a%20b%3Fc%23d%25e+f/%C3%BC//x" {
		t.Errorf("escaped path = %q", h.URL.EscapedPath())
	}
	if want := s.auth.Authorization("HEAD", "mybucket", weird, http.Header{}); h.Header.Get("Authorization") != want {
		t.Errorf("HEAD signature %q, want one over the raw key %q", h.Header.Get("Authorization"), want)
	}
	p := got[2]
	if p.ContentLength != 3 || bodies[2] != "xyz" || p.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("Put sent Content-Length %d body %q type %q", p.ContentLength, bodies[2], p.Header.Get("Content-Type"))
	}
}

func TestMarkerBefore(t *testing.T) {
	cases := map[string]string{
		"":       "",
		"b":      "a\U0010FFFF",
		"a\x00":  "a",
		"ab\x01": "ab\x00\U0010FFFF",
		"é":      "è\U0010FFFF",
		"\ue000": "\ud7ff\U0010FFFF",
		"x\xff":  "x\xfe",
		"\xff":   "\xfe",
	}
	for in, want := range cases {
		if got := markerBefore(in); got != want {
			t.Errorf("markerBefore(%q) = %q, want %q", in, got, want)
		}
	}
	// Whatever the start, the marker sorts below it and every key in
	// between is one a walk must filter out, never one it needs.
	keys := []string{"a", "a\xff", "a\U0010FFFF", "a\U0010FFFFz", "a-c", "a/b", "b", "b\x00", "ba", "é", "è", "èz", "\ue000", "\xff"}
	for _, start := range keys {
		m := markerBefore(start)
		if m >= start {
			t.Errorf("markerBefore(%q) = %q, not below the start", start, m)
		}
		extra := 0
		for _, k := range keys {
			if k > m && k < start && utf8.ValidString(k) {
				extra++
			}
		}
		if extra > 1 {
			t.Errorf("markerBefore(%q) = %q lists %d valid UTF-8 keys below the start", start, m, extra)
		}
	}
}

func TestError_Is(t *testing.T) {
	s := &Store{}
	notFound := &Error{Op: "head object", Key: "k", Status: 404}
	noBucket := &Error{Op: "list objects", Status: 404, RetCode: retCodeNoBucket, ErrMsg: "bucket not exist"}
	denied := &Error{Op: "put object", Key: "k", Status: 403, RetCode: -1, ErrMsg: "signature mismatch"}
	for _, c := range []struct {
		err                 error
		notExist, perm, prm bool
	}{
		{notFound, true, false, true},
		{noBucket, false, false, true},
		{denied, false, true, true},
		{&Error{Status: 400}, false, false, true},
		{&Error{Status: 500}, false, false, false},
		{&Error{Status: 503}, false, false, false},
		{&Error{Status: 429}, false, false, false},
		{&Error{Err: io.ErrUnexpectedEOF}, false, false, false},
		{&Error{Err: context.Canceled}, false, false, false},
		{permanentf("bad part %d", 3), false, false, true},
	} {
		if got := errors.Is(c.err, fs.ErrNotExist); got != c.notExist {
			t.Errorf("Is(%v, ErrNotExist) = %v", c.err, got)
		}
		if got := errors.Is(c.err, fs.ErrPermission); got != c.perm {
			t.Errorf("Is(%v, ErrPermission) = %v", c.err, got)
		}
		if got := s.IsPermanent(c.err); got != c.prm {
			t.Errorf("IsPermanent(%v) = %v, want %v", c.err, got, c.prm)
		}
	}
	if msg := noBucket.Error(); msg != "us3 list objects: HTTP 404 RetCode -30010: bucket not exist" {
		t.Errorf("Error() = %q", msg)
	}
}
