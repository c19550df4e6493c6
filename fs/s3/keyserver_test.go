package s3

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keyServer is a real HTTP server on 127.0.0.1 speaking the read side of
// the S3 protocol (ListObjectsV2, HeadObject, ranged GetObject) over a
// fixed key set, for keys MinIO refuses to store ("a//b", "./..", segments
// over 255 bytes, invalid UTF-8, NUL) or cannot list beside each other
// ("a" and "a/b"). AWS S3 itself stores all of them. Requests are not
// authenticated.
type keyServer struct {
	bucket string
	keys   []string // sorted
	data   map[string][]byte
	mtime  time.Time
}

// startKeyServer serves objects (key → content) of bucket and returns its
// endpoint URL.
func startKeyServer(t *testing.T, bucket string, objects map[string][]byte) string {
	ks := &keyServer{bucket: bucket, data: objects, mtime: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	for k := range objects {
		ks.keys = append(ks.keys, k)
	}
	sort.Strings(ks.keys)
	srv := httptest.NewServer(ks)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (ks *keyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Path-style: /bucket/key…, the key percent-decoded from the raw path.
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	bucket, escKey, _ := strings.Cut(raw, "/")
	key, err := url.PathUnescape(escKey)
	if err != nil || bucket != ks.bucket {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	switch {
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2":
		ks.list(w, r.URL.Query())
	case r.Method == http.MethodHead || r.Method == http.MethodGet:
		ks.object(w, r, key)
	default:
		http.Error(w, "not implemented", http.StatusNotImplemented)
	}
}

func (ks *keyServer) etag(key string) string {
	sum := md5.Sum(ks.data[key])
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// object answers HeadObject and GetObject (with an optional single range).
func (ks *keyServer) object(w http.ResponseWriter, r *http.Request, key string) {
	data, ok := ks.data[key]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		if r.Method == http.MethodGet {
			fmt.Fprintf(w, `<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>`)
		}
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != ks.etag(key) {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	w.Header().Set("ETag", ks.etag(key))
	w.Header().Set("Last-Modified", ks.mtime.Format(http.TimeFormat))
	status, body := http.StatusOK, data
	if rg := r.Header.Get("Range"); rg != "" {
		a, b, _ := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
		start, _ := strconv.Atoi(a)
		end, _ := strconv.Atoi(b)
		end = min(end, len(data)-1)
		body = data[start : end+1]
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

type listResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	KeyCount              int            `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	Contents              []listObject   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int    `xml:"Size"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// list answers ListObjectsV2 with S3's semantics: keys after start-after
// (or the continuation token) under prefix, grouped by delimiter, at most
// max-keys keys and prefixes, URL-encoded when asked. Continuation tokens
// are opaque (hex), as S3's are.
func (ks *keyServer) list(w http.ResponseWriter, q url.Values) {
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" {
		b, err := hex.DecodeString(tok)
		if err != nil {
			http.Error(w, "bad token", http.StatusBadRequest)
			return
		}
		after = string(b)
	}
	maxKeys := 1000
	if m, err := strconv.Atoi(q.Get("max-keys")); err == nil && m > 0 {
		maxKeys = m
	}
	enc := func(s string) string { return s }
	res := listResult{Name: ks.bucket, Prefix: prefix, MaxKeys: maxKeys}
	if q.Get("encoding-type") == "url" {
		enc, res.EncodingType = url.QueryEscape, "url"
	}
	res.Prefix = enc(prefix)
	last := ""
	for _, k := range ks.keys {
		if !strings.HasPrefix(k, prefix) || k <= after || (strings.HasSuffix(after, delim) && delim != "" && strings.HasPrefix(k, after)) {
			continue
		}
		if res.KeyCount == maxKeys {
			res.IsTruncated, res.NextContinuationToken = true, hex.EncodeToString([]byte(last))
			break
		}
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp := k[:len(prefix)+i+len(delim)]
			if cp == last {
				continue
			}
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{enc(cp)})
			last = cp
		} else {
			res.Contents = append(res.Contents, listObject{Key: enc(k), LastModified: ks.mtime.Format(time.RFC3339),
				ETag: ks.etag(k), Size: len(ks.data[k])})
			last = k
		}
		res.KeyCount++
	}
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(res)
}
