package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/miniotest"
)

// uploadTreeS3 puts every file of dir into bucket/prefix with the S3 API.
func uploadTreeS3(t testing.TB, c *s3.Client, bucket, prefix, dir string) {
	t.Helper()
	for rel := range hashDir(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + rel), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("put %s: %v", rel, err)
		}
	}
}

// uploadTreeUS3 puts every file of dir into bucket/prefix with ufile-gosdk.
func (e *emu) uploadTree(t testing.TB, bucket, prefix, dir string) {
	t.Helper()
	req := e.sdk(t, bucket)
	for rel := range hashDir(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := req.IOPut(bytes.NewReader(data), prefix+rel, "application/octet-stream"); err != nil {
			t.Fatalf("SDK IOPut %s: %v", rel, err)
		}
	}
}

// serveDir serves dir over HTTP on loopback (with Range support) and
// writes a TsvHttpData-1.0 list of every file; it returns the list path
// and the URL prefix ("127.0.0.1:PORT/").
func serveDir(t testing.TB, dir string) (list, hostPrefix string) {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	var b strings.Builder
	b.WriteString("TsvHttpData-1.0\n")
	rels := make([]string, 0)
	for rel := range hashDir(t, dir) {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(data)
		u := srv.URL + "/" + escapePath(rel)
		fmt.Fprintf(&b, "%s\t%d\t%s\n", u, len(data), base64.StdEncoding.EncodeToString(sum[:]))
	}
	list = filepath.Join(t.TempDir(), "list.tsv")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return list, strings.TrimPrefix(srv.URL, "http://") + "/"
}

func escapePath(rel string) string {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), " ", "%20"), "#", "%23"), "?", "%3F")
	}
	return strings.Join(segs, "/")
}

// mountSource runs `ferry mount src mp` in the background until the test
// ends, then stops it with SIGTERM (and lazily unmounts as a last resort).
func mountSource(t testing.TB, vars map[string]string, src string) string {
	t.Helper()
	mp := t.TempDir()
	cmd := exec.Command(bins.ferry, "mount", src, mp)
	cmd.Env = ferryEnv(vars)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), `msg="mounted `) {
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ferry mount did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = exec.Command("umount", "-l", mp).Run()
			_ = cmd.Process.Kill()
			t.Errorf("ferry mount did not exit on SIGTERM")
		}
	})
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("ferry mount %s did not come up: %s", src, log.String())
	}
	return mp
}

// checkMount compares the mounted tree with want (path → SHA-256): `find`
// output and every file's bytes; a write must fail with EROFS.
func checkMount(t *testing.T, mp string, want map[string][32]byte) {
	t.Helper()
	out, err := exec.Command("find", mp, "-type", "f").Output()
	if err != nil {
		t.Fatalf("find in the mount: %v", err)
	}
	var found []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		found = append(found, strings.TrimPrefix(l, mp+"/"))
	}
	var expect []string
	for k := range want {
		expect = append(expect, k)
	}
	sort.Strings(found)
	sort.Strings(expect)
	if strings.Join(found, "\n") != strings.Join(expect, "\n") {
		t.Fatalf("find lists %d files, want %d; first differences: %v", len(found), len(expect), firstDiff(found, expect))
	}
	dirs, err := exec.Command("find", mp, "-type", "d").Output()
	if err != nil {
		t.Fatalf("find -type d: %v", err)
	}
	wantDirs := map[string]bool{mp: true}
	for k := range want {
		for d := path.Dir(k); d != "."; d = path.Dir(d) {
			wantDirs[mp+"/"+d] = true
		}
	}
	if n := len(strings.Split(strings.TrimSpace(string(dirs)), "\n")); n != len(wantDirs) {
		t.Fatalf("find lists %d directories, want %d", n, len(wantDirs))
	}
	compareSums(t, "files read through the mount", want, hashDir(t, mp))
	err = os.WriteFile(filepath.Join(mp, "new-file"), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("creating a file in the mount: %v, want EROFS", err)
	}
	for k := range want {
		if err := os.Remove(filepath.Join(mp, k)); !errors.Is(err, syscall.EROFS) {
			t.Fatalf("removing %s: %v, want EROFS", k, err)
		}
		break
	}
}

func firstDiff(a, b []string) []string {
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	var d []string
	for k, v := range seen {
		if v != 0 {
			d = append(d, fmt.Sprintf("%s(%+d)", k, v))
		}
	}
	sort.Strings(d)
	return head(d)
}

// sourceTree is the tree the source-driver tests use.
func sourceTree(t *testing.T) (string, map[string][32]byte) {
	dir := t.TempDir()
	return dir, makeTree(t, dir, treeSpec{small: 150, large: []int{9<<20 + 7}, weird: true, seed: 11, perDirMax: 60})
}

