package main

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// source is a local source tree and the SHA-256 of every version written
// of each of its files, oldest first. It is safe for concurrent use.
type source struct {
	dir string

	mu       sync.Mutex
	versions map[string][][32]byte // slash path relative to dir → sums
}

func newSource(dir string) *source {
	return &source{dir: dir, versions: map[string][][32]byte{}}
}

// treeSpec is the shape of a generated tree.
type treeSpec struct {
	small     int   // small files, 1 B to smallMax each, 100 a directory
	smallMax  int   // largest small file
	large     int   // large files of largeSize each (multipart)
	largeSize int64 // size of each large file
}

// fill writes the spec's files with bytes drawn from rng.
func (s *source) fill(spec treeSpec, rng *rand.Rand) error {
	for i := 0; i < spec.small; i++ {
		rel := fmt.Sprintf("small/d%02d/f%05d.bin", i/100, i)
		if err := s.write(rel, randomBytes(rng, 1+rng.IntN(spec.smallMax))); err != nil {
			return err
		}
	}
	for i := 0; i < spec.large; i++ {
		if err := s.write(fmt.Sprintf("large/big%02d.bin", i), randomBytes(rng, int(spec.largeSize))); err != nil {
			return err
		}
	}
	return nil
}

// write creates (or replaces) rel with data and records the version.
func (s *source) write(rel string, data []byte) error {
	p := filepath.Join(s.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write source %s: %w", rel, err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("write source %s: %w", rel, err)
	}
	s.record(rel, data)
	return nil
}

// rewrite overwrites rel in place with data — the same inode, written from
// the start in chunk-sized writes with a pause between them, then truncated
// to its new length — and records the new version once it is complete.
// Readers meanwhile see a mix of the old and new bytes, as they would of
// any file rewritten in place.
func (s *source) rewrite(rel string, data []byte, chunk int, pause time.Duration) error {
	f, err := os.OpenFile(filepath.Join(s.dir, filepath.FromSlash(rel)), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("rewrite source %s: %w", rel, err)
	}
	defer f.Close()
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if _, err := f.WriteAt(data[off:end], int64(off)); err != nil {
			return fmt.Errorf("rewrite source %s: %w", rel, err)
		}
		time.Sleep(pause)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("rewrite source %s: %w", rel, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("rewrite source %s: %w", rel, err)
	}
	s.record(rel, data)
	return nil
}

func (s *source) record(rel string, data []byte) {
	sum := sha256.Sum256(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[rel] = append(s.versions[rel], sum)
}

// keys returns every file's path, sorted.
func (s *source) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.versions))
	for k := range s.versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// match reports whether sum is a version of rel, and whether it is the
// final one.
func (s *source) match(rel string, sum [32]byte) (any, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.versions[rel]
	for i, v := range vs {
		if v == sum {
			any = true
			final = final || i == len(vs)-1
		}
	}
	return any, final
}

// randomBytes returns n bytes drawn from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rng.Uint32())
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}
