package us3emu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type uploadState int

const (
	uploadActive uploadState = iota
	uploadFinishing
	uploadGone
)

// part is one uploaded part's record, stored as <n>.json; its data is the
// file File in the upload's directory (a new name per upload of the part, so
// the record and the data it names always match).
type part struct {
	File     string    `json:"file"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"`
	Modified time.Time `json:"modified"`
}

// upload is a pending multipart upload, persisted as
// Root/<bucket>/uploads/<id>/upload.json plus its parts.
type upload struct {
	ID           string            `json:"id"`
	KeyBytes     []byte            `json:"key"`
	MimeType     string            `json:"mime_type"`
	Meta         map[string]string `json:"meta,omitempty"`
	StorageClass string            `json:"storage_class"`
	BlkSize      int64             `json:"blk_size"`
	Initiated    time.Time         `json:"initiated"`

	key    string
	bucket *bucket
	mu     sync.Mutex
	parts  map[int]part
	state  uploadState
}

func (u *upload) dir() string               { return filepath.Join(u.bucket.uploadDir(), u.ID) }
func (u *upload) partPath(p part) string    { return filepath.Join(u.dir(), p.File) }
func (u *upload) partMetaPath(n int) string { return filepath.Join(u.dir(), strconv.Itoa(n)+".json") }

// createUpload persists and registers a new upload.
func (s *Server) createUpload(u *upload) error {
	if err := os.Mkdir(u.dir(), 0o755); err != nil {
		return fmt.Errorf("create upload dir: %w", err)
	}
	u.KeyBytes = []byte(u.key)
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode upload: %w", err)
	}
	if err := writeFileAtomic(u.bucket.tmpDir(), filepath.Join(u.dir(), "upload.json"), data); err != nil {
		os.RemoveAll(u.dir())
		return err
	}
	s.upMu.Lock()
	s.uploads[u.ID] = u
	s.upMu.Unlock()
	return nil
}

// lookupUpload finds the upload id in the request's bucket; with a non-nil
// key it must also be that upload's key.
func (s *Server) lookupUpload(c *call, id string, key *string) (*upload, *apiError) {
	s.upMu.Lock()
	u, ok := s.uploads[id]
	s.upMu.Unlock()
	if !ok || u.bucket != c.bucket || key != nil && *key != u.key {
		return nil, errNoUpload()
	}
	return u, nil
}

// dropUpload unregisters u and deletes its parts.
func (s *Server) dropUpload(u *upload) error {
	s.upMu.Lock()
	delete(s.uploads, u.ID)
	s.upMu.Unlock()
	if err := os.RemoveAll(u.dir()); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	return nil
}

// putPart moves the spooled file tmp into place as part n, replacing any
// earlier upload of n.
func (u *upload) putPart(n int, tmp string, p part) *apiError {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state != uploadActive {
		os.Remove(tmp)
		if u.state == uploadFinishing {
			return errf(http.StatusConflict, retUploadBusy, "upload is being finished")
		}
		return errNoUpload()
	}
	p.File = strconv.Itoa(n) + "-" + newID() + ".part"
	if err := os.Rename(tmp, u.partPath(p)); err != nil {
		os.Remove(tmp)
		return errInternal(fmt.Errorf("rename part: %w", err))
	}
	data, err := json.Marshal(p)
	if err == nil {
		err = writeFileAtomic(u.bucket.tmpDir(), u.partMetaPath(n), data)
	}
	if err != nil {
		os.Remove(u.partPath(p))
		return errInternal(err)
	}
	old, existed := u.parts[n]
	u.parts[n] = p
	if existed {
		os.Remove(u.partPath(old))
	}
	return nil
}

// PendingUploads lists the multipart uploads initiated but neither finished
// nor aborted, sorted by bucket, key and upload id.
func (s *Server) PendingUploads() []PendingUpload {
	s.upMu.Lock()
	ups := make([]*upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		ups = append(ups, u)
	}
	s.upMu.Unlock()
	out := make([]PendingUpload, 0, len(ups))
	for _, u := range ups {
		u.mu.Lock()
		p := PendingUpload{Bucket: u.bucket.name, Key: u.key, UploadID: u.ID, Parts: len(u.parts), Initiated: u.Initiated}
		for _, pt := range u.parts {
			p.Bytes += pt.Size
		}
		u.mu.Unlock()
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Bucket != b.Bucket {
			return a.Bucket < b.Bucket
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.UploadID < b.UploadID
	})
	return out
}

// loadUploads re-registers the uploads persisted under b, dropping
// half-created ones and parts without a matching record.
func (s *Server) loadUploads(b *bucket) error {
	ents, err := os.ReadDir(b.uploadDir())
	if err != nil {
		return fmt.Errorf("read uploads: %w", err)
	}
	for _, e := range ents {
		dir := filepath.Join(b.uploadDir(), e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "upload.json"))
		if os.IsNotExist(err) {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove partial upload: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
		u := &upload{bucket: b, parts: map[int]part{}}
		if err := json.Unmarshal(data, u); err != nil {
			return fmt.Errorf("decode upload %s: %w", e.Name(), err)
		}
		u.key = string(u.KeyBytes)
		if err := u.loadParts(); err != nil {
			return err
		}
		s.uploads[u.ID] = u
	}
	return nil
}

// loadParts reads the part records and removes data files no record names.
func (u *upload) loadParts() error {
	ents, err := os.ReadDir(u.dir())
	if err != nil {
		return fmt.Errorf("read upload dir: %w", err)
	}
	defer func() {
		used := map[string]bool{}
		for _, p := range u.parts {
			used[p.File] = true
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".part") && !used[e.Name()] {
				os.Remove(filepath.Join(u.dir(), e.Name()))
			}
		}
	}()
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		n, err := strconv.Atoi(name)
		if !ok || err != nil || n < 0 {
			continue
		}
		data, err := os.ReadFile(u.partMetaPath(n))
		if err != nil {
			return fmt.Errorf("read part record: %w", err)
		}
		var p part
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("decode part record: %w", err)
		}
		if fi, err := os.Stat(u.partPath(p)); err == nil && fi.Size() == p.Size {
			u.parts[n] = p
		}
	}
	return nil
}
