package us3emu

import (
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
)

// putFile stores the request body as key (PUT /key), verifying a hex or
// base64 Content-MD5 when present.
func (s *Server) putFile(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	if c.key == "" {
		return errBadArg("empty key")
	}
	class, e := storageClass(r.Header.Get("X-Ufile-Storage-Class"))
	if e != nil {
		return e
	}
	sp, e := spool(r.Context(), c.bucket.tmpDir(), r.Body, -1, r.Header.Get("Content-MD5"), false)
	if e != nil {
		return e
	}
	s.stats.bytesIn(sp.size)
	o := &object{Key: c.key, Size: sp.size, ETag: sp.etag, MimeType: r.Header.Get("Content-Type"),
		Modified: s.now(), StorageClass: class, Meta: userMeta(r.Header)}
	if err := c.bucket.commit(sp.path, o); err != nil {
		return errInternal(err)
	}
	w.Header().Set("ETag", quote(o.ETag))
	writeEmpty(w, http.StatusOK)
	return nil
}

// getFile streams the object (GET /key), honouring a single-range Range
// header with 206 and Content-Range. Content-Length is always explicit.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	o, f, e := c.bucket.open(c.key)
	if e != nil {
		return e
	}
	defer f.Close()
	if e := s.frozen(o); e != nil {
		return e
	}
	start, length, partial, e := parseRange(r.Header.Get("Range"), o.Size)
	if e != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		return e
	}
	setObjectHeaders(w.Header(), &o)
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+
			strconv.FormatInt(start+length-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
	}
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil // the header is out; the short body tells the client
	}
	_, _ = io.CopyN(w, f, length) // sendfile when w allows it
	return nil
}

// headFile answers the object's headers (HEAD /key).
func (s *Server) headFile(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	o, ok := c.bucket.get(c.key)
	if !ok {
		return errNoFile()
	}
	setObjectHeaders(w.Header(), &o)
	s.setRestoreHeader(w.Header(), o)
	w.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

// deleteFile removes the object (DELETE /key): 204, or 404 when absent.
func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	ok, err := c.bucket.remove(c.key)
	if err != nil {
		return errInternal(err)
	}
	if !ok {
		return errNoFile()
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// copyObject copies X-Ufile-Copy-Source (/bucket/key, raw) to key.
func (s *Server) copyObject(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	if c.key == "" {
		return errBadArg("empty key")
	}
	src, srcKey, e := s.copySource(r.Header.Get("X-Ufile-Copy-Source"))
	if e != nil {
		return e
	}
	tmp := filepath.Join(c.bucket.tmpDir(), "copy-"+newID())
	so, e := src.link(srcKey, tmp)
	if e != nil {
		return e
	}
	o := &object{Key: c.key, Size: so.Size, ETag: so.ETag, MimeType: so.MimeType,
		Modified: s.now(), StorageClass: so.StorageClass, Meta: so.Meta}
	if err := c.bucket.commit(tmp, o); err != nil {
		return errInternal(err)
	}
	w.Header().Set("ETag", quote(o.ETag))
	writeEmpty(w, http.StatusOK)
	return nil
}

// postFile stores a multipart form upload (POST /): fields Authorization,
// Content-Type (the file's MIME, also the signed Content-Type), FileName
// (the key) and optional Content-MD5 precede the part named "file".
func (s *Server) postFile(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	mr, err := r.MultipartReader()
	if err != nil {
		return errBadArg("read form: %v", err)
	}
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return errBadArg("form has no file part")
		}
		if err != nil {
			return errBadArg("read form: %v", err)
		}
		if p.FormName() != "file" {
			v, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				return errBadArg("read form field: %v", err)
			}
			fields[p.FormName()] = string(v)
			continue
		}
		key, mime, md5 := fields["FileName"], fields["Content-Type"], fields["Content-MD5"]
		if e := s.signer.verifyAuthValue(fields["Authorization"], http.MethodPost, md5, mime,
			r.Header.Get("Date"), r.Header, c.bucket.name, key); e != nil {
			return e
		}
		if key == "" {
			return errBadArg("empty FileName")
		}
		if mime == "" {
			mime = p.Header.Get("Content-Type")
		}
		sp, e := spool(r.Context(), c.bucket.tmpDir(), p, -1, md5, false)
		if e != nil {
			return e
		}
		s.stats.bytesIn(sp.size)
		o := &object{Key: key, Size: sp.size, ETag: sp.etag, MimeType: mime, Modified: s.now(),
			StorageClass: "STANDARD"}
		if err := c.bucket.commit(sp.path, o); err != nil {
			return errInternal(err)
		}
		discardBody(r, 1<<20)
		w.Header().Set("ETag", quote(o.ETag))
		writeEmpty(w, http.StatusOK)
		return nil
	}
}

// copySource parses "/bucket/key" (raw, not escaped).
func (s *Server) copySource(src string) (*bucket, string, *apiError) {
	name, key, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if !ok || key == "" {
		return nil, "", errBadArg("invalid X-Ufile-Copy-Source")
	}
	b, found := s.buckets[name]
	if !found {
		return nil, "", errf(http.StatusNotFound, retBucketNotExist, "bucket not exist")
	}
	return b, key, nil
}

// setObjectHeaders sets the headers GetFile and HeadFile share.
func setObjectHeaders(h http.Header, o *object) {
	mime := o.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	h.Set("Content-Type", mime)
	h.Set("ETag", quote(o.ETag))
	h.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Ufile-Storage-Class", o.StorageClass)
	for k, v := range o.Meta {
		h.Set("X-Ufile-Meta-"+k, v)
	}
}

// userMeta collects X-Ufile-Meta-* request headers (name after the prefix).
func userMeta(h http.Header) map[string]string {
	var m map[string]string
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, "X-Ufile-Meta-"); ok && name != "" && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = v[0]
		}
	}
	return m
}

// parseRange reads a single "bytes=first-last", "bytes=first-" or
// "bytes=-suffix" range. Absent, malformed or multi-range headers select the
// whole object (partial false); an unsatisfiable range is a 416 error.
func parseRange(h string, size int64) (start, length int64, partial bool, e *apiError) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	unsat := errf(http.StatusRequestedRangeNotSatisfiable, retRangeInvalid, "range not satisfiable")
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsat
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, false, nil
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, size, false, nil
		}
	}
	if a >= size {
		return 0, 0, false, unsat
	}
	b = min(b, size-1)
	return a, b - a + 1, true, nil
}

// storageClass validates an optional storage class ("" means STANDARD).
func storageClass(v string) (string, *apiError) {
	switch v {
	case "":
		return "STANDARD", nil
	case "STANDARD", "IA", "ARCHIVE":
		return v, nil
	}
	return "", errBadArg("invalid storage class %q", v)
}
