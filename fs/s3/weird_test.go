package s3

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/miniotest"
)

// checkWalk checks that Walk(All) yields exactly objects, in key order,
// each with Path fs.KeyToPath(key), ObjectKey() the key, and its size.
func checkWalk(t *testing.T, st *Store, objects map[string][]byte) {
	t.Helper()
	got := walkAll(t, st, fs.All)
	if len(got) != len(objects) {
		t.Errorf("Walk: %d entries %q, want %d", len(got), entryPaths(got), len(objects))
	}
	for i, e := range got {
		data, ok := objects[e.ObjectKey()]
		switch {
		case !ok:
			t.Errorf("Walk yielded unknown key %q (path %q)", e.ObjectKey(), e.Path)
		case e.Path != fs.KeyToPath(e.ObjectKey()):
			t.Errorf("Walk: key %q has Path %q, want %q", e.ObjectKey(), e.Path, fs.KeyToPath(e.ObjectKey()))
		case e.Key != "" && e.Key == e.Path:
			t.Errorf("Walk: key %q: Key set though equal to Path", e.Key)
		case e.Size != int64(len(data)):
			t.Errorf("Walk: key %q: Size %d, want %d", e.ObjectKey(), e.Size, len(data))
		}
		if i > 0 && got[i-1].ObjectKey() >= e.ObjectKey() {
			t.Errorf("Walk: key %q after %q, want key order", e.ObjectKey(), got[i-1].ObjectKey())
		}
	}
}

// checkStatOpen checks that every object can be found by Stat and read by
// Open at its path; keys listed in clashes (files that share a directory's
// name) are found under fs.ClashName of their path.
func checkStatOpen(t *testing.T, st *Store, objects map[string][]byte, clashes ...string) {
	t.Helper()
	for key, data := range objects {
		p := fs.KeyToPath(key)
		for _, c := range clashes {
			if c == key {
				p = fs.ClashName(p)
			}
		}
		e, err := st.Stat(context.Background(), p)
		if err != nil {
			t.Errorf("Stat(%q) of key %q: %v", p, key, err)
			continue
		}
		if e.IsDir() || e.ObjectKey() != key || e.Size != int64(len(data)) {
			t.Errorf("Stat(%q) = {Path %q, Key %q, Size %d, dir %t}, want key %q size %d", p, e.Path, e.Key, e.Size, e.IsDir(), key, len(data))
		}
		if got := readFile(t, st, p); !bytes.Equal(got, data) {
			t.Errorf("read %q (key %q) = %q, want %q", p, key, got, data)
		}
	}
}

// checkDir checks ReadDir(dir) against the wanted paths, in order; a
// trailing "/" in want marks a directory.
func checkDir(t *testing.T, st *Store, dir string, want ...string) {
	t.Helper()
	got := readDirAll(t, st, dir)
	var paths []string
	for _, e := range got {
		p := e.Path
		if e.IsDir() {
			p += "/"
		}
		paths = append(paths, p)
	}
	if strings.Join(paths, "|") != strings.Join(want, "|") {
		t.Errorf("ReadDir(%q) = %q, want %q", dir, paths, want)
	}
}

func entryPaths(es []fs.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

// TestStore_WeirdKeysMinIO covers the awkward keys MinIO stores: folder
// markers (with and without content beside them, nested), a control
// character, a literal "%%", '+' and space (URL-encoded listings), and a
// 200-byte name whose escaped form exceeds 255 bytes (cut with a hash, so
// Stat and Open find it by listing the parent). MinIO refuses "a//b",
// "."/".." segments, segments over 255 bytes, invalid UTF-8 and NUL, and
// cannot list "a" beside "a/b": TestStore_WeirdKeys covers those.
func TestStore_WeirdKeysMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "weird")
	long := "lng/" + strings.Repeat("%%", 100)
	objects := map[string][]byte{
		"x/": {}, "x/y": []byte("in x"),
		"e/":   {},
		"u/v/": {}, "u/v/w": []byte("deep"),
		"ctl\x01x":    []byte("control"),
		"lit%%mark":   []byte("mark"),
		"plus+ space": []byte("plus"),
		long:          []byte("long escaped name"),
	}
	upload(t, srv, "weird", objects)
	st := newStore(t, srv, "weird", "")
	st.pageSize = 2
	checkWalk(t, st, objects)
	checkStatOpen(t, st, objects)

	lp := fs.KeyToPath(long)
	if _, exact := fs.PathToKey(lp); exact {
		t.Fatalf("test setup: %q maps to reversible path %q; want a hashed one", long, lp)
	}
	checkDir(t, st, "", fs.KeyToPath("lit%%mark"), "ctl\x01x", "e/", "lng/", "plus+ space", "u/", "x/")
	checkDir(t, st, "x", "x/y")
	checkDir(t, st, "e")
	checkDir(t, st, "u", "u/v/")
	checkDir(t, st, "u/v", "u/v/w")
	checkDir(t, st, "lng", lp)
	for _, d := range []string{"e", "x", "u/v"} {
		if e, err := st.Stat(context.Background(), d); err != nil || !e.IsDir() {
			t.Errorf("Stat(%q) = %+v, %v; want a directory", d, e, err)
		}
	}
}

