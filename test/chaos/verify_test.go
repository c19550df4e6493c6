package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dirDest is a destination held in a local directory, for testing check.
type dirDest struct{ dir string }

func (d dirDest) list(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(d.dir, p)
			if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		return err
	})
	return keys, err
}

func (d dirDest) get(_ context.Context, key string, w io.Writer) error {
	f, err := os.Open(filepath.Join(d.dir, filepath.FromSlash(key)))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func (d dirDest) openUploads(context.Context) (int, error) { return 0, nil }

// put writes key at the destination.
func (d dirDest) put(t *testing.T, key string, data []byte) {
	t.Helper()
	p := filepath.Join(d.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheck_Tally: check sorts destination objects into lost, corrupted
// (no version), stale (an older version) and extra, against every version
// a source rewrite recorded.
func TestCheck_Tally(t *testing.T) {
	src := newSource(t.TempDir())
	rng := rand.New(rand.NewPCG(1, 2))
	v1, v2, other := randomBytes(rng, 3000), randomBytes(rng, 2000), randomBytes(rng, 3000)
	for _, k := range []string{"final", "stale", "mixed", "lost"} {
		if err := src.write(k, v1); err != nil {
			t.Fatal(err)
		}
		if err := src.rewrite(k, v2, 512, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(src.dir, "final")); err != nil || string(got) != string(v2) {
		t.Fatalf("rewritten in place: %d bytes, %v; want the %d of the new version", len(got), err, len(v2))
	}
	d := dirDest{t.TempDir()}
	d.put(t, "p/final", v2)
	d.put(t, "p/stale", v1)
	d.put(t, "p/mixed", append(v2[:1000:1000], v1[1000:]...))
	d.put(t, "p/extra", other)
	got, err := check(context.Background(), d, "p/", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"lost", got.lost, []string{"lost"}},
		{"corrupted", got.corrupted, []string{"mixed"}},
		{"stale", got.stale, []string{"stale"}},
		{"extra", got.extra, []string{"extra"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.checked != 4 {
		t.Errorf("checked %d, want the 4 source files", got.checked)
	}
}

// TestResult_Verdict: lost or corrupted objects and problems fail a
// scenario; orphaned uploads are flagged without failing it.
func TestResult_Verdict(t *testing.T) {
	for _, c := range []struct {
		r    result
		want string
	}{
		{result{}, "pass"},
		{result{orphaned: 1}, "pass (orphaned uploads)"},
		{result{lost: 1}, "**FAIL**"},
		{result{corrupted: 1}, "**FAIL**"},
		{result{problems: []string{"x"}}, "**FAIL**"},
	} {
		if got := c.r.verdict(); got != c.want {
			t.Errorf("verdict of %+v = %q, want %q", c.r, got, c.want)
		}
	}
}
