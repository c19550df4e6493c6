package us3emu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Tag is one object tag, as in the SDK's TagSet.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// object is one stored object's metadata; its content is the immutable blob
// file blobs/<Blob>.
type object struct {
	Key          string    `json:"-"`
	KeyBytes     []byte    `json:"key"` // the key survives JSON even when not UTF-8
	Blob         string    `json:"blob"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	MimeType     string    `json:"mime_type"`
	Created      time.Time `json:"created"`
	Modified     time.Time `json:"modified"`
	StorageClass string    `json:"storage_class"`
	// ThawReady is when a restore of an ARCHIVE object finishes (zero: no
	// restore requested); see archive.go.
	ThawReady time.Time         `json:"thaw_ready,omitzero"`
	ACL       string            `json:"acl,omitempty"`
	Tags      []Tag             `json:"tags,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
}

// bucket is one bucket's on-disk store plus its in-memory sorted key index.
// Blobs are never modified in place: a new version is a new blob, so a
// reader that opened a blob keeps reading consistent bytes.
type bucket struct {
	name string
	dir  string

	mu   sync.RWMutex
	objs map[string]*object
	keys []string // sorted byte-wise
}

func (b *bucket) blobDir() string   { return filepath.Join(b.dir, "blobs") }
func (b *bucket) metaDir() string   { return filepath.Join(b.dir, "meta") }
func (b *bucket) tmpDir() string    { return filepath.Join(b.dir, "tmp") }
func (b *bucket) uploadDir() string { return filepath.Join(b.dir, "uploads") }

func (b *bucket) blobPath(blob string) string { return filepath.Join(b.blobDir(), blob) }

// metaPath names a key's sidecar by the SHA-256 of the key, so any key maps
// to a valid, fixed-length file name.
func (b *bucket) metaPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(b.metaDir(), hex.EncodeToString(sum[:])+".json")
}

// openBucket creates the bucket's directories, loads its index and removes
// leftovers of a crash (temp files, unreferenced blobs).
func openBucket(root, name string) (*bucket, error) {
	b := &bucket{name: name, dir: filepath.Join(root, name), objs: map[string]*object{}}
	for _, d := range []string{b.blobDir(), b.metaDir(), b.tmpDir(), b.uploadDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create bucket dir: %w", err)
		}
	}
	if err := clearDir(b.tmpDir()); err != nil {
		return nil, err
	}
	if err := b.load(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bucket) load() error {
	ents, err := os.ReadDir(b.metaDir())
	if err != nil {
		return fmt.Errorf("read meta dir: %w", err)
	}
	used := map[string]bool{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(b.metaDir(), e.Name()))
		if err != nil {
			return fmt.Errorf("read meta: %w", err)
		}
		o := new(object)
		if err := json.Unmarshal(data, o); err != nil {
			return fmt.Errorf("decode meta %s: %w", e.Name(), err)
		}
		o.Key = string(o.KeyBytes)
		if _, err := os.Stat(b.blobPath(o.Blob)); err != nil {
			return fmt.Errorf("check blob of %q: %w", o.Key, err)
		}
		b.objs[o.Key] = o
		b.keys = append(b.keys, o.Key)
		used[o.Blob] = true
	}
	sort.Strings(b.keys)
	blobs, err := os.ReadDir(b.blobDir())
	if err != nil {
		return fmt.Errorf("read blob dir: %w", err)
	}
	for _, e := range blobs {
		if !used[e.Name()] {
			if err := os.Remove(b.blobPath(e.Name())); err != nil {
				return fmt.Errorf("remove orphan blob: %w", err)
			}
		}
	}
	return nil
}

// get returns a copy of key's metadata.
func (b *bucket) get(key string) (object, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objs[key]
	if !ok {
		return object{}, false
	}
	return *o, true
}