// TestStore_WeirdKeys covers keys MinIO will not hold, over a loopback
// server speaking S3's listing and read protocol: a file and a directory of
// the same name, empty segments, "." and "..", a 300-byte segment, invalid
// UTF-8 and NUL.
func TestStore_WeirdKeys(t *testing.T) {
	seg300 := strings.Repeat("L", 300)
	objects := map[string][]byte{
		"a": []byte("file a"), "a/b": []byte("file a/b"), "a//b": []byte("empty segment"),
		"x/": {}, "x/y": []byte("y"),
		"d/./f": []byte("dot"), "d/../g": []byte("dotdot"),
		"long/" + seg300: []byte("300 bytes"),
		"bad\xff/k":      []byte("invalid utf-8"),
		"n\x00ul":        []byte("nul"),
	}
	endpoint := startKeyServer(t, "keys", objects)
	st, err := New(context.Background(), Config{Endpoint: endpoint, Bucket: "keys", AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	st.pageSize = 3
	ctx := context.Background()
	checkWalk(t, st, objects)
	checkStatOpen(t, st, objects, "a")

	checkDir(t, st, "", fs.KeyToPath("bad\xff")+"/", fs.KeyToPath("n\x00ul"), "a/", "a%%file", "d/", "long/", "x/")
	checkDir(t, st, "a", "a/%%/", "a/b")
	checkDir(t, st, "a/%%", "a/%%/b")
	checkDir(t, st, "d", "d/%%Lg/", "d/%%Li4/")
	checkDir(t, st, "x", "x/y")
	checkDir(t, st, "long", fs.KeyToPath("long/"+seg300))

	// The clash: "a" is the directory, "a%%file" the file, and Open of the
	// plain name (Walk's path) still reads the file.
	if e, err := st.Stat(ctx, "a"); err != nil || !e.IsDir() {
		t.Errorf("Stat(a) = %+v, %v; want the directory", e, err)
	}
	if e, err := st.Stat(ctx, "a%%file"); err != nil || e.IsDir() || e.ObjectKey() != "a" || e.Path != "a%%file" {
		t.Errorf("Stat(a%%%%file) = %+v, %v; want the file with key a", e, err)
	}
	if got := readFile(t, st, "a%%file"); string(got) != "file a" {
		t.Errorf("read a%%%%file = %q", got)
	}
	if e, err := st.Stat(ctx, "x/%%"); err != nil || e.ObjectKey() != "x/" || e.Size != 0 {
		t.Errorf("Stat(x/%%%%) = %+v, %v; want the folder marker x/", e, err)
	}
	for _, p := range []string{"x%%file", "%%YQ", "a/b%%file", "long/" + seg300[:200], "d/."} {
		if _, err := st.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q): err = %v, want fs.ErrNotExist", p, err)
		}
	}
	if err := st.ReadDir(ctx, "a%%file", func(fs.Entry) error { return nil }); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("ReadDir(a%%%%file): err = %v, want fs.ErrNotDir", err)
	}
	if _, err := st.Open(ctx, "d"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Open(d): err = %v, want fs.ErrIsDir", err)
	}

	// Range bounds are keys: [a/, b) holds "a//b" and "a/b" but not "a".
	var keys []string
	for _, e := range walkAll(t, st, fs.Range{Start: "a/", End: "b"}) {
		keys = append(keys, e.ObjectKey())
	}
	if strings.Join(keys, "|") != "a//b|a/b" {
		t.Errorf("Walk[a/, b) keys = %q, want [a//b a/b]", keys)
	}
	keys = nil
	for _, e := range walkAll(t, st, fs.Range{Start: "bad\xff"}) {
		keys = append(keys, e.ObjectKey())
	}
	if strings.Join(keys, "|") != "bad\xff/k|d/../g|d/./f|long/"+seg300+"|n\x00ul|x/|x/y" {
		t.Errorf("Walk[bad\\xff, ∞) keys = %q", keys)
	}
}
