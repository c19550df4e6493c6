package us3emu

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// initiateMultipart answers POST /key?uploads with
// {"UploadId","BlkSize","Bucket","Key"}.
func (s *Server) initiateMultipart(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	if c.key == "" {
		return errBadArg("empty key")
	}
	class, e := storageClass(r.Header.Get("X-Ufile-Storage-Class"))
	if e != nil {
		return e
	}
	u := &upload{ID: newID(), key: c.key, bucket: c.bucket, MimeType: r.Header.Get("Content-Type"),
		Meta: userMeta(r.Header), StorageClass: class, BlkSize: s.opts.BlkSize, Initiated: s.now(),
		parts: map[int]part{}}
	if err := s.createUpload(u); err != nil {
		return errInternal(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"UploadId": u.ID, "BlkSize": u.BlkSize, "Bucket": c.bucket.name, "Key": c.key,
	})
	return nil
}

// uploadPart stores part partNumber (0-based) of uploadId from the body
// (PUT /key?partNumber=&uploadId=); it answers the part ETag and
// {"PartNumber":n}. Bodies larger than BlkSize are refused.
func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	n, u, e := s.partTarget(c)
	if e != nil {
		return e
	}
	sp, e := spool(r.Context(), c.bucket.tmpDir(), r.Body, u.BlkSize, r.Header.Get("Content-MD5"), true)
	if e != nil {
		return e
	}
	return s.storePart(w, u, n, sp, true)
}

// uploadPartCopy fills part partNumber from X-Ufile-Copy-Source and
// X-Ufile-Copy-Source-Range (bytes=first-last).
func (s *Server) uploadPartCopy(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	n, u, e := s.partTarget(c)
	if e != nil {
		return e
	}
	src, srcKey, e := s.copySource(r.Header.Get("X-Ufile-Copy-Source"))
	if e != nil {
		return e
	}
	o, f, e := src.open(srcKey)
	if e != nil {
		return e
	}
	defer f.Close()
	start, length := int64(0), o.Size
	if rg := r.Header.Get("X-Ufile-Copy-Source-Range"); rg != "" {
		var partial bool
		if start, length, partial, e = parseRange(rg, o.Size); e != nil || !partial {
			return errBadArg("invalid X-Ufile-Copy-Source-Range %q", rg)
		}
	}
	sp, e := spool(r.Context(), c.bucket.tmpDir(), io.NewSectionReader(f, start, length), u.BlkSize, "", true)
	if e != nil {
		return e
	}
	return s.storePart(w, u, n, sp, false)
}

// partTarget parses partNumber and finds the upload a part request names.
func (s *Server) partTarget(c *call) (int, *upload, *apiError) {
	n, err := strconv.Atoi(c.q.Get("partNumber"))
	if err != nil || n < 0 || n > 99999 {
		return 0, nil, errBadArg("invalid partNumber %q", c.q.Get("partNumber"))
	}
	u, e := s.lookupUpload(c, c.q.Get("uploadId"), &c.key)
	if e != nil {
		return 0, nil, e
	}
	return n, u, nil
}

func (s *Server) storePart(w http.ResponseWriter, u *upload, n int, sp *spooled, counted bool) *apiError {
	p := part{Size: sp.size, ETag: partETag(sp.sha1), Modified: s.now()}
	if e := u.putPart(n, sp.path, p); e != nil {
		return e
	}
	if counted {
		s.stats.bytesIn(sp.size)
	}
	w.Header().Set("ETag", quote(p.ETag))
	writeJSON(w, http.StatusOK, map[string]int{"PartNumber": n})
	return nil
}

// finishMultipart answers POST /key?uploadId= whose body is the part ETags
// joined by ",": they must name exactly the uploaded parts 0..n-1, every
// part but the last of BlkSize bytes. The parts are assembled into the
// object, whose US3 ETag is answered with {"Bucket","Key","FileSize"}.
func (s *Server) finishMultipart(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	u, e := s.lookupUpload(c, c.q.Get("uploadId"), &c.key)
	if e != nil {
		return e
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return errBadArg("read body: %v", err)
	}
	parts, e := u.beginFinish(splitETags(string(body)))
	if e != nil {
		return e
	}
	tmp, size, etag, err := u.assemble(r.Context(), parts)
	if err != nil {
		u.endFinish(false)
		return errInternal(err)
	}
	o := &object{Key: u.key, Size: size, ETag: etag, MimeType: u.MimeType, Modified: s.now(),
		StorageClass: u.StorageClass, Meta: u.Meta}
	if err := c.bucket.commit(tmp, o); err != nil {
		u.endFinish(false)
		return errInternal(err)
	}
	u.endFinish(true)
	if err := s.dropUpload(u); err != nil {
		s.log.Warn("us3emu: remove finished upload", "upload", u.ID, "err", err)
	}
	w.Header().Set("ETag", quote(o.ETag))
	writeJSON(w, http.StatusOK, map[string]any{"Bucket": c.bucket.name, "Key": u.key, "FileSize": o.Size})
	return nil
}

