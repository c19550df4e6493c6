package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/md5x"
)

// manifestName is the file in an upload's staging dir naming its key.
const manifestName = "manifest.json"

// manifest is what CreateMultipart records about an upload.
type manifest struct {
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	PartSize int64  `json:"part_size"`
}

// uploadIDRe matches the IDs CreateMultipart makes; anything else cannot
// name an upload (and cannot smuggle a path into the staging folder).
var uploadIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// partRe matches a part file: "part-<number>-<md5 hex>".
var partRe = regexp.MustCompile(`^part-([0-9]{6})-([0-9a-f]{32})$`)

// CreateMultipart starts an upload of size bytes in parts of partSize (the
// size requested is the size used).
func (s *Sink) CreateMultipart(ctx context.Context, key string, size, partSize int64) (fs.Upload, error) {
	if err := ctx.Err(); err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart %q: %w", key, err)
	}
	abs, err := checkKey(s.root, key)
	if err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart: %w", err)
	}
	l := s.Limits()
	if isMarker(key) || size < 0 || partSize <= 0 || partSize > l.MaxPartSize || (size+partSize-1)/partSize > int64(l.MaxParts) {
		return fs.Upload{}, fmt.Errorf("create multipart %q: %w: size %d in parts of %d (limits %+v)", key, ErrInvalidRequest, size, partSize, l)
	}
	if err := ensureParent(abs, key); err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart %q: upload id: %w", key, err)
	}
	id := hex.EncodeToString(b[:])
	dir := s.uploadDir(id)
	s.staging.RLock()
	err = os.MkdirAll(dir, 0o755)
	s.staging.RUnlock()
	if err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart %q: %w", key, err)
	}
	js, err := json.Marshal(manifest{Key: key, Size: size, PartSize: partSize})
	if err != nil {
		return fs.Upload{}, fmt.Errorf("create multipart %q: %w", key, err)
	}
	tmp, err := writeTemp(ctx, dir, strings.NewReader(string(js)), int64(len(js)))
	if err == nil {
		_, err = commit(tmp, filepath.Join(dir, manifestName))
	}
	if err != nil {
		os.RemoveAll(dir)
		return fs.Upload{}, fmt.Errorf("create multipart %q: write manifest: %w", key, err)
	}
	return fs.Upload{ID: id, PartSize: partSize}, nil
}

// uploadDir is the staging directory of an upload.
func (s *Sink) uploadDir(id string) string {
	return filepath.Join(s.root, stagingDir, id)
}

// openUpload checks that uploadID is a known upload of key and returns its
// staging dir and manifest. An unknown upload wraps fs.ErrNotExist.
func (s *Sink) openUpload(key, uploadID string) (string, manifest, error) {
	if !uploadIDRe.MatchString(uploadID) {
		return "", manifest{}, fmt.Errorf("upload %q of %q: malformed id: %w", uploadID, key, fs.ErrNotExist)
	}
	dir := s.uploadDir(uploadID)
	js, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return "", manifest{}, fmt.Errorf("upload %s of %q: %w", uploadID, key, err)
	}
	var m manifest
	if err := json.Unmarshal(js, &m); err != nil {
		return "", manifest{}, fmt.Errorf("upload %s of %q: read manifest: %w", uploadID, key, err)
	}
	if m.Key != key {
		return "", manifest{}, fmt.Errorf("upload %s: %w: started for key %q, not %q", uploadID, ErrInvalidRequest, m.Key, key)
	}
	return dir, m, nil
}

// UploadPart stores part n (0-based) of exactly size bytes. The part file
// appears complete or not at all; uploading a part again replaces it.
func (s *Sink) UploadPart(ctx context.Context, key, uploadID string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	if err := ctx.Err(); err != nil {
		return fs.Part{}, fmt.Errorf("upload part %d of %q: %w", n, key, err)
	}
	dir, m, err := s.openUpload(key, uploadID)
	if err != nil {
		return fs.Part{}, fmt.Errorf("upload part %d: %w", n, err)
	}
	if n < 0 || n >= s.Limits().MaxParts || size < 0 || size > m.PartSize {
		return fs.Part{}, fmt.Errorf("upload part %d of %q: %w: %d bytes (part size %d)", n, key, ErrInvalidRequest, size, m.PartSize)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fs.Part{}, fmt.Errorf("upload part %d of %q: rewind source: %w", n, key, err)
	}
	h := md5x.New(s.md5, size)
	defer fs.CloseHash(h)
	tmp, err := writeTemp(ctx, dir, io.TeeReader(r, h), size)
	if err != nil {
		return fs.Part{}, fmt.Errorf("upload part %d of %q: %w", n, key, err)
	}
	etag := hex.EncodeToString(h.Sum(nil))
	name := partName(n, etag)
	if _, err := commit(tmp, filepath.Join(dir, name)); err != nil {
		return fs.Part{}, fmt.Errorf("upload part %d of %q: %w", n, key, err)
	}
	// Drop an earlier upload of the same part number.
	old, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("part-%06d-*", n)))
	for _, o := range old {
		if filepath.Base(o) != name {
			os.Remove(o)
		}
	}
	return fs.Part{Number: n, Size: size, ETag: etag}, nil
}

