package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/faultproxy"
)

// faultyLink is a faulty network between ferry and one server: two fault
// proxies in a chain, each drawing a fault per request (PerExchange).
//
// The near proxy, the one ferry dials, fires within the first 2 KiB of an
// exchange in either direction: requests and answers reset, cut or stalled
// in or just after their headers, so small objects and listings meet
// faults. The far proxy fires within the first part size of the client's
// bytes: upload bodies reset, cut or stalled mid-part.
type faultyLink struct {
	near, far *faultproxy.Proxy
}

// linkStall is how long a stall holds a direction: long enough to be felt,
// far shorter than any timeout of ferry's.
const linkStall = 400 * time.Millisecond

// startFaultyLink starts the chain to target (host:port) with the near and
// far rates and stops it when the test ends; farBytes bounds where a far
// fault fires (the part size, so that every full part can meet one).
func startFaultyLink(t testing.TB, target string, seed uint64, near, far faultproxy.Rates, farBytes int64) *faultyLink {
	t.Helper()
	fp := startProxy(t, faultproxy.Options{Target: target, Seed: seed + 1, Rates: far, Direction: faultproxy.Up,
		MaxBytes: farBytes, StallFor: linkStall, PerExchange: true})
	np := startProxy(t, faultproxy.Options{Target: fp.Addr(), Seed: seed, Rates: near,
		MaxBytes: 2 << 10, StallFor: linkStall, PerExchange: true})
	return &faultyLink{near: np, far: fp}
}

// startProxy starts one fault proxy and closes it when the test ends.
func startProxy(t testing.TB, o faultproxy.Options) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// url is the base URL ferry is given for the server behind the link.
func (l *faultyLink) url() string { return "http://" + l.near.Addr() }

// calm stops drawing new faults on both proxies.
func (l *faultyLink) calm(t testing.TB) {
	t.Helper()
	for _, p := range []*faultproxy.Proxy{l.near, l.far} {
		if err := p.SetRates(faultproxy.Rates{}); err != nil {
			t.Fatal(err)
		}
	}
}

// check logs both proxies' counters and fails the test unless the near
// proxy reset and cut requests and the far one broke upload bodies: the
// faults the test is about really happened.
func (l *faultyLink) check(t testing.TB) {
	t.Helper()
	n, f := l.near.Stats(), l.far.Stats()
	t.Logf("near proxy: %s", describeStats(n))
	t.Logf("far proxy:  %s", describeStats(f))
	if n.Resets == 0 || n.Cuts == 0 || n.Stalls == 0 {
		t.Errorf("the near proxy fired %d resets, %d cuts, %d stalls: want some of each", n.Resets, n.Cuts, n.Stalls)
	}
	if f.Resets+f.Cuts == 0 {
		t.Errorf("the far proxy broke no upload body (%d resets, %d cuts)", f.Resets, f.Cuts)
	}
}

// describeStats is one line of a proxy's counters, with the share of
// exchanges (requests) that met a fault.
func describeStats(s faultproxy.Stats) string {
	ex := s.Conns + s.Exchanges
	share := 0.0
	if ex > 0 {
		share = 100 * float64(s.Resets+s.Stalls+s.Cuts) / float64(ex)
	}
	return strings.Join([]string{
		"conns=" + strconv.FormatInt(s.Conns, 10),
		"exchanges=" + strconv.FormatInt(ex, 10),
		"resets=" + strconv.FormatInt(s.Resets, 10),
		"cuts=" + strconv.FormatInt(s.Cuts, 10),
		"stalls=" + strconv.FormatInt(s.Stalls, 10),
		"dropped=" + strconv.FormatInt(s.Dropped, 10),
		"refused=" + strconv.FormatInt(s.Refused, 10),
		"faulty=" + strconv.FormatFloat(share, 'f', 1, 64) + "%",
		"up=" + strconv.FormatInt(s.BytesUp>>20, 10) + "MiB",
		"down=" + strconv.FormatInt(s.BytesDown>>20, 10) + "MiB",
	}, " ")
}

// retriedRe reads the retried-request count of a migration's summary.
var retriedRe = regexp.MustCompile(`, (\d+) retried request\(s\)`)

// summaryRetries returns the number of retried requests a migration's
// summary line reports, failing the test when there is none.
func summaryRetries(t testing.TB, stdout string) int {
	t.Helper()
	m := retriedRe.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no retried-request count in the summary %q", stdout)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// openUploadsS3 lists the multipart uploads still open in bucket.
func openUploadsS3(t testing.TB, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads of %s: %v", bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}

// checkCatalogDone fails the test unless `ferry catalog stats` shows n
// objects done and none failed, pending or copying.
func checkCatalogDone(t testing.TB, cat string, n int) {
	t.Helper()
	st := mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	counts := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(st.stdout), "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 2 {
			counts[f[0]] = f[1]
		}
	}
	if counts["done"] != strconv.Itoa(n) {
		t.Fatalf("catalog stats: %s objects done, want %d:\n%s", counts["done"], n, st.stdout)
	}
	for _, state := range []string{"failed", "pending", "copying", "verifying"} {
		if c, ok := counts[state]; ok && c != "0" {
			t.Fatalf("catalog stats: %s objects %s, want 0:\n%s", c, state, st.stdout)
		}
	}
}
