package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/internal/syncbuf"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/transfer"
)

// countingSink wraps a real Sink, counts calls and can inject failures.
type countingSink struct {
	fs.Sink
	puts, parts, creates, completes atomic.Int64
	failEvery                       int64 // every Nth UploadPart/Put fails transiently (0: never)
	calls                           atomic.Int64
	onPart                          func(n int64) // called after each successful part
	onPut                           func()        // called before each Put reaches the sink
}

var errInjected = errors.New("injected transient failure")

func (s *countingSink) maybeFail() error {
	if s.failEvery > 0 && s.calls.Add(1)%s.failEvery == 0 {
		return errInjected
	}
	return nil
}

func (s *countingSink) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	if err := s.maybeFail(); err != nil {
		return fs.ObjectInfo{}, err
	}
	s.puts.Add(1)
	if s.onPut != nil {
		s.onPut()
	}
	return s.Sink.Put(ctx, key, r, size)
}

func (s *countingSink) CreateMultipart(ctx context.Context, key string, size, ps int64) (fs.Upload, error) {
	s.creates.Add(1)
	return s.Sink.CreateMultipart(ctx, key, size, ps)
}

func (s *countingSink) UploadPart(ctx context.Context, key, id string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	if err := s.maybeFail(); err != nil {
		return fs.Part{}, err
	}
	p, err := s.Sink.UploadPart(ctx, key, id, n, r, size)
	if err == nil {
		c := s.parts.Add(1)
		if s.onPart != nil {
			s.onPart(c)
		}
	}
	return p, err
}

func (s *countingSink) CompleteMultipart(ctx context.Context, key, id string, parts []fs.Part) (fs.ObjectInfo, error) {
	s.completes.Add(1)
	return s.Sink.CompleteMultipart(ctx, key, id, parts)
}

// IsPermanent and Checksummer must pass through the wrapper.
func (s *countingSink) IsPermanent(err error) bool {
	return !errors.Is(err, errInjected) && s.Sink.IsPermanent(err)
}

type checksumSink struct {
	*countingSink
	fs.Checksummer
}

type fixture struct {
	src, dst string
	files    map[string][]byte
	tree     fs.Tree
	sink     *countingSink
	cat      *catalog.DB
}

// remoteTree hides a local Tree's fs.Local extra, so the engine takes the
// path of object-store sources (parts read into memory).
type remoteTree struct{ fs.Tree }

// bothModes runs fn for a local source and for one read like a remote one.
func bothModes(t *testing.T, fn func(t *testing.T, remote bool)) {
	t.Run("local", func(t *testing.T) { fn(t, false) })
	t.Run("remote", func(t *testing.T) { fn(t, true) })
}

func newFixtureMode(t *testing.T, files map[string][]byte, remote bool) *fixture {
	f := newFixture(t, files)
	if remote {
		f.tree = remoteTree{f.tree}
	}
	return f
}

