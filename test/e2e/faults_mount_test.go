package e2e

import (
	"bytes"
	"context"
	"fmt"
	"github.com/ferry-project/ferry/test/readcheck"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/faultproxy"
	"github.com/ferry-project/ferry/test/miniotest"
)

// putObjects stores files in bucket with the S3 API.
func putObjects(t testing.TB, m *miniotest.Server, bucket string, files map[string][]byte) {
	t.Helper()
	for k, v := range files {
		_, err := m.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(v)})
		if err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
}

// TestMount_ThroughOutage: readers of a `ferry mount` of a MinIO bucket,
// reached through a fault proxy, read random ranges while the network goes
// down for 3 s and comes back, and then while it resets, cuts and stalls
// requests. No read may fail, come back short or hold a wrong byte, and a
// directory first listed during the outage is listed whole once it ends.
func TestMount_ThroughOutage(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Fatalf("/dev/fuse is missing: FUSE tests need it (%v)", err)
	}
	rng := rand.New(rand.NewPCG(61, 1))
	files := map[string][]byte{}
	for i, size := range []int{3<<20 + 12345, 4 << 20, 5<<20 - 777, 6 << 20} {
		data := make([]byte, size)
		fillRandom(rng, data)
		files[fmt.Sprintf("d%d/f%d.bin", i%2, i)] = data
	}
	later := map[string][]byte{"later/x.txt": []byte("x\n"), "later/y.txt": []byte("y\n")}
	m := miniotest.Start(t)
	m.CreateBucket(t, "mnt")
	putObjects(t, m, "mnt", files)
	putObjects(t, m, "mnt", later)

	// Faults watch the answers (Direction Down), firing in their first
	// 256 KiB: in headers and mid-body of ranged GETs.
	p := startProxy(t, faultproxy.Options{Target: strings.TrimPrefix(m.Endpoint, "http://"), Seed: 61,
		Direction: faultproxy.Down, MaxBytes: 256 << 10, StallFor: linkStall, PerExchange: true})
	vars := minioEnv(m, "")
	vars["AWS_ENDPOINT_URL"] = "http://" + p.Addr()
	mp := mountSource(t, vars, "s3://mnt")
	open := map[string]*os.File{}
	for name := range files {
		f, err := os.Open(filepath.Join(mp, name))
		if err != nil {
			t.Fatalf("open %s in the mount: %v", name, err)
		}
		defer f.Close()
		open[name] = f
	}

	var st readcheck.Tally
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readcheck.Random(t, uint64(i), open, files, 2<<20, stop, &st)
		}()
	}
	time.Sleep(time.Second)

	// The outage: every connection reset, every new one refused, for 3 s.
	// A directory never listed is listed meanwhile.
	outage := readcheck.Window{Start: time.Now()}
	p.Down()
	listed := make(chan []string, 1)
	go func() {
		ents, err := os.ReadDir(filepath.Join(mp, "later"))
		names := []string{fmt.Sprint(err)}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		listed <- names
	}()
	time.Sleep(3 * time.Second)
	outage.End = time.Now()
	p.Up()
	time.Sleep(time.Second)

	// Faults: resets, cuts and stalls of about one answer in seven.
	spell := readcheck.Window{Start: time.Now()}
	if err := p.SetRates(faultproxy.Rates{Reset: 0.06, Cut: 0.06, Stall: 0.03}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if err := p.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	spell.End = time.Now()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	s := p.Stats()
	t.Logf("proxy: %s", describeStats(s))
	t.Logf("%d preads (%d interrupted and made again), %d in flight as the outage ended, %d begun during the faults; %d errors, %d short, %d wrong",
		st.Reads.Load(), st.EINTR.Load(), st.Across(outage), st.Within(spell), st.Errs.Load(), st.Short.Load(), st.Wrong.Load())
	if st.Failed() != 0 {
		t.Errorf("reads failed through the outage and faults: %q", st.First())
	}
	if st.Across(outage) == 0 || s.Dropped+s.Refused == 0 {
		t.Errorf("no read was in flight across the outage (%d dropped, %d refused connections): it was not exercised", s.Dropped, s.Refused)
	}
	if st.Within(spell) == 0 || s.Resets == 0 || s.Cuts == 0 {
		t.Errorf("%d reads during the faults, %d resets, %d cuts: the faults were not exercised", st.Within(spell), s.Resets, s.Cuts)
	}
	if got := <-listed; strings.Join(got, " ") != "<nil> x.txt y.txt" {
		t.Errorf("ls later during the outage = %v, want <nil> x.txt y.txt", got)
	}
}