func TestMount_EveryDriver(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Fatalf("/dev/fuse is missing: FUSE tests need it (%v)", err)
	}
	src, want := sourceTree(t)

	t.Run("local", func(t *testing.T) {
		checkMount(t, mountSource(t, nil, src), want)
	})
	t.Run("s3", func(t *testing.T) {
		m := miniotest.Start(t)
		m.CreateBucket(t, "src")
		uploadTreeS3(t, m.Client(), "src", "data/", src)
		checkMount(t, mountSource(t, minioEnv(m, ""), "s3://src/data"), want)
	})
	t.Run("us3", func(t *testing.T) {
		e := startEmu(t, "src")
		e.uploadTree(t, "src", "data/", src)
		checkMount(t, mountSource(t, e.env(), "us3://src/data"), want)
	})
	t.Run("urllist", func(t *testing.T) {
		list, host := serveDir(t, src)
		mp := mountSource(t, nil, "urllist://"+list)
		hostDir := strings.TrimSuffix(host, "/")
		checkMount(t, filepath.Join(mp, hostDir), want)
	})
}

func TestMigrate_FromMountPoint(t *testing.T) {
	src, want := sourceTree(t)
	m := miniotest.Start(t)
	m.CreateBucket(t, "src")
	uploadTreeS3(t, m.Client(), "src", "", src)
	mp := mountSource(t, minioEnv(m, ""), "s3://src")
	e := startEmu(t, "dst")
	mustFerry(t, e.env(), "migrate", "run", "--from", mp, "--to", "us3://dst/from-mount/", "--catalog", filepath.Join(t.TempDir(), "c.db"))
	compareSums(t, "US3 copy of a FUSE-mounted S3 bucket", want, e.readBack(t, "dst", "from-mount/"))
}

func TestMigrate_CrossCloud(t *testing.T) {
	src, want := sourceTree(t)
	a := miniotest.Start(t)
	a.CreateBucket(t, "src")
	uploadTreeS3(t, a.Client(), "src", "p/", src)

	t.Run("MinIO to US3", func(t *testing.T) {
		e := startEmu(t, "dst")
		vars := minioEnv(a, "")
		for k, v := range e.env() {
			vars[k] = v
		}
		mustFerry(t, vars, "migrate", "run", "--from", "s3://src/p", "--to", "us3://dst/q/", "--catalog", filepath.Join(t.TempDir(), "c.db"))
		compareSums(t, "US3 copy of MinIO", want, e.readBack(t, "dst", "q/"))
	})
	t.Run("MinIO to MinIO with other credentials", func(t *testing.T) {
		b := miniotest.Start(t)
		b.CreateBucket(t, "dst")
		if a.AccessKey == b.AccessKey {
			t.Fatal("the two servers share credentials; the test would prove nothing")
		}
		vars := minioEnv(a, "FERRY_SRC_")
		for k, v := range minioEnv(b, "FERRY_DST_") {
			vars[k] = v
		}
		mustFerry(t, vars, "migrate", "run", "--from", "s3://src/p", "--to", "s3://dst/q", "--catalog", filepath.Join(t.TempDir(), "c.db"))
		compareSums(t, "MinIO B copy of MinIO A", want, readBackS3(t, b.Client(), "dst", "q/"))
	})
	t.Run("URL list to US3", func(t *testing.T) {
		list, host := serveDir(t, src)
		e := startEmu(t, "dst")
		mustFerry(t, e.env(), "migrate", "run", "--from", "urllist://"+list, "--to", "us3://dst/", "--catalog", filepath.Join(t.TempDir(), "c.db"))
		got := map[string][32]byte{}
		for k, v := range e.readBack(t, "dst", host) {
			got[k] = v
		}
		compareSums(t, "US3 copy of a URL list", want, got)
	})
}

func TestLs_AndUS3Source(t *testing.T) {
	src, want := sourceTree(t)
	e := startEmu(t, "src")
	e.uploadTree(t, "src", "data/", src)

	top := mustFerry(t, e.env(), "ls", "us3://src/data")
	for _, dir := range []string{"small/", "large/", "unicode/", "with space/"} {
		if !strings.Contains(top.stdout, "  "+dir+"\n") {
			t.Fatalf("ferry ls does not show the directory %s:\n%s", dir, top.stdout)
		}
	}
	rec := mustFerry(t, e.env(), "ls", "--recursive", "--json", "us3://src/data")
	lines := strings.Split(strings.TrimSpace(rec.stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("ferry ls --recursive --json printed %d lines, want %d", len(lines), len(want))
	}
	prev := ""
	for _, l := range lines {
		var ent struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		}
		if err := json.Unmarshal([]byte(l), &ent); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, ok := want[ent.Key]; !ok || ent.Key <= prev {
			t.Fatalf("ferry ls --recursive: %q is unknown or out of key order (after %q)", ent.Key, prev)
		}
		prev = ent.Key
	}

	// US3 as a migration source, into a directory.
	dst := t.TempDir()
	mustFerry(t, e.env(), "migrate", "run", "--from", "us3://src/data", "--to", dst, "--catalog", filepath.Join(t.TempDir(), "c.db"))
	compareSums(t, "directory copy of a US3 prefix", want, hashDir(t, dst))
}
