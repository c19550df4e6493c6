package mount

import (
	"hash/fnv"
	"sync"
)

// rootIno is the inode number of the mount's root directory.
const rootIno = 1

// inoTable hands out stable inode numbers: the FNV-64a hash of the path,
// bumped by one (repeatedly) while the number is held by another path, so
// the same path gets the same number within a mount and across mounts while
// two live paths never share one. Entries are reference counted by live
// nodes and dropped when the kernel forgets the last one, so memory follows
// what the kernel caches, not everything ever listed.
type inoTable struct {
	mu     sync.Mutex
	byNo   map[uint64]*inoEntry
	byPath map[string]uint64
}

type inoEntry struct {
	path string
	refs int
}

func newInoTable() *inoTable {
	t := &inoTable{byNo: make(map[uint64]*inoEntry), byPath: make(map[string]uint64)}
	t.byNo[rootIno] = &inoEntry{path: "", refs: 1}
	return t
}

// hashPath is the first candidate inode number of path; 0, 1 (the root)
// and ^0 (reserved by go-fuse) are never produced.
func hashPath(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	return usable(h.Sum64())
}

func usable(n uint64) uint64 {
	for n == 0 || n == rootIno || n == ^uint64(0) {
		n++
	}
	return n
}

// acquire returns path's inode number and takes a reference on it.
func (t *inoTable) acquire(path string) uint64 {
	if path == "" {
		return rootIno
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.byPath[path]; ok {
		t.byNo[n].refs++
		return n
	}
	n := t.free(path)
	t.byNo[n] = &inoEntry{path: path, refs: 1}
	t.byPath[path] = n
	return n
}

// free returns the first number of path's probe sequence that no live path
// holds. The caller holds t.mu.
func (t *inoTable) free(path string) uint64 {
	n := hashPath(path)
	for t.byNo[n] != nil {
		n = usable(n + 1)
	}
	return n
}

// peek returns the number acquire would give path now, without taking a
// reference (for directory entries, which the kernel does not hold).
func (t *inoTable) peek(path string) uint64 {
	if path == "" {
		return rootIno
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.byPath[path]; ok {
		return n
	}
	return t.free(path)
}

// release drops a reference taken by acquire.
func (t *inoTable) release(path string, n uint64) {
	if path == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byNo[n]; e != nil && e.path == path {
		if e.refs--; e.refs <= 0 {
			delete(t.byNo, n)
			delete(t.byPath, path)
		}
	}
}

// len reports how many numbers are held (for tests).
func (t *inoTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byNo)
}
