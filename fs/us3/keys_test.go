package us3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// weirdKeys are keys a native US3 bucket may hold that are awkward as URL
// paths or as file names.
func weirdKeys() []string {
	return []string{
		"sp ace/file name.txt",
		"ü/日本.txt",
		"100% done",
		"a+b=c",
		"#hash",
		"what?.txt",
		"q?x=1&y=2#frag",
		strings.Repeat("L", 200),
		strings.Repeat("y", 300) + "/inside", // a segment cut with a hash in its path
		"a",
		"a/b",
		"a//b",
		"m/", // folder marker
		"dot/./x",
		"%2F",
	}
}

func TestStore_WeirdKeys(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	s := e.store(t, "w")
	ctx := context.Background()
	keys := weirdKeys()
	content := map[string][]byte{}
	for i, k := range keys {
		data := pattern(i, 10+i)
		if k == "m/" {
			data = nil
		}
		content[k] = data
		if _, err := s.Put(ctx, k, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	for _, k := range keys {
		hi, err := s.Head(ctx, k)
		if err != nil || hi.Size != int64(len(content[k])) {
			t.Errorf("Head(%q) = %+v, %v; want size %d", k, hi, err, len(content[k]))
		}
		if got, err := e.sdkGet(t, "w/"+k); err != nil || !bytes.Equal(got, content[k]) {
			t.Errorf("SDK download of %q: %q, %v", k, got, err)
		}
		p := fs.KeyToPath(k)
		f, err := s.Open(ctx, p)
		if err != nil {
			t.Errorf("Open(%q) for key %q: %v", p, k, err)
			continue
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
		f.Close()
		if err != nil || !bytes.Equal(got, content[k]) {
			t.Errorf("read %q: %q, %v; want %q", p, got, err, content[k])
		}
	}

	// Walk yields every key once, in key order, Path = KeyToPath(key).
	var walked []string
	err := s.Walk(ctx, fs.All, func(en fs.Entry) error {
		if en.Path != fs.KeyToPath(en.ObjectKey()) {
			t.Errorf("Walk: Path %q for key %q, want %q", en.Path, en.ObjectKey(), fs.KeyToPath(en.ObjectKey()))
		}
		if en.Size != int64(len(content[en.ObjectKey()])) || en.ETag == "" {
			t.Errorf("Walk: %q size %d ETag %q", en.ObjectKey(), en.Size, en.ETag)
		}
		walked = append(walked, en.ObjectKey())
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if strings.Join(walked, "\n") != strings.Join(want, "\n") {
		t.Errorf("Walk keys:\n%q\nwant\n%q", walked, want)
	}
	// Ranges starting at awkward keys start exactly there.
	for _, start := range []string{"a", "a/b", "a//b", "#hash", "ü/日本.txt", "a\x00", "b"} {
		var got []string
		err := s.Walk(ctx, fs.Range{Start: start, End: "q"}, func(en fs.Entry) error {
			got = append(got, en.ObjectKey())
			return nil
		})
		var exp []string
		for _, k := range want {
			if k >= start && k < "q" {
				exp = append(exp, k)
			}
		}
		if err != nil || strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Errorf("Walk[%q, q) = %q, %v; want %q", start, got, err, exp)
		}
	}

	// The clash rule: directory "a" keeps the name; file "a" is "a%%file".
	root := readDir(t, s, "")
	for _, w := range []string{"a/", "a%%file", "m/", "%2F", "sp ace/", "dot/", "#hash"} {
		if !contains(root, w) {
			t.Errorf("ReadDir(\"\") = %q, lacks %q", root, w)
		}
	}
	if a := readDir(t, s, "a"); strings.Join(a, ",") != "%%/,b" {
		t.Errorf("ReadDir(a) = %q, want [%%%%/ b]", a)
	}
	if m := readDir(t, s, "m"); len(m) != 0 {
		t.Errorf("ReadDir(m) = %q, want the folder marker hidden", m)
	}
	if d := readDir(t, s, "dot/%%Lg"); strings.Join(d, ",") != "x" {
		t.Errorf("ReadDir(dot/%%%%Lg) = %q, want [x]", d)
	}
	if st, err := s.Stat(ctx, "a"); err != nil || !st.IsDir() {
		t.Errorf("Stat(a) = %+v, %v; want the directory", st, err)
	}
	if st, err := s.Stat(ctx, "a%%file"); err != nil || st.IsDir() || st.ObjectKey() != "a" || st.Size != int64(len(content["a"])) {
		t.Errorf("Stat(a%%%%file) = %+v, %v; want file a", st, err)
	}
	if st, err := s.Stat(ctx, "m/%%"); err != nil || st.IsDir() || st.ObjectKey() != "m/" {
		t.Errorf("Stat(m/%%%%) = %+v, %v; want the folder marker m/", st, err)
	}
	if _, err := s.Stat(ctx, "0%%file"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a clash name without a clash: %v, want fs.ErrNotExist", err)
	}
	if err := s.ReadDir(ctx, "#hash", func(fs.Entry) error { return nil }); !errors.Is(err, fs.ErrNotDir) {
		t.Errorf("ReadDir of a file: %v, want fs.ErrNotDir", err)
	}
	if _, err := s.Open(ctx, "sp ace"); !errors.Is(err, fs.ErrIsDir) {
		t.Errorf("Open of a directory: %v, want fs.ErrIsDir", err)
	}

	// A 300-byte segment is shown cut with a hash and found by listing.
	long := fs.KeyToPath(strings.Repeat("y", 300) + "/inside")
	dir := strings.TrimSuffix(long, "/inside")
	if !contains(root, dir[strings.LastIndex(dir, "/")+1:]+"/") {
		t.Errorf("ReadDir(\"\") = %q, lacks the cut long name %q", root, dir)
	}
	if in := readDir(t, s, dir); strings.Join(in, ",") != "inside" {
		t.Errorf("ReadDir(%q) = %q, want [inside]", dir, in)
	}
	if st, err := s.Stat(ctx, long); err != nil || st.ObjectKey() != strings.Repeat("y", 300)+"/inside" {
		t.Errorf("Stat(%q) = %+v, %v", long, st, err)
	}
}

// readDir lists dir and returns the names, with "/" after directories.
func readDir(t *testing.T, s fs.Tree, dir string) []string {
	t.Helper()
	var names []string
	err := s.ReadDir(context.Background(), dir, func(e fs.Entry) error {
		name := e.Path[strings.LastIndex(e.Path, "/")+1:]
		if e.IsDir() {
			name += "/"
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		t.Errorf("ReadDir(%q): %v", dir, err)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