// partName is the file name of part n with the given MD5.
func partName(n int, etag string) string { return fmt.Sprintf("part-%06d-%s", n, etag) }

// ListParts returns the parts staged for an upload, ordered by number.
func (s *Sink) ListParts(ctx context.Context, key, uploadID string) ([]fs.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list parts of %q: %w", key, err)
	}
	dir, _, err := s.openUpload(key, uploadID)
	if err != nil {
		return nil, fmt.Errorf("list parts: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list parts of %q: %w", key, err)
	}
	byNum := map[int]fs.Part{}
	for _, de := range des {
		sm := partRe.FindStringSubmatch(de.Name())
		if sm == nil {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // replaced meanwhile
		}
		n, _ := strconv.Atoi(sm[1])
		byNum[n] = fs.Part{Number: n, Size: fi.Size(), ETag: sm[2]}
	}
	parts := make([]fs.Part, 0, len(byNum))
	for _, p := range byNum {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return parts, nil
}

// CompleteMultipart concatenates the parts (contiguous from 0, each
// matching what was stored when its ETag or size is given) into a temporary
// file, renames it to key and removes the staging dir.
func (s *Sink) CompleteMultipart(ctx context.Context, key, uploadID string, parts []fs.Part) (fs.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	abs, err := checkKey(s.root, key)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart: %w", err)
	}
	dir, m, err := s.openUpload(key, uploadID)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart: %w", err)
	}
	stored, err := s.ListParts(ctx, key, uploadID)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart: %w", err)
	}
	sums, total, err := checkParts(parts, stored, m)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	if err := ensureParent(abs, key); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(concatParts(dir, stored, pw)) }()
	tmp, err := writeTemp(ctx, filepath.Dir(abs), pr, total)
	pr.Close()
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	fi, err := commit(tmp, abs)
	if err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fs.ObjectInfo{}, fmt.Errorf("complete multipart %q: remove staging: %w", key, err)
	}
	s.tidyStaging()
	return fs.ObjectInfo{Key: key, Size: total, ETag: multipartETag(sums), ModTime: fi.ModTime()}, nil
}

// checkParts matches the caller's part list against the stored parts and
// the manifest; it returns the part MD5s and the total size.
func checkParts(parts, stored []fs.Part, m manifest) ([][]byte, int64, error) {
	if len(parts) == 0 || len(parts) != len(stored) {
		return nil, 0, fmt.Errorf("%w: %d parts given, %d stored", ErrInvalidRequest, len(parts), len(stored))
	}
	sums := make([][]byte, len(parts))
	var total int64
	for i, p := range parts {
		st := stored[i]
		switch {
		case p.Number != i || st.Number != i:
			return nil, 0, fmt.Errorf("%w: part %d missing or out of order", ErrInvalidRequest, i)
		case p.ETag != "" && p.ETag != st.ETag:
			return nil, 0, fmt.Errorf("%w: part %d ETag %q, stored %q", ErrInvalidRequest, i, p.ETag, st.ETag)
		case p.Size != 0 && p.Size != st.Size:
			return nil, 0, fmt.Errorf("%w: part %d size %d, stored %d", ErrInvalidRequest, i, p.Size, st.Size)
		case i < len(parts)-1 && st.Size != m.PartSize:
			return nil, 0, fmt.Errorf("%w: part %d has %d bytes, every part but the last must have %d", ErrInvalidRequest, i, st.Size, m.PartSize)
		}
		sums[i], _ = hex.DecodeString(st.ETag)
		total += st.Size
	}
	if total != m.Size {
		return nil, 0, fmt.Errorf("%w: parts hold %d bytes, upload was created for %d", ErrInvalidRequest, total, m.Size)
	}
	return sums, total, nil
}

// concatParts writes the stored parts, in order, to w.
func concatParts(dir string, stored []fs.Part, w io.Writer) error {
	for _, p := range stored {
		f, err := os.Open(filepath.Join(dir, partName(p.Number, p.ETag)))
		if err != nil {
			return fmt.Errorf("open part %d: %w", p.Number, err)
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("copy part %d: %w", p.Number, err)
		}
	}
	return nil
}

// AbortMultipart removes an upload's staging dir. An unknown upload is not
// an error.
func (s *Sink) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("abort multipart %q: %w", key, err)
	}
	if !uploadIDRe.MatchString(uploadID) {
		return nil
	}
	_, _, err := s.openUpload(key, uploadID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("abort multipart: %w", err)
	}
	if err := os.RemoveAll(s.uploadDir(uploadID)); err != nil {
		return fmt.Errorf("abort multipart %q: %w", key, err)
	}
	s.tidyStaging()
	return nil
}

// tidyStaging removes the staging directory once no upload is left in it,
// so a finished migration leaves nothing but the objects. os.Remove fails
// harmlessly while another upload is staged.
func (s *Sink) tidyStaging() {
	s.staging.Lock()
	defer s.staging.Unlock()
	_ = os.Remove(filepath.Join(s.root, stagingDir))
}