// splitETags splits a Finish body, tolerating quotes and spaces.
func splitETags(body string) []string {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil
	}
	list := strings.Split(body, ",")
	for i, e := range list {
		list[i] = strings.Trim(strings.TrimSpace(e), `"`)
	}
	return list
}

// beginFinish validates the listed ETags against the held parts and marks
// the upload finishing; it returns the parts in order.
func (u *upload) beginFinish(etags []string) ([]part, *apiError) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch u.state {
	case uploadFinishing:
		return nil, errf(http.StatusConflict, retUploadBusy, "upload is being finished")
	case uploadGone:
		return nil, errNoUpload()
	}
	bad := func(format string, args ...any) ([]part, *apiError) {
		return nil, errf(http.StatusBadRequest, retInvalidParts, format, args...)
	}
	parts := make([]part, len(etags))
	for i, et := range etags {
		p, ok := u.parts[i]
		switch {
		case !ok:
			return bad("part %d not uploaded", i)
		case et != p.ETag:
			return bad("part %d etag mismatch", i)
		case i < len(etags)-1 && p.Size != u.BlkSize:
			return bad("part %d has %d bytes, want %d", i, p.Size, u.BlkSize)
		case i == len(etags)-1 && len(etags) > 1 && p.Size == 0:
			return bad("last part %d is empty", i)
		}
		parts[i] = p
	}
	if len(u.parts) > len(etags) {
		return bad("%d parts uploaded but %d listed", len(u.parts), len(etags))
	}
	u.state = uploadFinishing
	return parts, nil
}

// endFinish leaves the finishing state: gone on success, active again on
// failure so the client may retry or abort.
func (u *upload) endFinish(ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ok {
		u.state = uploadGone
	} else {
		u.state = uploadActive
	}
}

// assemble concatenates the parts into a temp file in the bucket's tmp dir
// and returns it with its size and US3 ETag. With 4 MiB parts each part is
// one ETag block whose SHA-1 its part ETag already holds, so the bytes are
// copied in the kernel and never re-hashed; other block sizes re-hash.
func (u *upload) assemble(ctx context.Context, parts []part) (string, int64, string, error) {
	f, err := os.CreateTemp(u.bucket.tmpDir(), "assemble-*")
	if err != nil {
		return "", 0, "", fmt.Errorf("create temp: %w", err)
	}
	fast := u.BlkSize == etagBlock
	var dst io.Writer = f
	et := newETagHasher()
	if !fast {
		dst = io.MultiWriter(f, et)
	}
	var size int64
	for _, p := range parts {
		if err = ctx.Err(); err != nil {
			break
		}
		var n int64
		n, err = appendFile(dst, u.partPath(p))
		size += n
		if err != nil {
			break
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	etag := et.ETag()
	if err == nil && fast {
		etag, err = partsETag(size, parts)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, "", fmt.Errorf("assemble parts: %w", err)
	}
	return f.Name(), size, etag, nil
}

// partsETag derives the US3 ETag from 4 MiB parts' ETags (their SHA-1s).
func partsETag(size int64, parts []part) (string, error) {
	sums := make([][]byte, len(parts))
	for i, p := range parts {
		sum, err := base64.URLEncoding.DecodeString(p.ETag)
		if err != nil || len(sum) != sha1.Size {
			return "", fmt.Errorf("decode part %d etag: bad etag %q", i, p.ETag)
		}
		sums[i] = sum
	}
	return etagFromBlockSums(size, sums), nil
}

// appendFile copies the file at path to dst (copy_file_range between files).
func appendFile(dst io.Writer, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open part: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(dst, f)
	if err != nil {
		return n, fmt.Errorf("copy part: %w", err)
	}
	return n, nil
}

// abortMultipart answers DELETE /key?uploadId= and discards the parts.
func (s *Server) abortMultipart(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	u, e := s.lookupUpload(c, c.q.Get("uploadId"), &c.key)
	if e != nil {
		return e
	}
	u.mu.Lock()
	state := u.state
	if state == uploadActive {
		u.state = uploadGone
	}
	u.mu.Unlock()
	switch state {
	case uploadFinishing:
		return errf(http.StatusConflict, retUploadBusy, "upload is being finished")
	case uploadGone:
		return errNoUpload()
	}
	if err := s.dropUpload(u); err != nil {
		return errInternal(err)
	}
	writeEmpty(w, http.StatusOK)
	return nil
}
