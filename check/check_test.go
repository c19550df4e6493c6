package check_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/check"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/test/miniotest"
)

// writeTree writes files (path → content) under a new directory.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func localTree(t testing.TB, files map[string]string) fs.Tree {
	t.Helper()
	tr, err := local.New(writeTree(t, files))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// source and copy differ by one of each kind: "gone" is missing, "grown"
// resized, "flip" same-size different bytes, "stray" extra.
var (
	source = map[string]string{"a-c": "1", "a/b": "22", "a/z/deep": "333", "flip": "abcd", "gone": "x", "grown": "12", "same": "same"}
	copied = map[string]string{"a-c": "1", "a/b": "22", "a/z/deep": "333", "flip": "abce", "grown": "123", "same": "same", "stray": "s"}
)

// run checks src against dst and returns the counts and the differences
// by key.
func run(t *testing.T, src, dst fs.Tree, o check.Options) (check.Counts, map[string]check.Kind) {
	t.Helper()
	got := map[string]check.Kind{}
	var order []string
	counts, err := check.New(o).Run(context.Background(), src, dst, fs.All, func(d check.Difference) error {
		got[d.Key] = d.Kind
		order = append(order, d.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("counts %v, differences %v", counts, order)
	return counts, got
}

func wantDiffs(t *testing.T, got map[string]check.Kind, want map[string]check.Kind) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("differences %v, want %v", got, want)
	}
}

func TestJoin_LocalTrees(t *testing.T) {
	src, dst := localTree(t, source), localTree(t, copied)
	var keys []string
	err := check.Join(context.Background(), src, dst, fs.All, func(s, d *fs.Entry) error {
		k := ""
		switch {
		case s == nil:
			k = "+" + d.ObjectKey()
		case d == nil:
			k = "-" + s.ObjectKey()
		default:
			if s.ObjectKey() != d.ObjectKey() {
				t.Errorf("joined %q with %q", s.ObjectKey(), d.ObjectKey())
			}
			k = "=" + s.ObjectKey()
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[=a-c =a/b =a/z/deep =flip -gone =grown =same +stray]"
	if fmt.Sprint(keys) != want {
		t.Fatalf("join %v, want %v", keys, want)
	}
	if !sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i][1:] < keys[j][1:] }) {
		t.Fatalf("join not in key order: %v", keys)
	}
}

func TestJoin_StopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := check.Join(context.Background(), localTree(t, source), localTree(t, copied), fs.All, func(s, d *fs.Entry) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("err %v after %d calls, want stop after 2", err, n)
	}
}

// countingTree counts the entries its Walk has handed out.
type countingTree struct {
	fs.Tree
	n atomic.Int64
}

func (c *countingTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	return c.Tree.Walk(ctx, r, func(e fs.Entry) error {
		c.n.Add(1)
		return fn(e)
	})
}

// TestJoin_BoundedWindow: the destination walk never runs more than a
// window ahead of the source, whatever the object count: the join holds
// a bounded number of entries, never a listing.
func TestJoin_BoundedWindow(t *testing.T) {
	files := map[string]string{}
	for i := range 3000 {
		files[fmt.Sprintf("d%02d/f%05d", i%30, i)] = "x"
	}
	dir := writeTree(t, files)
	a, _ := local.New(dir)
	b, _ := local.New(dir)
	dst := &countingTree{Tree: b}
	n, ahead := int64(0), int64(0)
	err := check.Join(context.Background(), a, dst, fs.All, func(s, d *fs.Entry) error {
		if s == nil || d == nil {
			return fmt.Errorf("%v/%v unmatched", s, d)
		}
		n++
		if n%100 == 0 {
			time.Sleep(time.Millisecond) // let the destination walk run ahead if it could
		}
		ahead = max(ahead, dst.n.Load()-n)
		return nil
	})
	if err != nil || n != 3000 {
		t.Fatalf("joined %d, err %v", n, err)
	}
	if ahead > 300 {
		t.Fatalf("the destination walk ran %d entries ahead of the join", ahead)
	}
	t.Logf("at most %d destination entries held", ahead)
}

