package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// TestOpen_UnknownSchemeEverywhere: every command that takes a location
// refuses a scheme the registry does not know with one usage line (never
// trying it as S3), and a source-only store as a destination.
func TestOpen_UnknownSchemeEverywhere(t *testing.T) {
	dir := t.TempDir()
	cat := filepath.Join(dir, "c.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "ftp://host/x"}, `unknown scheme "ftp" (want file, s3, oss, cos, kodo, minio, upyun, us3, urllist or azblob)`},
		{[]string{"mount", "gs://bucket/p", dir}, `unknown scheme "gs"`},
		{[]string{"migrate", "run", "--from", "wasb://acct/c/p", "--to", dir, "--catalog", cat}, `unknown scheme "wasb"`},
		{[]string{"migrate", "run", "--from", dir, "--to", "ftp://host/x", "--catalog", cat}, `unknown scheme "ftp"`},
		{[]string{"migrate", "run", "--from", dir, "--to", "urllist:///tmp/l.txt", "--catalog", cat}, "destination: urllist:///tmp/l.txt: cannot be written to"},
	} {
		code, stdout, stderr := ferryRun(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}, c.args...)
		wantOneLine(t, code, exitUsage, stdout, stderr, c.want)
	}
	if _, err := os.Stat(cat); !os.IsNotExist(err) {
		t.Fatalf("a refused run left a catalog: %v", err)
	}
}

// TestCheckOverlap_US3: the overlap check reads the registry's Places for
// every store, US3 included: same endpoint and bucket overlap, another
// bucket or endpoint does not.
func TestCheckOverlap_US3(t *testing.T) {
	drivers, err := standardDrivers()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{drivers: drivers, getenv: func(k string) string {
		return map[string]string{"US3_ENDPOINT": "http://cn-bj.ufileos.com", "FERRY_DST_US3_ENDPOINT": ""}[k]
	}}
	src, dst := side{envPrefix: "FERRY_SRC_"}, side{envPrefix: "FERRY_DST_"}
	if err := e.checkOverlap("us3://b/p", "us3://b/p/x", src, dst); err == nil || !strings.Contains(err.Error(), "is inside source") {
		t.Errorf("us3 prefix inside prefix: %v", err)
	}
	if err := e.checkOverlap("us3://b/p", "us3://c/p", src, dst); err != nil {
		t.Errorf("two buckets: %v", err)
	}
	if err := e.checkOverlap("us3://b/p", "us3://b/p", src, side{envPrefix: "FERRY_DST_", endpoint: "http://other:9000"}); err != nil {
		t.Errorf("two endpoints: %v", err)
	}
	if err := e.checkOverlap("us3://b/p", "s3://b/p", src, dst); err != nil {
		t.Errorf("us3 and s3: %v", err)
	}
}
