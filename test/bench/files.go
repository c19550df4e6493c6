package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// fileName is the name of generated file i.
func fileName(i int) string { return fmt.Sprintf("f%06d.bin", i) }

// fileNames returns the names of generated files 0..n-1.
func fileNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fileName(i)
	}
	return names
}

// genFiles writes n files of size random bytes into dir (created), named
// by fileName; the bytes depend only on n and size.
func genFiles(dir string, n int, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("generate files: %w", err)
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	buf := make([]byte, min(size, 8<<20))
	for i := 0; i < n; i++ {
		if err := writeRandom(filepath.Join(dir, fileName(i)), r, buf, size); err != nil {
			return fmt.Errorf("generate files: %w", err)
		}
	}
	return nil
}

// writeRandom creates path with size bytes from r, buf at a time.
func writeRandom(path string, r *rand.Rand, buf []byte, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for left := size; left > 0; left -= int64(len(buf)) {
		for j := 0; j+8 <= len(buf); j += 8 {
			v := r.Uint64()
			buf[j], buf[j+1], buf[j+2], buf[j+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			buf[j+4], buf[j+5], buf[j+6], buf[j+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
		}
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// slug turns s into lowercase letters, digits and single inner dashes.
func slug(s string) string {
	out := []rune{}
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		} else if len(out) > 0 && out[len(out)-1] != '-' {
			out = append(out, '-')
		}
	}
	return strings.TrimSuffix(string(out), "-")
}
