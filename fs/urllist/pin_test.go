package urllist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// A URL replaced while it is read: every origin that names its versions
// (ETag or Last-Modified), whether it honours the conditions (412),
// If-Range only (200 with the new version) or none of them (206 of the new
// version), and one without any validator whose size changes. The read
// fails with fs.ErrChanged and returns only bytes of the version opened;
// the tree then describes the new version, refuses to open the old entry
// and reads the new one whole.
func TestFile_ReadAtChangedURL(t *testing.T) {
	const mib = 1 << 20
	oldData, newData := randomBytes(3*mib), bytes.Repeat([]byte("new version "), 3*mib/12)
	cases := []struct {
		name string
		mode int
		vers versioning
		path string
		tsv  bool   // listed with its size: no HEAD, pinned by the first response
		new  []byte // the new version (default newData, same size)
	}{
		{"etag, conditions honoured", modeRanges, versioning{etag: true}, "/f", false, nil},
		{"etag, If-Range only", modeRanges, versioning{etag: true, ifRangeOnly: true}, "/f", false, nil},
		{"etag, conditions ignored", modeRanges, versioning{etag: true, ignoreIf: true}, "/f", false, nil},
		{"Last-Modified, conditions honoured", modeRanges, versioning{}, "/f", false, nil},
		{"Last-Modified, If-Range only", modeRanges, versioning{ifRangeOnly: true}, "/f", false, nil},
		{"Last-Modified, conditions ignored", modeRanges, versioning{ignoreIf: true}, "/f", false, nil},
		{"etag, listed size, conditions ignored", modeRanges, versioning{etag: true, ignoreIf: true}, "/f", true, nil},
		{"no validator, size changes", modeRanges, versioning{noLastMod: true}, "/f", false, newData[:2*mib]},
		{"no Range support, etag, body cut", modeIgnore, versioning{etag: true}, "/cut/f", false, nil},
		{"no Range support, Last-Modified, body cut", modeIgnore, versioning{}, "/cut/f", false, nil},
		{"no Range support, listed size, body cut", modeIgnore, versioning{etag: true}, "/cut/f", true, nil},
		{"no Range support, no validator, size changes, body cut", modeIgnore, versioning{noLastMod: true}, "/cut/f", false, newData[:2*mib]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			next := c.new
			if next == nil {
				next = newData
			}
			o := newOrigin(t, c.mode, map[string][]byte{c.path: oldData})
			o.setVersioning(c.vers)
			line := o.url(c.path)
			if c.tsv {
				line = fmt.Sprintf("%s\t%d", line, len(oldData))
			}
			tree := openTree(t, writeList(t, TSVHeader, line), testOptions(t))
			path := o.host() + c.path
			walked, err := tree.Stat(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := tree.OpenEntry(ctx, walked)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()

			// The first read is of the version opened; a later one meets
			// the new version: a new ranged GET, or the resumption of a
			// body cut after 1000 bytes.
			p := make([]byte, mib)
			if n, err := f.ReadAt(p[:500], 0); n != 500 || err != nil || !bytes.Equal(p[:n], oldData[:n]) {
				t.Fatalf("first read: %d bytes, %v", n, err)
			}
			o.replace(c.path, 0, next)
			off := int64(2 * mib)
			if c.mode == modeIgnore {
				off = 500
			}
			n, err := f.ReadAt(p, off)
			if !errors.Is(err, fs.ErrChanged) {
				t.Fatalf("read across the change: %d bytes, err %v; want fs.ErrChanged", n, err)
			}
			if !bytes.Equal(p[:n], oldData[off:off+int64(n)]) {
				t.Fatalf("read across the change returned %d bytes that are not of the version opened", n)
			}

			now, err := tree.Stat(ctx, path)
			if err != nil || now.Size != int64(len(next)) || now.Version == walked.Version {
				t.Fatalf("Stat after the change = %+v, %v; want the new version (walked %+v)", now, err, walked)
			}
			if _, err := tree.OpenEntry(ctx, walked); !errors.Is(err, fs.ErrChanged) {
				t.Fatalf("OpenEntry of the walked entry after the change: err = %v, want fs.ErrChanged", err)
			}
			g, err := tree.OpenEntry(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if got, err := io.ReadAll(io.NewSectionReader(g, 0, now.Size)); err != nil || !bytes.Equal(got, next) {
				t.Fatalf("read of the new version: %d bytes, %v", len(got), err)
			}
		})
	}
}

// Every GET of a URL whose version has a name is conditional on it, and a
// version that does not change is read whole: no false alarm from an
// origin that honours the conditions.
func TestFile_ReadAtPinnedUnchanged(t *testing.T) {
	data := randomBytes(3<<20 + 5)
	for _, vers := range []versioning{{etag: true}, {}, {noLastMod: true}} {
		for _, mode := range []int{modeRanges, modeIgnore} {
			o := newOrigin(t, mode, map[string][]byte{"/f": data})
			o.setVersioning(vers)
			tree := openTree(t, writeList(t, o.url("/f")), testOptions(t))
			f := openFile(t, tree, o.host()+"/f")
			checkRandomReads(t, f, data, 20)
			gets, cond := o.count("GET", "/f"), o.count("COND", "/f")
			want := gets // with nothing to name the version, nothing to send
			if vers.noLastMod {
				want = 0
			}
			if cond != want {
				t.Errorf("versioning %+v, mode %d: %d of %d GETs conditional, want %d", vers, mode, cond, gets, want)
			}
		}
	}
}
