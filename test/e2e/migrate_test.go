package e2e

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/miniotest"
)

// bigTree is the tree of the main migration tests: 10,000 small files, a
// 300 MB file, empty files and awkward names. It is built once.
var bigTree struct {
	once sync.Once
	dir  string
	want map[string][32]byte
}

func sharedBigTree(t *testing.T) (string, map[string][32]byte) {
	bigTree.once.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-e2e-tree-")
		if err != nil {
			t.Fatal(err)
		}
		bigTree.dir = dir
		bigTree.want = makeTree(t, dir, treeSpec{small: 10000, large: []int{300_000_000}, weird: true, seed: 1})
	})
	if bigTree.want == nil {
		t.Fatal("shared tree could not be built")
	}
	return bigTree.dir, bigTree.want
}

func TestMigrate_DirectoryToUS3(t *testing.T) {
	src, want := sharedBigTree(t)
	e := startEmu(t, "dst")
	cat := filepath.Join(t.TempDir(), "cat.db")
	r := mustFerry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/backup/", "--catalog", cat, "--progress", "line", "--progress-interval", "100ms")
	if !strings.Contains(r.stdout, "copied 10015 object(s)") || !strings.Contains(r.stdout, "0 failed") {
		t.Fatalf("summary %q: want 10015 objects copied, 0 failed", r.stdout)
	}
	if !strings.Contains(r.stderr, "progress: objects") {
		t.Fatalf("no periodic progress line on a non-terminal stderr: %s", tail(r.stderr, 500))
	}
	compareSums(t, "US3 (read back with ufile-gosdk)", want, e.readBack(t, "dst", "backup/"))
	if up := e.uploads(t); len(up) != 0 {
		t.Fatalf("pending multipart uploads left: %+v", up)
	}

	// Catalog commands see every object done.
	st := mustFerry(t, nil, "catalog", "stats", cat, "--format", "csv")
	if !strings.Contains(st.stdout, "done,10015,") || !strings.Contains(st.stdout, "failed,0,0") {
		t.Fatalf("catalog stats: %s", st.stdout)
	}

	// A second run over the unchanged tree copies nothing and says so.
	e.resetStats(t)
	r = mustFerry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/backup/", "--catalog", cat)
	if !strings.Contains(r.stdout, "nothing to copy: 10015 object(s) unchanged") {
		t.Fatalf("second run summary %q", r.stdout)
	}
	s := e.stats(t)
	for _, op := range []string{"PutFile", "UploadPart", "InitiateMultipart", "PostFile"} {
		if s.Requests[op] != 0 {
			t.Fatalf("second run sent %d %s requests: %+v", s.Requests[op], op, s.Requests)
		}
	}
}

func TestMigrate_DirectoryToMinIO(t *testing.T) {
	src, want := sharedBigTree(t)
	m := miniotest.Start(t)
	m.CreateBucket(t, "dst")
	cat := filepath.Join(t.TempDir(), "cat.db")
	mustFerry(t, minioEnv(m, ""), "migrate", "run", "--from", src, "--to", "s3://dst/copy", "--catalog", cat)
	compareSums(t, "MinIO (read back with the S3 API)", want, readBackS3(t, m.Client(), "dst", "copy/"))
	r := mustFerry(t, minioEnv(m, ""), "migrate", "run", "--from", src, "--to", "s3://dst/copy", "--catalog", cat)
	if !strings.Contains(r.stdout, "nothing to copy") {
		t.Fatalf("second run summary %q", r.stdout)
	}
}

// minioEnv returns the variables that reach m, with an optional FERRY_SRC_/FERRY_DST_ prefix.
func minioEnv(m *miniotest.Server, prefix string) map[string]string {
	return map[string]string{
		prefix + "AWS_ACCESS_KEY_ID": m.AccessKey, prefix + "AWS_SECRET_ACCESS_KEY": m.SecretKey,
		prefix + "AWS_ENDPOINT_URL": m.Endpoint, prefix + "AWS_REGION": m.Region,
	}
}

// readBackS3 downloads every object under bucket/prefix with the S3 API,
// returning key (relative to prefix) → SHA-256.
func readBackS3(t testing.TB, c *s3.Client, bucket, prefix string) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return hashAll(t, keys, prefix, func() func(key string, w io.Writer) error {
		return func(key string, w io.Writer) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("GetObject %q: %w", key, err)
			}
			defer out.Body.Close()
			_, err = io.Copy(w, out.Body)
			return err
		}
	})
}