func newFixture(t *testing.T, files map[string][]byte) *fixture {
	t.Helper()
	f := &fixture{src: t.TempDir(), dst: t.TempDir(), files: files}
	for name, data := range files {
		p := filepath.Join(f.src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if f.tree, err = local.New(f.src); err != nil {
		t.Fatal(err)
	}
	ls, err := local.NewSink(f.dst)
	if err != nil {
		t.Fatal(err)
	}
	f.sink = &countingSink{Sink: ls}
	f.cat = openCatalog(t, filepath.Join(t.TempDir(), "cat.db"))
	return f
}

func openCatalog(t *testing.T, path string) *catalog.DB {
	db, err := catalog.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *fixture) sinkWithChecksum() fs.Sink {
	return checksumSink{f.sink, f.sink.Sink.(fs.Checksummer)}
}

func (f *fixture) run(t *testing.T, ctx context.Context, opts transfer.Options) transfer.Result {
	t.Helper()
	e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(ctx, fs.All)
	if err != nil && ctx.Err() == nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func (f *fixture) checkDest(t *testing.T) {
	t.Helper()
	for name, data := range f.files {
		got, err := os.ReadFile(filepath.Join(f.dst, filepath.FromSlash(name)))
		if err != nil {
			t.Fatalf("destination %s: %v", name, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("destination %s: %d bytes differ from the source's %d", name, len(got), len(data))
		}
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sampleFiles() map[string][]byte {
	files := map[string][]byte{"empty": {}, "dir/with space.txt": []byte("x"), "ü/日本.txt": []byte("unicode")}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("small/%03d", i)] = randBytes(uint64(i), 1+i*37)
	}
	files["large/a.bin"] = randBytes(1000, 5<<20+12345)
	files["large/b.bin"] = randBytes(1001, 3<<20)
	return files
}

func TestEngine_Run(t *testing.T) { bothModes(t, testEngineRun) }

func testEngineRun(t *testing.T, remote bool) {
	f := newFixtureMode(t, sampleFiles(), remote)
	res := f.run(t, context.Background(), transfer.Options{Workers: 4, PartSize: 1 << 20})
	if res.Copied != int64(len(f.files)) || res.Failed != 0 {
		t.Fatalf("first run: %+v, want %d copied", res, len(f.files))
	}
	f.checkDest(t)
	if got := f.sink.creates.Load(); got != 2 {
		t.Fatalf("multipart uploads = %d, want 2 (the two large files)", got)
	}
	st, err := f.cat.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.ByState[catalog.StateDone] != int64(len(f.files)) {
		t.Fatalf("catalog: %+v, want every object done", st)
	}

	// A second run copies nothing.
	puts, parts := f.sink.puts.Load(), f.sink.parts.Load()
	res = f.run(t, context.Background(), transfer.Options{Workers: 4, PartSize: 1 << 20})
	if res.Planned != 0 || res.Unchanged != int64(len(f.files)) || f.sink.puts.Load() != puts || f.sink.parts.Load() != parts {
		t.Fatalf("second run: %+v (puts %d→%d, parts %d→%d), want nothing copied", res, puts, f.sink.puts.Load(), parts, f.sink.parts.Load())
	}
	if res.Cursor != "ü/日本.txt" {
		t.Fatalf("cursor = %q, want the last path", res.Cursor)
	}

	// A changed file is copied again, and only it.
	f.files["small/007"] = []byte("changed content")
	if err := os.WriteFile(filepath.Join(f.src, "small/007"), f.files["small/007"], 0o644); err != nil {
		t.Fatal(err)
	}
	res = f.run(t, context.Background(), transfer.Options{Workers: 4, PartSize: 1 << 20})
	if res.Copied != 1 || res.Unchanged != int64(len(f.files)-1) {
		t.Fatalf("third run: %+v, want exactly the changed file copied", res)
	}
	f.checkDest(t)
}

func TestEngine_RunTransientFailures(t *testing.T) { bothModes(t, testEngineRunTransientFailures) }

func testEngineRunTransientFailures(t *testing.T, remote bool) {
	f := newFixtureMode(t, sampleFiles(), remote)
	f.sink.failEvery = 4
	var log syncbuf.Buffer
	opts := transfer.Options{Workers: 4, PartSize: 1 << 20, RetryBase: 1,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), fs.All)
	if err != nil || res.Failed != 0 || res.Copied != int64(len(f.files)) {
		t.Fatalf("Run = %+v, %v; want every object copied despite failures", res, err)
	}
	if e.Retries() == 0 {
		t.Fatal("no retries counted although every 4th request failed")
	}
	if got := int64(strings.Count(log.String(), "msg=retrying")); got != e.Retries() ||
		!strings.Contains(log.String(), errInjected.Error()) {
		t.Errorf("%d retries logged with their error, want %d:\n%s", got, e.Retries(), log.String())
	}
	f.checkDest(t)
}

func TestEngine_RunResumesMultipart(t *testing.T) { bothModes(t, testEngineRunResumesMultipart) }

func testEngineRunResumesMultipart(t *testing.T, remote bool) {
	files := map[string][]byte{"big.bin": randBytes(7, 10<<20+3)}
	f := newFixtureMode(t, files, remote)
	ctx, cancel := context.WithCancel(context.Background())
	f.sink.onPart = func(n int64) {
		if n == 4 {
			cancel()
		}
	}
	f.run(t, ctx, transfer.Options{Workers: 2, PartSize: 1 << 20})
	done := f.sink.parts.Load()
	if done < 4 || done >= 11 {
		t.Fatalf("parts before the stop = %d, want a partial upload", done)
	}
	o, ok, err := f.cat.Get(context.Background(), "big.bin")
	if err != nil || !ok || o.UploadID == "" || o.State == catalog.StateDone {
		t.Fatalf("catalog row after stop: %+v %v %v, want an unfinished upload recorded", o, ok, err)
	}

	f.sink.onPart = nil
	res := f.run(t, context.Background(), transfer.Options{Workers: 2, PartSize: 1 << 20})
	if res.Copied != 1 {
		t.Fatalf("resumed run: %+v", res)
	}
	if total := f.sink.parts.Load(); total != 11 {
		t.Fatalf("parts uploaded in all = %d, want 11 (each part once)", total)
	}
	if f.sink.creates.Load() != 1 {
		t.Fatalf("multipart uploads started = %d, want 1 (resumed, not restarted)", f.sink.creates.Load())
	}
	f.checkDest(t)
}

// failingTree makes one path unreadable.
type failingTree struct {
	fs.Tree
	bad string
}

func (t failingTree) Open(ctx context.Context, p string) (fs.File, error) {
	if p == t.bad {
		return nil, fmt.Errorf("open %s: %w", p, fs.ErrPermission)
	}
	return t.Tree.Open(ctx, p)
}

func TestEngine_RunUnreadableObject(t *testing.T) {
	f := newFixture(t, sampleFiles())
	f.tree = failingTree{f.tree, "small/010"}
	res := f.run(t, context.Background(), transfer.Options{Workers: 4, PartSize: 1 << 20})
	if res.Failed != 1 || res.Copied != int64(len(f.files)-1) {
		t.Fatalf("Run = %+v, want 1 failed and the rest copied", res)
	}
	var failed []catalog.Object
	_ = f.cat.List(context.Background(), catalog.ListOptions{State: catalog.StateFailed}, func(o catalog.Object) error {
		failed = append(failed, o)
		return nil
	})
	if len(failed) != 1 || failed[0].Path != "small/010" || !strings.Contains(failed[0].LastError, "permission") {
		t.Fatalf("failed rows = %+v", failed)
	}
}

func TestEngine_RunDryRunAndFilters(t *testing.T) {
	f := newFixture(t, sampleFiles())
	var out bytes.Buffer
	res := f.run(t, context.Background(), transfer.Options{DryRun: true, DryRunOut: &out, Include: []string{"small/**"}, Exclude: []string{"*5"}})
	if res.Planned != 270 || strings.Count(out.String(), "would copy") != 270 {
		t.Fatalf("dry run planned %d, printed %d lines; want 270", res.Planned, strings.Count(out.String(), "would copy"))
	}
	if f.sink.puts.Load() != 0 {
		t.Fatal("dry run wrote to the destination")
	}
	if st, _ := f.cat.Stats(context.Background()); st.Total != 0 {
		t.Fatalf("dry run wrote %d catalog rows", st.Total)
	}
	entries, _ := os.ReadDir(f.dst)
	if len(entries) != 0 {
		t.Fatalf("dry run created %d entries at the destination", len(entries))
	}
}

func TestFilter_Match(t *testing.T) {
	f, err := transfer.NewFilter([]string{"*.jpg", "logs/**"}, []string{"tmp/**", "*.tmp.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"a.jpg": true, "x/y/b.jpg": true, "logs/2024/a.txt": true, "tmp/a.jpg": false,
		"x/c.tmp.jpg": false, "x/a.png": false, "logsx/a": false,
	} {
		if got := f.Match(p); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
	if _, err := transfer.NewFilter([]string{"[abc"}, nil); err == nil {
		t.Fatal("NewFilter accepted an unclosed class")
	}
}

func TestEngine_SetEnd(t *testing.T) {
	f := newFixture(t, sampleFiles())
	e, err := transfer.New(f.tree, f.sinkWithChecksum(), f.cat, transfer.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.SetEnd("small/100")
	res, err := e.Run(context.Background(), fs.All)
	if err != nil {
		t.Fatal(err)
	}
	// dir/…, empty, large/a.bin, large/b.bin and small/000–099.
	if res.Copied != 104 {
		t.Fatalf("copied %d, want the 104 paths below the lowered end", res.Copied)
	}
	if _, err := os.Stat(filepath.Join(f.dst, "small/100")); !os.IsNotExist(err) {
		t.Fatalf("small/100 was copied past the end: %v", err)
	}
}

// forgetfulCatalog simulates a crash that lost the catalog's part rows.
func TestEngine_RunResumesUnrecordedParts(t *testing.T) {
	bothModes(t, testEngineRunResumesUnrecordedParts)
}

func testEngineRunResumesUnrecordedParts(t *testing.T, remote bool) {
	files := map[string][]byte{"big.bin": randBytes(9, 8<<20)}
	f := newFixtureMode(t, files, remote)
	ctx, cancel := context.WithCancel(context.Background())
	f.sink.onPart = func(n int64) {
		if n == 3 {
			cancel()
		}
	}
	f.run(t, ctx, transfer.Options{Workers: 1, PartSize: 1 << 20})
	stored := f.sink.parts.Load()
	if err := f.cat.Write(context.Background(), func(w *catalog.Writer) error { return w.DeleteParts("big.bin") }); err != nil {
		t.Fatal(err)
	}
	f.sink.onPart = nil
	res := f.run(t, context.Background(), transfer.Options{Workers: 2, PartSize: 1 << 20})
	if res.Copied != 1 {
		t.Fatalf("resumed run: %+v", res)
	}
	if again := f.sink.parts.Load() - stored; again != 8-stored {
		t.Fatalf("resumed run uploaded %d parts, want %d (stored parts re-verified from the source, not re-sent)", again, 8-stored)
	}
	f.checkDest(t)
}

// readCountingTree counts the bytes read from a local Tree's files,
// keeping its fs.Local extra.
type readCountingTree struct {
	*local.Tree
	read atomic.Int64
}

func (t *readCountingTree) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := t.Tree.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	return countingFile{f, &t.read}, nil
}

func (t *readCountingTree) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	f, err := t.Tree.OpenEntry(ctx, e)
	if err != nil {
		return nil, err
	}
	return countingFile{f, &t.read}, nil
}

type countingFile struct {
	fs.File
	read *atomic.Int64
}

func (f countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.read.Add(int64(n))
	return n, err
}

// summingSink checks that every body it is given carries the Sink's hash
// of exactly its bytes (fs.SummedBody).
type summingSink struct {
	*countingSink
	fs.Checksummer
	bad atomic.Int64
}

func (s *summingSink) check(r io.ReadSeeker) {
	sb, ok := r.(fs.SummedBody)
	h := s.PartHash(0)
	defer fs.CloseHash(h)
	if _, err := io.Copy(h, r); err != nil || !ok || !bytes.Equal(sb.PartSum(), h.Sum(nil)) {
		s.bad.Add(1)
	}
	_, _ = r.Seek(0, io.SeekStart)
}

func (s *summingSink) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	s.check(r)
	return s.countingSink.Put(ctx, key, r, size)
}

func (s *summingSink) UploadPart(ctx context.Context, key, id string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	s.check(r)
	return s.countingSink.UploadPart(ctx, key, id, n, r, size)
}

// TestEngine_Run_ReadsSmallLocalFilesOnce: a local object that fits in
// one read chunk is uploaded from the bytes that were hashed (read once),
// a larger one is hashed and then streamed (read twice), and every body
// carries its sum.
func TestEngine_Run_ReadsSmallLocalFilesOnce(t *testing.T) {
	files := map[string][]byte{"a": randBytes(1, 16<<10), "b": randBytes(2, 700<<10), "c": randBytes(3, 3<<20+5)}
	f := newFixture(t, files)
	ct := &readCountingTree{Tree: f.tree.(*local.Tree)}
	sink := &summingSink{countingSink: f.sink, Checksummer: f.sink.Sink.(fs.Checksummer)}
	e, err := transfer.New(ct, sink, f.cat, transfer.Options{Workers: 4, PartSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), fs.All); err != nil {
		t.Fatal(err)
	}
	f.checkDest(t)
	// The 3 MiB file is read three times: hashed, streamed to the sink,
	// and read by summingSink's own check.
	if want := int64(16<<10 + 700<<10 + 3*(3<<20+5)); ct.read.Load() != want {
		t.Errorf("read %d bytes from the source, want %d (small files once, the 3 MiB one thrice)", ct.read.Load(), want)
	}
	if n := sink.bad.Load(); n != 0 {
		t.Errorf("%d bodies without their right sum", n)
	}
}
