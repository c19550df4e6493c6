package e2e

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// treeSpec describes a generated source tree.
type treeSpec struct {
	small     int   // number of small files (1 B – 16 KiB)
	large     []int // sizes of large files
	weird     bool  // names with spaces, unicode, %, +, #, 200-byte names, deep paths, empty files
	seed      uint64
	perDirMax int // small files per directory (default 1000)
}

// weirdNames are the awkward names every tree with weird=true holds.
func weirdNames() []string {
	long := strings.Repeat("n", 196) + ".txt" // a 200-byte name
	return []string{
		"with space/file name.txt",
		"unicode/ünïcødé/日本語.txt",
		"unicode/emoji 🚀.bin",
		"percent/100%.txt",
		"percent/%2F%20literal.txt",
		"plus/a+b=c.txt",
		"hash/#hashtag#.txt",
		"mixed/a b+c%d#e?f.txt",
		"long/" + long,
		strings.Repeat("deep/", 30) + "bottom.txt",
		"empty/empty.txt",
		"empty/also empty",
		"order/a-c",
		"order/a/b",
	}
}

// makeTree writes a tree under dir and returns relative path → SHA-256.
func makeTree(t testing.TB, dir string, s treeSpec) map[string][32]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.seed, 7))
	per := s.perDirMax
	if per == 0 {
		per = 1000
	}
	want := map[string][32]byte{}
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = sha256.Sum256(data)
	}
	buf := make([]byte, 16<<10)
	for i := 0; i < s.small; i++ {
		n := 1 + rng.IntN(len(buf))
		fillRandom(rng, buf[:n])
		write(fmt.Sprintf("small/d%03d/f%05d.dat", i/per, i), buf[:n])
	}
	for i, size := range s.large {
		data := make([]byte, size)
		fillRandom(rng, data)
		write(fmt.Sprintf("large/big-%d.bin", i), data)
	}
	if s.weird {
		for i, name := range weirdNames() {
			var data []byte
			if !strings.HasPrefix(name, "empty/") {
				data = []byte(fmt.Sprintf("content of %q #%d\n", name, i))
			}
			write(name, data)
		}
	}
	return want
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(rng.Uint32())
	}
}

// hashDir returns relative path → SHA-256 of every regular file under dir.
func hashDir(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	got := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = sha256.Sum256(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// compareSums fails the test unless got holds exactly want.
func compareSums(t testing.TB, what string, want, got map[string][32]byte) {
	t.Helper()
	var missing, wrong, extra []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case !bytes.Equal(g[:], w[:]):
			wrong = append(wrong, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	sort.Strings(extra)
	if len(missing)+len(wrong)+len(extra) > 0 {
		t.Fatalf("%s: %d objects expected, %d missing %v, %d with different bytes %v, %d unexpected %v",
			what, len(want), len(missing), head(missing), len(wrong), head(wrong), len(extra), head(extra))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