// open returns key's metadata and its blob opened for reading. The blob is
// opened under the lock, so a concurrent overwrite cannot remove it first.
func (b *bucket) open(key string) (object, *os.File, *apiError) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objs[key]
	if !ok {
		return object{}, nil, errNoFile()
	}
	f, err := os.Open(b.blobPath(o.Blob))
	if err != nil {
		return object{}, nil, errInternal(fmt.Errorf("open blob: %w", err))
	}
	return *o, f, nil
}

// link hard-links key's blob to the new path dst (for Copy), falling back
// to a byte copy when links are not possible.
func (b *bucket) link(key, dst string) (object, *apiError) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objs[key]
	if !ok {
		return object{}, errNoFile()
	}
	if err := os.Link(b.blobPath(o.Blob), dst); err != nil {
		if err := copyFile(b.blobPath(o.Blob), dst); err != nil {
			return object{}, errInternal(err)
		}
	}
	return *o, nil
}

// commit makes the finished temp file tmp the content of o.Key with the
// metadata o: it renames tmp into blobs/, atomically replaces the sidecar,
// updates the index and removes the previous blob. On error tmp is removed.
func (b *bucket) commit(tmp string, o *object) error {
	o.Blob = newID()
	if err := os.Rename(tmp, b.blobPath(o.Blob)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename blob: %w", err)
	}
	b.mu.Lock()
	old, existed := b.objs[o.Key]
	if existed && o.Created.IsZero() {
		o.Created = old.Created
	}
	if o.Created.IsZero() {
		o.Created = o.Modified
	}
	if err := b.writeMeta(o); err != nil {
		b.mu.Unlock()
		os.Remove(b.blobPath(o.Blob))
		return err
	}
	b.objs[o.Key] = o
	if !existed {
		b.insertKey(o.Key)
	}
	b.mu.Unlock()
	if existed {
		if err := os.Remove(b.blobPath(old.Blob)); err != nil {
			return fmt.Errorf("remove old blob: %w", err)
		}
	}
	return nil
}

// update applies fn to a copy of key's metadata and stores the result.
func (b *bucket) update(key string, fn func(*object) *apiError) *apiError {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.objs[key]
	if !ok {
		return errNoFile()
	}
	o := *cur
	if e := fn(&o); e != nil {
		return e
	}
	if err := b.writeMeta(&o); err != nil {
		return errInternal(err)
	}
	b.objs[key] = &o
	return nil
}

// remove deletes key; it reports whether the key existed.
func (b *bucket) remove(key string) (bool, error) {
	b.mu.Lock()
	o, ok := b.objs[key]
	if !ok {
		b.mu.Unlock()
		return false, nil
	}
	if err := os.Remove(b.metaPath(key)); err != nil {
		b.mu.Unlock()
		return true, fmt.Errorf("remove meta: %w", err)
	}
	delete(b.objs, key)
	i := sort.SearchStrings(b.keys, key)
	b.keys = append(b.keys[:i], b.keys[i+1:]...)
	b.mu.Unlock()
	if err := os.Remove(b.blobPath(o.Blob)); err != nil {
		return true, fmt.Errorf("remove blob: %w", err)
	}
	return true, nil
}

// writeMeta replaces o's sidecar atomically. Callers hold b.mu.
func (b *bucket) writeMeta(o *object) error {
	o.KeyBytes = []byte(o.Key)
	data, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode meta: %w", err)
	}
	return writeFileAtomic(b.tmpDir(), b.metaPath(o.Key), data)
}

// insertKey adds a new key to the sorted index. Callers hold b.mu.
func (b *bucket) insertKey(key string) {
	i := sort.SearchStrings(b.keys, key)
	b.keys = append(b.keys, "")
	copy(b.keys[i+1:], b.keys[i:])
	b.keys[i] = key
}

// writeFileAtomic writes data to a temp file in tmpDir and renames it to dst.
func writeFileAtomic(tmpDir, dst string, data []byte) error {
	f, err := os.CreateTemp(tmpDir, "w-*")
	if err != nil {
		return fmt.Errorf("create temp: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write temp: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rename temp: %w", err)
	}
	return nil
}

// clearDir removes everything inside dir.
func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clear dir: %w", err)
		}
	}
	return nil
}
