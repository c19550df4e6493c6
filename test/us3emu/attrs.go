package us3emu

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// tagSet is the SDK's TagSet body.
type tagSet struct {
	Tags []Tag `json:"Tags"`
}

// putTagging replaces the object's tags (PUT /key?tagging).
func (s *Server) putTagging(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return errBadArg("read body: %v", err)
	}
	var ts tagSet
	if err := json.Unmarshal(body, &ts); err != nil {
		return errBadArg("decode tags: %v", err)
	}
	if e := c.bucket.update(c.key, func(o *object) *apiError {
		o.Tags = ts.Tags
		return nil
	}); e != nil {
		return e
	}
	writeEmpty(w, http.StatusOK)
	return nil
}

// getTagging answers the object's tags (GET /key?tagging).
func (s *Server) getTagging(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	o, ok := c.bucket.get(c.key)
	if !ok {
		return errNoFile()
	}
	ts := tagSet{Tags: o.Tags}
	if ts.Tags == nil {
		ts.Tags = []Tag{}
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

// deleteTagging removes the object's tags (DELETE /key?tagging).
func (s *Server) deleteTagging(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	if e := c.bucket.update(c.key, func(o *object) *apiError {
		o.Tags = nil
		return nil
	}); e != nil {
		return e
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// putACL sets the object ACL from x-ufile-object-acl (PUT /key?acl).
func (s *Server) putACL(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	acl := r.Header.Get("X-Ufile-Object-Acl")
	if acl != "default" && acl != "public-read" {
		return errBadArg("invalid acl %q", acl)
	}
	if e := c.bucket.update(c.key, func(o *object) *apiError {
		o.ACL = acl
		return nil
	}); e != nil {
		return e
	}
	writeEmpty(w, http.StatusOK)
	return nil
}

// getACL answers the object ACL (GET /key?acl).
func (s *Server) getACL(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	o, ok := c.bucket.get(c.key)
	if !ok {
		return errNoFile()
	}
	grant := o.ACL
	if grant == "" {
		grant = "default"
	}
	type owner struct {
		ID          string `json:"ID"`
		DisplayName string `json:"DisplayName"`
	}
	type acl struct {
		Grant string `json:"Grant"`
	}
	writeJSON(w, http.StatusOK, struct {
		Owner             owner `json:"Owner"`
		AccessControlList acl   `json:"AccessControlList"`
	}{AccessControlList: acl{Grant: grant}})
	return nil
}

// classSwitch changes the storage class (PUT /key?storageClass=IA).
func (s *Server) classSwitch(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	class, e := storageClass(c.q.Get("storageClass"))
	if e != nil {
		return e
	}
	if e := c.bucket.update(c.key, func(o *object) *apiError {
		o.StorageClass, o.ThawReady = class, time.Time{}
		return nil
	}); e != nil {
		return e
	}
	writeEmpty(w, http.StatusOK)
	return nil
}
