package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// headBucketServer answers HeadBucket with the given statuses in turn,
// then 200, and counts the requests.
func headBucketServer(t *testing.T, statuses ...int) (string, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			w.WriteHeader(statuses[i])
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestOpenStore_RetriesTransientCheck: a store whose first answers are
// 5xx is opened once it answers; one that refuses the credentials fails
// at its first answer, with no retry.
func TestOpenStore_RetriesTransientCheck(t *testing.T) {
	ctx := context.Background()
	drivers, err := standardDrivers()
	if err != nil {
		t.Fatal(err)
	}
	open := func(endpoint string) error {
		e := &env{drivers: drivers, getenv: func(k string) string {
			return map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_ENDPOINT_URL": endpoint}[k]
		}}
		_, err := e.openSource(ctx, fs.URI{Scheme: "s3", Bucket: "b"}.String(), sourceSide)
		return err
	}
	url, n := headBucketServer(t, 500, 503)
	if err := open(url); err != nil || n.Load() != 3 {
		t.Errorf("two 5xx then 200: %v after %d requests, want success after 3", err, n.Load())
	}
	url, n = headBucketServer(t, 500, 500, 500, 500, 500)
	if err := open(url); err == nil || n.Load() != checkAttempts {
		t.Errorf("5xx every time: %v after %d requests, want an error after %d", err, n.Load(), checkAttempts)
	}
	url, n = headBucketServer(t, 403)
	if err := open(url); err == nil || !strings.Contains(err.Error(), "access denied") || n.Load() != 1 {
		t.Errorf("403: %v after %d requests, want access denied after 1", err, n.Load())
	}
}
