package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/faultproxy"
	"github.com/ferry-project/ferry/test/miniotest"
)

// window is when something began and ended: a read, an outage, a spell
// of faults.
type window struct{ start, end time.Time }

// readTally counts what the readers of a mount saw.
type readTally struct {
	reads, errs, short, wrong, eintr atomic.Int64
	mu                               sync.Mutex
	spans                            []window
	first                            []string // the first failures, for the report
}

// fail records a failure for the report.
func (s *readTally) fail(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.first) < 5 {
		s.first = append(s.first, fmt.Sprintf(format, a...))
	}
}

// across counts reads in flight when w ended: begun before, answered after.
func (s *readTally) across(w window) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.spans {
		if r.start.Before(w.end) && r.end.After(w.end) {
			n++
		}
	}
	return n
}

// within counts reads begun during w.
func (s *readTally) within(w window) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.spans {
		if !r.start.Before(w.start) && r.start.Before(w.end) {
			n++
		}
	}
	return n
}

// evict drops f's pages from the kernel's page cache, so that the next
// read of them reaches the mount.
func evict(f *os.File) error {
	const fadvDontNeed = 4 // POSIX_FADV_DONTNEED
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return fmt.Errorf("fadvise %s: %w", f.Name(), e)
	}
	return nil
}

// readRandomly preads random ranges (up to 2 MiB) of the open files until
// stop is closed, evicting cached pages before each, and checks every
// length and byte against files.
func readRandomly(t *testing.T, seed uint64, open map[string]*os.File, files map[string][]byte, stop <-chan struct{}, st *readTally) {
	r := rand.New(rand.NewPCG(seed, 5))
	var names []string
	for n := range open {
		names = append(names, n)
	}
	buf := make([]byte, 2<<20)
	for {
		select {
		case <-stop:
			return
		default:
		}
		name := names[r.IntN(len(names))]
		data, f := files[name], open[name]
		off := r.Int64N(int64(len(data)))
		n := 1 + r.IntN(len(buf))
		want := data[off:min(off+int64(n), int64(len(data)))]
		if err := evict(f); err != nil {
			t.Error(err)
			return
		}
		start := time.Now()
		got, err := syscall.Pread(int(f.Fd()), buf[:n], off)
		for errors.Is(err, syscall.EINTR) {
			// The Go runtime's signals interrupt a read that waits for the
			// store; it is made again, as os.File does.
			st.eintr.Add(1)
			got, err = syscall.Pread(int(f.Fd()), buf[:n], off)
		}
		st.mu.Lock()
		st.spans = append(st.spans, window{start, time.Now()})
		st.mu.Unlock()
		st.reads.Add(1)
		switch {
		case err != nil:
			st.errs.Add(1)
			st.fail("pread %s at %d (%d bytes): %v", name, off, n, err)
		case got < len(want):
			st.short.Add(1)
			st.fail("pread %s at %d: %d bytes of %d", name, off, got, len(want))
		case got > len(want) || !bytes.Equal(buf[:got], want):
			st.wrong.Add(1)
			st.fail("pread %s at %d: %d bytes differ from the object's", name, off, got)
		}
	}
}

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

	var st readTally
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readRandomly(t, uint64(i), open, files, stop, &st)
		}()
	}
	time.Sleep(time.Second)

	// The outage: every connection reset, every new one refused, for 3 s.
	// A directory never listed is listed meanwhile.
	outage := window{start: time.Now()}
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
	outage.end = time.Now()
	p.Up()
	time.Sleep(time.Second)

	// Faults: resets, cuts and stalls of about one answer in seven.
	spell := window{start: time.Now()}
	if err := p.SetRates(faultproxy.Rates{Reset: 0.06, Cut: 0.06, Stall: 0.03}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if err := p.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	spell.end = time.Now()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	s := p.Stats()
	t.Logf("proxy: %s", describeStats(s))
	t.Logf("%d preads (%d interrupted and made again), %d in flight as the outage ended, %d begun during the faults; %d errors, %d short, %d wrong",
		st.reads.Load(), st.eintr.Load(), st.across(outage), st.within(spell), st.errs.Load(), st.short.Load(), st.wrong.Load())
	if st.errs.Load()+st.short.Load()+st.wrong.Load() != 0 {
		t.Errorf("reads failed through the outage and faults: %q", st.first)
	}
	if st.across(outage) == 0 || s.Dropped+s.Refused == 0 {
		t.Errorf("no read was in flight across the outage (%d dropped, %d refused connections): it was not exercised", s.Dropped, s.Refused)
	}
	if st.within(spell) == 0 || s.Resets == 0 || s.Cuts == 0 {
		t.Errorf("%d reads during the faults, %d resets, %d cuts: the faults were not exercised", st.within(spell), s.Resets, s.Cuts)
	}
	if got := <-listed; strings.Join(got, " ") != "<nil> x.txt y.txt" {
		t.Errorf("ls later during the outage = %v, want <nil> x.txt y.txt", got)
	}
}
