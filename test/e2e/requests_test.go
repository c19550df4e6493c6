package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-project/ferry/test/miniotest"
	"github.com/ferry-project/ferry/test/reqcount"
)

// reqObjects is how many small objects the request-count test copies:
// more than one listing page (1000 keys), so that pages count too.
const reqObjects = 1100

// listPages is the listing pages a walk of n keys costs at 1000 keys a
// page (a last, partial page ends the walk; a full last page needs one
// more, empty, page only when the server says it was truncated).
func listPages(n int) int64 { return int64(n+999) / 1000 }

// TestMigrate_RequestsPerObject counts, at the servers, the requests a
// copy of many small objects costs, for every pair of local, S3 (MinIO
// behind a counting proxy) and US3 (the emulator's own counts): one GET
// per object from S3, one PUT (PutFile) per object to S3 (US3), and
// nothing else per object — no HEAD, bucket check or listing per object.
// The constant (listing pages, a start-up bucket check) is computed
// from the object count and the page size.
func TestMigrate_RequestsPerObject(t *testing.T) {
	dir := t.TempDir()
	for i := range reqObjects {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("obj-%05d", i))
		if i < 3 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("object %d of the request count\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := miniotest.Start(t)
	m.CreateBucket(t, "src")
	m.CreateBucket(t, "dst")
	srcProxy, dstProxy := countingProxy(t, m), countingProxy(t, m)
	e := startEmu(t, "dst")
	n := int64(reqObjects)
	pages := listPages(reqObjects)
	// us3Check is the US3 Sink's start-up check: one one-key listing.
	us3Check := map[string]int64{"ListObjects": 1}
	run := func(vars map[string]string, from, to string) {
		t.Helper()
		srcProxy.Reset()
		dstProxy.Reset()
		e.resetStats(t)
		mustFerry(t, vars, "migrate", "run", "--from", from, "--to", to,
			"--catalog", filepath.Join(t.TempDir(), "c.db"), "--progress", "none")
	}
	proxied := func(p *reqcount.Proxy, prefix string) map[string]string {
		vars := minioEnv(m, prefix)
		vars[prefix+"AWS_ENDPOINT_URL"] = p.URL()
		return vars
	}

	t.Run("local to S3", func(t *testing.T) {
		run(proxied(srcProxy, ""), dir, "s3://src/p/")
		checkRequests(t, "S3 destination", srcProxy.Counts(), map[string]int64{"PutObject": n}, map[string]int64{"HeadBucket": 1})
	})
	t.Run("S3 to S3", func(t *testing.T) {
		vars := proxied(srcProxy, "FERRY_SRC_")
		maps.Copy(vars, proxied(dstProxy, "FERRY_DST_"))
		run(vars, "s3://src/p/", "s3://dst/q/")
		checkRequests(t, "S3 source", srcProxy.Counts(), map[string]int64{"GetObject": n}, map[string]int64{"ListObjectsV2": pages, "HeadBucket": 1})
		checkRequests(t, "S3 destination", dstProxy.Counts(), map[string]int64{"PutObject": n}, map[string]int64{"HeadBucket": 1})
	})
	t.Run("local to US3", func(t *testing.T) {
		run(e.env(), dir, "us3://dst/l/")
		checkRequests(t, "US3 destination", e.stats(t).Requests, map[string]int64{"PutFile": n}, us3Check)
	})
	t.Run("S3 to US3", func(t *testing.T) {
		vars := proxied(srcProxy, "")
		maps.Copy(vars, e.env())
		run(vars, "s3://src/p/", "us3://dst/s/")
		checkRequests(t, "S3 source", srcProxy.Counts(), map[string]int64{"GetObject": n}, map[string]int64{"ListObjectsV2": pages, "HeadBucket": 1})
		checkRequests(t, "US3 destination", e.stats(t).Requests, map[string]int64{"PutFile": n}, us3Check)
	})
}

// countingProxy starts a counting reverse proxy in front of m, closed when
// the test ends.
func countingProxy(t testing.TB, m *miniotest.Server) *reqcount.Proxy {
	t.Helper()
	p, err := reqcount.Start(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// checkRequests fails unless got holds exactly perObject's counts and, of
// every other operation, at most fixed's count (an operation absent from
// both is not allowed at all).
func checkRequests(t testing.TB, what string, got, perObject, fixed map[string]int64) {
	t.Helper()
	for op, v := range got {
		want, exact := perObject[op]
		switch {
		case exact && v != want:
			t.Errorf("%s: %d %s requests, want exactly %d (one per object)", what, v, op, want)
		case !exact && v > fixed[op]:
			t.Errorf("%s: %d %s requests, want at most %d (never per object)", what, v, op, fixed[op])
		}
	}
	for op, want := range perObject {
		if _, ok := got[op]; !ok {
			t.Errorf("%s: no %s request, want %d", what, op, want)
		}
	}
	t.Logf("%s: %v", what, got)
}