func TestChecker_LocalTrees(t *testing.T) {
	src, dst := localTree(t, source), localTree(t, copied)
	counts, got := run(t, src, dst, check.Options{})
	wantDiffs(t, got, map[string]check.Kind{"gone": check.Missing, "grown": check.Size, "stray": check.Extra})
	if counts[check.Same] != 5 || counts.Identical() || counts.Differences() != 3 {
		t.Fatalf("counts %v", counts)
	}

	counts, got = run(t, src, dst, check.Options{Download: true, Workers: 2, Buffer: 2})
	wantDiffs(t, got, map[string]check.Kind{"flip": check.Bytes, "gone": check.Missing, "grown": check.Size, "stray": check.Extra})
	if counts[check.Same] != 4 || counts[check.Bytes] != 1 {
		t.Fatalf("counts with --download %v", counts)
	}

	counts, got = run(t, src, localTree(t, source), check.Options{Download: true})
	if !counts.Identical() || len(got) != 0 || counts[check.Same] != int64(len(source)) {
		t.Fatalf("identical trees: counts %v, differences %v", counts, got)
	}
}

func TestChecker_Match(t *testing.T) {
	match := func(p string) bool { return !strings.HasPrefix(p, "g") && p != "stray" }
	counts, got := run(t, localTree(t, source), localTree(t, copied), check.Options{Match: match})
	if len(got) != 0 || counts[check.Same] != 5 {
		t.Fatalf("filtered: counts %v, differences %v", counts, got)
	}
}

func TestCompareChecksum(t *testing.T) {
	ctx := context.Background()
	md5a, md5b := strings.Repeat("a", 32), strings.Repeat("b", 32)
	obj := func(etag string) check.Object { return check.Object{Entry: fs.Entry{Path: "k", Size: 1, ETag: etag}} }
	for _, c := range []struct {
		a, b string
		want check.Kind
	}{
		{md5a, strings.ToUpper(md5a), check.Same},
		{md5a, md5b, check.Checksum},
		{md5a + "-2", md5b + "-2", check.Same}, // multipart: not comparable
		{md5a, md5b + "-2", check.Same},
		{md5a, "", check.Same},
		{"FoAAAAAAAAAAAAAAAAAAAAAAAAAA", "FoBBBBBBBBBBBBBBBBBBBBBBBBBB", check.Checksum}, // two US3 ETags
		{md5a, "FoBBBBBBBBBBBBBBBBBBBBBBBBBB", check.Same},                               // MD5 vs US3: not comparable
	} {
		k, _, err := check.CompareChecksum(ctx, obj(c.a), obj(c.b))
		if err != nil || k != c.want {
			t.Errorf("CompareChecksum(%q, %q) = %v, %v; want %v", c.a, c.b, k, err, c.want)
		}
	}
}

// TestChecker_LocalToMinIO checks a directory against MinIO copies: the
// checksums of single-part objects on both sides of MinIO → MinIO are
// compared, and --download reads MinIO objects.
func TestChecker_LocalToMinIO(t *testing.T) {
	ctx := context.Background()
	m := miniotest.Start(t)
	m.CreateBucket(t, "dst")
	m.CreateBucket(t, "src")
	put := func(bucket string, files map[string]string) {
		for k, v := range files {
			_, err := m.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("p/" + k), Body: bytes.NewReader([]byte(v))})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	put("dst", copied)
	put("src", source)
	store := func(bucket string) fs.Tree {
		s, err := s3.New(ctx, s3.Config{Endpoint: m.Endpoint, Region: m.Region, AccessKey: m.AccessKey, SecretKey: m.SecretKey,
			PathStyle: true, Bucket: bucket, Prefix: "p"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	src, dst := localTree(t, source), store("dst")

	_, got := run(t, src, dst, check.Options{})
	wantDiffs(t, got, map[string]check.Kind{"gone": check.Missing, "grown": check.Size, "stray": check.Extra})
	counts, got := run(t, src, dst, check.Options{Download: true})
	wantDiffs(t, got, map[string]check.Kind{"flip": check.Bytes, "gone": check.Missing, "grown": check.Size, "stray": check.Extra})
	if counts[check.Same] != 4 {
		t.Fatalf("counts %v", counts)
	}

	// MinIO → MinIO: both sides hold MD5 ETags, so the checksum alone
	// catches the same-size change.
	_, got = run(t, store("src"), dst, check.Options{})
	wantDiffs(t, got, map[string]check.Kind{"flip": check.Checksum, "gone": check.Missing, "grown": check.Size, "stray": check.Extra})
}
