package fetch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs/local"
)

// testExecutor retries fast.
func testExecutor() *Executor {
	return NewExecutor(ExecutorOptions{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
}

func TestExecutor_Execute_us3(t *testing.T) {
	ctx := context.Background()
	o := startOrigin(t)
	sink := startEmuSink(t)
	x := testExecutor()
	cases := []struct {
		name, mode string
		size       int
		conc       int
		wantRanged bool
	}{
		{"ranged parallel multipart", "", 13<<20 + 12345, 3, true},
		{"no ranges, streamed multipart", "noranges", 9<<20 + 7, 2, false},
		{"ranges ignored, falls back to streaming", "liar", 6<<20 + 1, 2, true},
		{"no length at all", "chunked", 5<<20 + 3, 2, false},
		{"small single put", "", 100 << 10, 4, false},
		{"exactly one block", "noranges", 4 << 20, 4, false},
		{"empty", "", 0, 1, false},
		{"broken body once, retried", "flaky", 5<<20 + 11, 2, false},
		{"broken ranged body once, retried", "flakyranged", 9<<20 + 11, 2, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := randomBytes(c.size, uint64(i+1))
			key := "fetched/" + strings.ReplaceAll(c.name, " ", "-")
			u := o.add("/"+key, data, c.mode)
			ranged0 := o.ranged.Load()
			o.maxIn.Store(0)
			res := x.Execute(ctx, Task{ID: "t", URL: u, Key: key, Concurrency: c.conc, AllowPrivateURLs: true}, sink)
			if !res.OK {
				t.Fatalf("Execute failed: %s", res.Message)
			}
			if res.SHA1 != sha1Hex(data) || res.Size != int64(len(data)) {
				t.Fatalf("result SHA1 %s size %d; want %s %d", res.SHA1, res.Size, sha1Hex(data), len(data))
			}
			if res.ETag != us3ETag(data) {
				t.Fatalf("result ETag %s, want %s", res.ETag, us3ETag(data))
			}
			got := readStored(t, sink, key)
			if sha1Hex(got) != sha1Hex(data) {
				t.Fatalf("stored bytes differ: %d bytes, sha1 %s", len(got), sha1Hex(got))
			}
			head, err := sink.Head(ctx, key)
			if err != nil || head.ETag != res.ETag {
				t.Fatalf("Head ETag %q (%v), result %q", head.ETag, err, res.ETag)
			}
			if ranged := o.ranged.Load() - ranged0; (ranged > 0) != c.wantRanged {
				t.Fatalf("%d ranged GETs, want ranged %v", ranged, c.wantRanged)
			}
			if (c.mode == "flaky" && !o.flakyDone.Load()) || (c.mode == "flakyranged" && !o.flakyRangedDone.Load()) {
				t.Fatal("the origin never broke a body")
			}
			if m := o.maxIn.Load(); m > int64(c.conc) {
				t.Fatalf("%d requests in flight at once, concurrency %d", m, c.conc)
			}
		})
	}
}

func TestExecutor_Execute_failures(t *testing.T) {
	ctx := context.Background()
	o := startOrigin(t)
	sink := startEmuSink(t)
	x := testExecutor()
	cases := []struct {
		name, url string
		private   bool
		contains  []string
	}{
		{"404", o.add("/missing", nil, "404"), true, []string{"source returned 404 Not Found"}},
		{"reset", o.add("/reset", []byte("x"), "reset"), true, []string{"download failed"}},
		{"policy", o.add("/private", []byte("x"), ""), false, []string{"URL refused by policy", "127.0.0.1", "loopback"}},
		{"policy by name", strings.Replace(o.add("/private2", []byte("x"), ""), "127.0.0.1", "localhost", 1), false, []string{"URL refused by policy", "loopback"}},
		{"bad scheme", "ftp://example.com/x", true, []string{"scheme"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gets := o.gets.Load() + o.heads.Load()
			res := x.Execute(ctx, Task{ID: "t", URL: c.url, Key: "k/" + c.name, AllowPrivateURLs: c.private}, sink)
			if res.OK || res.Retry {
				t.Fatalf("Execute = %+v, want a final failure", res)
			}
			for _, s := range c.contains {
				if !strings.Contains(res.Message, s) {
					t.Fatalf("Message %q lacks %q", res.Message, s)
				}
			}
			if _, err := sink.Head(ctx, "k/"+c.name); err == nil {
				t.Fatal("a failed fetch stored an object")
			}
			if strings.HasPrefix(c.name, "policy") && o.gets.Load()+o.heads.Load() != gets {
				t.Fatal("the refused origin was contacted")
			}
		})
	}
	// A canceled context is a retryable failure.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if res := x.Execute(cctx, Task{URL: o.add("/c", []byte("abc"), ""), Key: "c", AllowPrivateURLs: true}, sink); res.OK || !res.Retry {
		t.Fatalf("canceled Execute = %+v, want retryable failure", res)
	}
}

// Any Sink works: a local directory (MD5 ETags, checked via Checksummer).
func TestExecutor_Execute_local(t *testing.T) {
	ctx := context.Background()
	o := startOrigin(t)
	dir := t.TempDir()
	sink, err := local.NewSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := NewExecutor(ExecutorOptions{PartSize: 1 << 20, RetryWaitMin: time.Millisecond})
	for i, size := range []int{3<<20 + 5, 1000} {
		data := randomBytes(size, uint64(100+i))
		key := filepath.Join("sub", "f"+string(rune('a'+i)))
		res := x.Execute(ctx, Task{URL: o.add("/l"+key, data, ""), Key: key, Concurrency: 2, AllowPrivateURLs: true}, sink)
		if !res.OK || res.SHA1 != sha1Hex(data) || res.ETag == "" {
			t.Fatalf("Execute %d = %+v", size, res)
		}
		got, err := os.ReadFile(filepath.Join(dir, key))
		if err != nil || sha1Hex(got) != sha1Hex(data) {
			t.Fatalf("stored file differs (%v)", err)
		}
	}
}
