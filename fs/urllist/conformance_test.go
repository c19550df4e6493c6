package urllist

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
)

// subTree presents the directory prefix of a tree as a tree of its own:
// every URL of one origin lives under its "127.0.0.1:port" directory, while
// fstest wants the fixture's keys at the root.
type subTree struct {
	t      fs.Tree
	prefix string
}

func (s subTree) full(p string) string {
	if p == "" {
		return s.prefix
	}
	return s.prefix + "/" + p
}

func (s subTree) trim(e fs.Entry) fs.Entry {
	cut := func(p string) string {
		return strings.TrimPrefix(strings.TrimPrefix(p, s.prefix), "/")
	}
	e.Path = cut(e.Path)
	if e.Key != "" {
		if e.Key = cut(e.Key); e.Key == e.Path {
			e.Key = ""
		}
	}
	return e
}

func (s subTree) Stat(ctx context.Context, p string) (fs.Entry, error) {
	e, err := s.t.Stat(ctx, s.full(p))
	return s.trim(e), err
}

func (s subTree) ReadDir(ctx context.Context, dir string, fn func(fs.Entry) error) error {
	return s.t.ReadDir(ctx, s.full(dir), func(e fs.Entry) error { return fn(s.trim(e)) })
}

func (s subTree) Walk(ctx context.Context, r fs.Range, fn func(fs.Entry) error) error {
	full := fs.Range{Start: s.prefix + "/" + r.Start, End: s.prefix + "0"} // '0' follows '/'
	if r.End != "" {
		full.End = s.prefix + "/" + r.End
	}
	return s.t.Walk(ctx, full, func(e fs.Entry) error { return fn(s.trim(e)) })
}

func (s subTree) Open(ctx context.Context, p string) (fs.File, error) {
	return s.t.Open(ctx, s.full(p))
}

func (s subTree) OpenEntry(ctx context.Context, e fs.Entry) (fs.File, error) {
	e.Path = s.full(e.Path)
	return s.t.(fs.EntryOpener).OpenEntry(ctx, e)
}

// fixtureOrigin serves fstest.Fixture() and returns a plain list of it.
func fixtureOrigin(t *testing.T, mode int, vers versioning) (*origin, fstest.Files, string) {
	files := fstest.Fixture()
	served := map[string][]byte{}
	for k, v := range files {
		served["/"+k] = v
	}
	o := newOrigin(t, mode, served)
	o.setVersioning(vers)
	lines := []string{"# the fstest fixture"}
	for k := range files {
		lines = append(lines, o.url("/"+k))
	}
	return o, files, writeList(t, lines...)
}

func TestTree_Conformance(t *testing.T) {
	for _, c := range []struct {
		name string
		mode int
		vers versioning
	}{
		{"ranges", modeRanges, versioning{}},
		{"ranges-etag", modeRanges, versioning{etag: true}},
		{"ignores-range", modeIgnore, versioning{}},
		{"no-head", modeNoHead, versioning{}},
		{"no-validator", modeRanges, versioning{noLastMod: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, files, list := fixtureOrigin(t, c.mode, c.vers)
			tree := openTree(t, list, testOptions(t))
			fstest.Run(t, files, subTree{t: tree, prefix: o.host()})

			// Nothing outside the origin's directory.
			var top []string
			tree.ReadDir(context.Background(), "", func(e fs.Entry) error { top = append(top, e.Path); return nil })
			if len(top) != 1 || top[0] != o.host() {
				t.Errorf("root holds %q, want only %q", top, o.host())
			}
			big := o.host() + "/" + fstest.BigKey
			if got, want := tree.SequentialOnly(big), c.mode == modeIgnore; got != want {
				t.Errorf("SequentialOnly(%q) = %v, want %v", big, got, want)
			}
		})
	}
}