// hashAll downloads keys with 8 workers (each with its own fetch function
// from newFetch) and returns key minus prefix → SHA-256.
func hashAll(t testing.TB, keys []string, prefix string, newFetch func() func(key string, w io.Writer) error) map[string][32]byte {
	t.Helper()
	got := make(map[string][32]byte, len(keys))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetch := newFetch()
			for k := range work {
				h := sha256.New()
				err := fetch(k, h)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil {
					got[strings.TrimPrefix(k, prefix)] = [32]byte(h.Sum(nil))
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("read back: %v", firstErr)
	}
	return got
}

func TestMigrate_KillAndResume(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{large: []int{96 << 20}, seed: 2}) // 24 US3 blocks of 4 MiB
	e := startEmu(t, "dst")
	cat := filepath.Join(t.TempDir(), "cat.db")
	cmd := exec.Command(bins.ferry, "migrate", "run", "--from", src, "--to", "us3://dst/", "--catalog", cat, "--bwlimit", "16MiB", "--workers", "4")
	cmd.Env = ferryEnv(e.env())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for e.stats(t).Succeeded["UploadPart"] < 8 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the migration never got 8 parts up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	ups := e.uploads(t)
	if len(ups) != 1 || ups[0].Parts < 8 || ups[0].Parts >= 24 {
		t.Fatalf("after kill -9: pending uploads %+v, want one half-done upload", ups)
	}
	held := int64(ups[0].Parts)

	e.resetStats(t)
	mustFerry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/", "--catalog", cat)
	s := e.stats(t)
	if got := s.Succeeded["UploadPart"]; got != 24-held {
		t.Fatalf("resumed run uploaded %d parts, want exactly the %d missing ones (%d were held)", got, 24-held, held)
	}
	if s.Requests["InitiateMultipart"] != 0 {
		t.Fatalf("resumed run started %d new uploads, want 0", s.Requests["InitiateMultipart"])
	}
	if up := e.uploads(t); len(up) != 0 {
		t.Fatalf("orphaned multipart uploads: %+v", up)
	}
	compareSums(t, "US3 after resume", want, e.readBack(t, "dst", ""))
}

func TestMigrate_FaultyDestination(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{small: 800, large: []int{30 << 20, 9 << 20}, weird: true, seed: 3})
	e := startEmu(t, "dst")
	e.setFaults(t, 0.10, 0.05)
	cat := filepath.Join(t.TempDir(), "cat.db")
	r := mustFerry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/", "--catalog", cat, "--attempts", "10")
	if s := e.stats(t); s.InjectedErrors == 0 || s.InjectedDrops == 0 {
		t.Fatalf("faults were not injected: %+v", s)
	}
	if !strings.Contains(r.stdout, "0 failed") {
		t.Fatalf("summary %q", r.stdout)
	}
	e.setFaults(t, 0, 0)
	compareSums(t, "US3 with faults", want, e.readBack(t, "dst", ""))
	if up := e.uploads(t); len(up) != 0 {
		t.Fatalf("orphaned multipart uploads: %+v", up)
	}
}

// TestMigrate_UnreadableSourceFile runs ferry as an unprivileged user (root
// reads any file) so that a mode-000 file is really unreadable.
func TestMigrate_UnreadableSourceFile(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run ferry as another user (uid 65534); as non-root, chmod 000 already works but the harness assumes root")
	}
	base, err := os.MkdirTemp("", "ferry-e2e-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(base, "src")
	want := makeTree(t, src, treeSpec{small: 50, weird: true, seed: 4})
	_ = filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			mode := os.FileMode(0o644)
			if fi.IsDir() {
				mode = 0o755
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
	bad := "small/d000/f00007.dat"
	if err := os.Chmod(filepath.Join(src, bad), 0); err != nil {
		t.Fatal(err)
	}
	delete(want, bad)
	e := startEmu(t, "dst")
	cat := filepath.Join(base, "cat.db")
	// A copy of the binary where uid 65534 can run it, wherever the
	// checkout lives.
	bin := filepath.Join(base, "ferry")
	data, err := os.ReadFile(bins.ferry)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "migrate", "run", "--from", src, "--to", "us3://dst/", "--catalog", cat)
	cmd.Env = append(ferryEnv(e.env()), "HOME="+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v, want 3 (finished with failures)\n%s", err, out)
	}
	if !strings.Contains(string(out), "1 object(s) failed") {
		t.Fatalf("output does not report the failure:\n%s", out)
	}
	compareSums(t, "US3 without the unreadable file", want, e.readBack(t, "dst", ""))
	f := mustFerry(t, nil, "catalog", "failed", cat, "--format", "csv")
	if !strings.Contains(f.stdout, bad) || !strings.Contains(f.stdout, "permission denied") {
		t.Fatalf("catalog failed does not list %s with its reason:\n%s", bad, f.stdout)
	}
}
