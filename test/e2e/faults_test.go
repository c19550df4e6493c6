package e2e

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/test/faultproxy"
	"github.com/ferry-project/ferry/test/miniotest"
)

// Fault rates of TestMigrate_ThroughFaultyNetwork. The near proxy draws a
// fault for 20% of requests, at a byte in their first 2 KiB: some answers
// are shorter than that, so about 15% of requests meet one. The far one
// draws a fault for 30% of requests at a byte of their upload body within
// the first part size: about a quarter of the bodies of several MiB are
// reset or cut somewhere mid-body.
var (
	nearRates = faultproxy.Rates{Reset: 0.08, Cut: 0.08, Stall: 0.04}
	farRates  = faultproxy.Rates{Reset: 0.12, Cut: 0.12, Stall: 0.06}
)

// faultyTree writes the tree of the faulty-network tests under dir: 300
// small files, 20 medium ones (512 KiB – 4 MiB, one PUT each) and three of
// 12–20 MiB (multipart at 5 MiB or 4 MiB parts). It returns path → SHA-256.
func faultyTree(t testing.TB, dir string, seed uint64) map[string][32]byte {
	t.Helper()
	want := makeTree(t, dir, treeSpec{small: 300, large: []int{20 << 20, 16<<20 + 12345, 12<<20 + 7}, seed: seed, perDirMax: 100})
	rng := rand.New(rand.NewPCG(seed, 13))
	for i := range 20 {
		data := make([]byte, 512<<10+rng.IntN(4<<20-512<<10))
		fillRandom(rng, data)
		rel := fmt.Sprintf("medium/m%02d.bin", i)
		if err := os.MkdirAll(filepath.Join(dir, "medium"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = sha256.Sum256(data)
	}
	return want
}

// faultyRunArgs are the options of a migration through a faulty link.
// --attempts 2 makes a request's quick retries run out now and then (two
// faults in a row, over hundreds of requests): the object or part must then
// go round again later, its upload kept, instead of failing, as it would
// with a longer run of faults and the default attempts. --object-retry-time
// bounds a broken run well inside the test's time.
func faultyRunArgs(src, dst, cat string) []string {
	return []string{"migrate", "run", "--from", src, "--to", dst, "--catalog", cat, "--part-size", "5MiB",
		"--attempts", "2", "--object-retry-time", "2m", "--verbose", "--progress", "none"}
}

// checkFaultyRun checks a migration's result: exit 0, every object copied
// in this one run, none failed, so faults were met and cost no object. It
// returns how often an object or part outlived its quick retries and went
// round again later.
func checkFaultyRun(t *testing.T, r result, n int) int {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("ferry exited %d through a faulty network, want 0: %s", r.code, tail(r.stderr, 3000))
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("copied %d object(s)", n)) || !strings.Contains(r.stdout, " 0 failed") {
		t.Fatalf("summary %q: want %d objects copied, 0 failed", r.stdout, n)
	}
	// "object retried later", "parts retried later"
	later := strings.Count(r.stderr, ` retried later"`)
	t.Logf("%d retried requests, %d objects or parts sent round again later", summaryRetries(t, r.stdout), later)
	return later
}

// TestMigrate_ThroughFaultyNetwork migrates a tree through a network that
// resets, cuts and stalls requests (in their headers and in their bodies)
// and checks that one run copies every object intact, leaves no multipart
// upload open and records every object done.
func TestMigrate_ThroughFaultyNetwork(t *testing.T) {
	src := t.TempDir()
	want := faultyTree(t, src, 41)
	later := 0 // objects or parts sent round again, in both runs

	t.Run("MinIO", func(t *testing.T) {
		m := miniotest.Start(t)
		m.CreateBucket(t, "dst")
		link := startFaultyLink(t, strings.TrimPrefix(m.Endpoint, "http://"), 41, nearRates, farRates, 5<<20)
		vars := minioEnv(m, "")
		vars["AWS_ENDPOINT_URL"] = link.url()
		cat := filepath.Join(t.TempDir(), "cat.db")
		r := ferry(t, vars, faultyRunArgs(src, "s3://dst/net", cat)...)
		link.calm(t)
		later += checkFaultyRun(t, r, len(want))
		link.check(t)
		compareSums(t, "MinIO through a faulty network", want, readBackS3(t, m.Client(), "dst", "net/"))
		if up := openUploadsS3(t, m.Client(), "dst"); len(up) != 0 {
			t.Fatalf("multipart uploads left open: %v", up)
		}
		checkCatalogDone(t, cat, len(want))
	})

	t.Run("US3", func(t *testing.T) {
		e := startEmu(t, "dst")
		link := startFaultyLink(t, strings.TrimPrefix(e.endpoint, "http://"), 42, nearRates, farRates, 4<<20)
		vars := e.env()
		vars["US3_ENDPOINT"] = link.url()
		cat := filepath.Join(t.TempDir(), "cat.db")
		r := ferry(t, vars, faultyRunArgs(src, "us3://dst/net/", cat)...)
		link.calm(t)
		later += checkFaultyRun(t, r, len(want))
		link.check(t)
		compareSums(t, "US3 through a faulty network", want, e.readBack(t, "dst", "net/"))
		if up := e.uploads(t); len(up) != 0 {
			t.Fatalf("multipart uploads left open: %+v", up)
		}
		checkCatalogDone(t, cat, len(want))
	})
	if !t.Failed() && later == 0 {
		t.Errorf("no object outlived its quick retries in either run: the later rounds were not exercised")
	}
}
