package mount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ferry-project/ferry/test/readcheck"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3fs "github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/test/miniotest"
)

// minioMount puts files into a bucket of a fresh MinIO server and mounts
// the bucket through the S3 driver with o, until the test ends.
func minioMount(t *testing.T, files map[string][]byte, o Options) (*miniotest.Server, *Server, string) {
	t.Helper()
	ctx := context.Background()
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "mnt")
	c := srv.Client()
	for k, v := range files {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mnt"), Key: aws.String(k),
			Body: bytes.NewReader(v), ContentLength: aws.Int64(int64(len(v)))}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	st, err := s3fs.New(ctx, s3fs.Config{Provider: "minio", Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: "mnt"})
	if err != nil {
		t.Fatal(err)
	}
	ms, mp := mountT(t, st, o)
	return srv, ms, mp
}

// randomPreads opens the files under mp and reads them at random (up to
// 3 MiB a read) until stop is closed (readcheck.Random).
func randomPreads(t *testing.T, seed uint64, mp string, files map[string][]byte, stop <-chan struct{}, st *readcheck.Tally) {
	open := make(map[string]*os.File)
	for name := range files {
		f, err := os.Open(filepath.Join(mp, name))
		if err != nil {
			t.Errorf("open %s: %v", name, err)
			return
		}
		defer f.Close()
		open[name] = f
	}
	readcheck.Random(t, seed, open, files, 3<<20, stop, st)
}

func TestHandle_ReadThroughRestart(t *testing.T) {
	files := map[string][]byte{
		"a.bin":     randomBytes(3<<20+12345, 11),
		"b.bin":     randomBytes(4<<20, 12),
		"dir/c.bin": randomBytes(5<<20-777, 13),
	}
	o := DefaultOptions()
	o.RetryTimeout = 30 * time.Second // well past a restart: nothing may fail
	var logs logBuffer
	o.Logger = logs.logger()
	srv, _, mp := minioMount(t, files, o)

	var st readcheck.Tally
	var outages []readcheck.Window
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			randomPreads(t, uint64(i), mp, files, stop, &st)
		}()
	}
	time.Sleep(time.Second)
	for range 2 {
		down := time.Now()
		srv.Kill()
		time.Sleep(time.Second)
		outages = append(outages, readcheck.Window{Start: down, End: time.Now()})
		if err := srv.Restart(); err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	close(stop)
	wg.Wait()

	across := st.Across(outages...)
	retried := func(op string) int { return strings.Count(logs.String(), `msg="mount: retrying" op=`+op+" ") }
	t.Logf("the mount retried %d reads, %d read-ahead fetches, %d stats, %d opens",
		retried("read"), retried("read-ahead"), retried("stat"), retried("open"))
	t.Logf("%d preads, %d across a restart (%d interrupted and made again); %d errors, %d short, %d wrong",
		st.Reads.Load(), across, st.EINTR.Load(), st.Errs.Load(), st.Short.Load(), st.Wrong.Load())
	if st.Failed() != 0 {
		t.Errorf("reads failed across MinIO restarts: %q", st.First())
	}
	if across == 0 {
		t.Error("no read was in flight across a restart: the outage was not exercised")
	}
}

func TestDirNode_LookupThroughRestart(t *testing.T) {
	files := map[string][]byte{"top.txt": []byte("top\n"), "later/x.txt": []byte("x\n"), "later/y.txt": []byte("y\n")}
	o := DefaultOptions()
	o.RetryTimeout = 30 * time.Second
	srv, _, mp := minioMount(t, files, o)
	if _, err := os.ReadDir(mp); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	type result struct {
		names []string
		err   error
		at    time.Time
	}
	done := make(chan result, 1)
	go func() {
		var r result
		var ents []os.DirEntry
		ents, r.err = os.ReadDir(filepath.Join(mp, "later")) // never listed yet
		for _, e := range ents {
			r.names = append(r.names, e.Name())
		}
		r.at = time.Now()
		done <- r
	}()
	time.Sleep(500 * time.Millisecond)
	restart := time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	t.Logf("restart took %s, listing returned %s after it began", time.Since(restart), r.at.Sub(restart))
	if r.err != nil || fmt.Sprint(r.names) != "[x.txt y.txt]" {
		t.Fatalf("ls later during the outage = %v, %v; want [x.txt y.txt]", r.names, r.err)
	}
	if r.at.Before(restart) {
		t.Errorf("the listing returned while the server was down: it was not listed during the outage")
	}
}

func TestHandle_ReadGivesUpAfterRetryTimeout(t *testing.T) {
	files := map[string][]byte{"a.bin": randomBytes(2<<20, 21), "later/b.txt": []byte("b\n")}
	o := DefaultOptions()
	o.RetryTimeout = 1500 * time.Millisecond
	srv, _, mp := minioMount(t, files, o)
	f, err := os.Open(filepath.Join(mp, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := readcheck.Evict(f); err != nil {
		t.Fatal(err)
	}

	srv.Kill() // and it stays down
	start := time.Now()
	_, err = syscall.Pread(int(f.Fd()), make([]byte, 1<<20), 1<<20)
	took := time.Since(start)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("pread from a server that stays down = %v, want EIO", err)
	}
	if took < o.RetryTimeout*9/10 {
		t.Errorf("pread failed after %s, before the retry timeout %s: it was not retried", took, o.RetryTimeout)
	}
	t.Logf("pread gave EIO after %s (retry timeout %s)", took, o.RetryTimeout)

	_, err = os.ReadDir(filepath.Join(mp, "later"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("ls of an unlisted directory of a server that stays down = %v, want EIO", err)
	}
}

func TestHandle_ReadOfReplacedObjectFailsAtOnce(t *testing.T) {
	old := randomBytes(2<<20, 31)
	o := DefaultOptions()
	o.RetryTimeout = 30 * time.Second
	srv, _, mp := minioMount(t, map[string][]byte{"a.bin": old}, o)
	f, err := os.Open(filepath.Join(mp, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	if n, err := syscall.Pread(int(f.Fd()), buf[:4096], 0); err != nil || !bytes.Equal(buf[:n], old[:4096]) {
		t.Fatalf("first read = %d, %v", n, err)
	}
	if _, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("mnt"),
		Key: aws.String("a.bin"), Body: bytes.NewReader(randomBytes(len(old), 32))}); err != nil {
		t.Fatal(err)
	}
	if err := readcheck.Evict(f); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := syscall.Pread(int(f.Fd()), buf, 1<<20)
	if err == nil && !bytes.Equal(buf[:n], old[1<<20:1<<20+n]) {
		t.Fatal("a read of an open file returned bytes of the object that replaced it")
	}
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read of an object replaced since open = %d, %v; want EIO", n, err)
	}
	if took := time.Since(start); took > o.RetryTimeout/3 {
		t.Errorf("EIO after %s: a replaced object was retried", took)
	}
}
