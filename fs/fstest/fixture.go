// Package fstest is the conformance suite every fs.Tree driver runs.
//
// A driver test builds a tree that holds exactly the files of a fixture
// (usually Fixture()), then calls Run:
//
//	files := fstest.Fixture()
//	// ... upload files (key → content) to the store or write them to a dir ...
//	fstest.Run(t, files, tree)
//
// Expected paths are fs.KeyToPath(key) and Entry.ObjectKey() must give back
// the key, so object-store drivers and directory drivers run the same suite.
package fstest

import (
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Files is a fixture: original key → content. A tree under test must hold
// exactly these files at its root.
type Files map[string][]byte

// BigSize is the size of the fixture's large file: 5 MiB + 1 byte, so it
// spans an S3 minimum part and ends off any power-of-two boundary.
const BigSize = 5<<20 + 1

// BigKey is the key of the fixture's large, non-repeating file.
const BigKey = "big/random.bin"

// LongName is the fixture's 200-byte file name (a single path segment).
var LongName = strings.Repeat("n", 196) + ".txt"

// Fixture returns the standard fixture. Every key is also a valid local
// path, so the local driver can run the suite. It contains byte-order traps:
// "a-c" and "a.txt" (which sort before "a/…") and "a0" (which sorts after).
func Fixture() Files {
	f := Files{
		"a/b/c/d/e/f/deep.txt":     []byte("deep file\n"),
		"a/b/c/sibling.txt":        []byte("sibling of d\n"),
		"a/b/c/d/empty":            {},
		"a/b.txt":                  []byte("b.txt sorts before the directory a/b\n"),
		"a/b0":                     []byte("b0 sorts after the directory a/b\n"),
		"a-c":                      []byte("a-c sorts before a/b\n"),
		"a.txt":                    []byte("a.txt sorts before a/\n"),
		"a0":                       []byte("a0 sorts after a/\n"),
		"Z.txt":                    []byte("upper case sorts first\n"),
		"with space/file name.txt": []byte("spaces\n"),
		"ü/日本.txt":                 []byte("unicode\n"),
		"sym/100% done.txt":        []byte("percent\n"),
		"sym/a+b=c.txt":            []byte("plus\n"),
		"sym/#tag.txt":             []byte("hash\n"),
		"long/" + LongName:         []byte("a 200-byte name\n"),
		"empty/zero.bin":           {},
		BigKey:                     bigContent(),
	}
	for i := 0; i < 50; i++ {
		f[fmt.Sprintf("many/f-%03d.txt", i)] = []byte(strings.Repeat(fmt.Sprintf("file %d\n", i), i+1))
	}
	return f
}

// bigContent returns BigSize deterministic pseudo-random bytes: no period,
// so a read at a wrong offset never matches by accident.
func bigContent() []byte {
	r := rand.New(rand.NewChaCha8([32]byte{'f', 'e', 'r', 'r', 'y'}))
	b := make([]byte, BigSize)
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[len(b)-1] = 0xA5
	return b
}

// fileInfo is one expected file: its key, tree path and content.
type fileInfo struct {
	key, path string
	data      []byte
}

// sortedFiles returns the fixture's files in byte order of their tree path.
func sortedFiles(files Files) []fileInfo {
	out := make([]fileInfo, 0, len(files))
	for k, v := range files {
		out = append(out, fileInfo{key: k, path: fs.KeyToPath(k), data: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// child is one expected entry of a directory listing.
type child struct {
	name  string
	isDir bool
	size  int64
}

// dirs returns every directory of the fixture ("" is the root) with its
// children sorted in byte order of name.
func dirs(files []fileInfo) map[string][]child {
	seen := map[string]map[string]child{"": {}}
	for _, f := range files {
		p := f.path
		for {
			dir, name := path.Split(p)
			dir = strings.TrimSuffix(dir, "/")
			if seen[dir] == nil {
				seen[dir] = map[string]child{}
			}
			if p == f.path {
				seen[dir][name] = child{name: name, size: int64(len(f.data))}
			} else {
				seen[dir][name] = child{name: name, isDir: true}
			}
			if dir == "" {
				break
			}
			p = dir
		}
	}
	out := make(map[string][]child, len(seen))
	for d, m := range seen {
		cs := make([]child, 0, len(m))
		for _, c := range m {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
		out[d] = cs
	}
	return out
}
