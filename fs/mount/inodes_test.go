package mount

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestInoTable_Acquire(t *testing.T) {
	tab := newInoTable()
	if n := tab.acquire(""); n != rootIno {
		t.Fatalf("root ino %d, want %d", n, rootIno)
	}
	a := tab.acquire("a/b")
	if a != hashPath("a/b") || a == rootIno || a == 0 {
		t.Fatalf("acquire(a/b) = %d, want FNV-64a %d", a, hashPath("a/b"))
	}
	if again := tab.acquire("a/b"); again != a {
		t.Errorf("second acquire gave %d, want %d", again, a)
	}

	// Force a collision: another live path already holds c's hash.
	c := hashPath("c")
	tab.byNo[c] = &inoEntry{path: "squatter", refs: 1}
	tab.byPath["squatter"] = c
	got := tab.acquire("c")
	if got == c || got != usable(c+1) {
		t.Fatalf("colliding path got %d, want the next free number %d", got, usable(c+1))
	}
	if p := tab.peek("c"); p != got {
		t.Errorf("peek(c) = %d, want the held %d", p, got)
	}
	// The squatter leaving must not move c while c is live.
	tab.release("squatter", c)
	if again := tab.acquire("c"); again != got {
		t.Errorf("after the squatter left, c got %d, want its live number %d", again, got)
	}
	tab.release("c", got)
	tab.release("c", got)
	if p := tab.peek("c"); p != c {
		t.Errorf("after c was released, peek(c) = %d, want its hash %d again", p, c)
	}

	tab.release("a/b", a)
	if n := tab.len(); n != 2 { // root + one ref left on a/b
		t.Errorf("table holds %d entries, want 2", n)
	}
	tab.release("a/b", a)
	if n := tab.len(); n != 1 {
		t.Errorf("table holds %d entries after every release, want just the root", n)
	}
}

func TestMount_StableInodes(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	tree := localTree(t, src)
	paths := []string{"plain.txt", "nested", "nested/a/b/c/deep.txt", "ü/日本語.txt", "big/random.bin"}

	inos := func(mp string) map[string]uint64 {
		out := make(map[string]uint64)
		for _, p := range paths {
			for i := 0; i < 2; i++ {
				fi, err := os.Stat(filepath.Join(mp, p))
				if err != nil {
					t.Fatal(err)
				}
				n := fi.Sys().(*syscall.Stat_t).Ino
				if i == 1 && n != out[p] {
					t.Errorf("%s: inode %d then %d on two stats", p, out[p], n)
				}
				out[p] = n
			}
		}
		return out
	}

	s1, mp1 := mountT(t, tree, DefaultOptions())
	first := inos(mp1)
	unmountT(t, s1)
	_, mp2 := mountT(t, tree, DefaultOptions())
	second := inos(mp2)
	seen := make(map[uint64]string)
	for _, p := range paths {
		if first[p] != second[p] {
			t.Errorf("%s: inode %d in the first mount, %d in the second", p, first[p], second[p])
		}
		if first[p] != hashPath(p) {
			t.Errorf("%s: inode %d, want FNV-64a of the path %d", p, first[p], hashPath(p))
		}
		if q, dup := seen[first[p]]; dup {
			t.Errorf("%s and %s share inode %d", p, q, first[p])
		}
		seen[first[p]] = p
	}
	fi, err := os.Stat(mp2)
	if err != nil {
		t.Fatal(err)
	}
	if n := fi.Sys().(*syscall.Stat_t).Ino; n != rootIno {
		t.Errorf("root inode %d, want %d", n, rootIno)
	}
}
