package us3emu

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// listParts answers GET /?muploadpart&uploadId=&max-parts=&part-number-marker=
// with the parts numbered >= part-number-marker, max-parts (default 100) at a
// time; NextPartNumberMarker is the number to pass next.
func (s *Server) listParts(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	u, e := s.lookupUpload(c, c.q.Get("uploadId"), nil)
	if e != nil {
		return e
	}
	max, e := limitParam(c.q.Get("max-parts"), 100)
	if e != nil {
		return e
	}
	marker := 0
	if v := c.q.Get("part-number-marker"); v != "" {
		var err error
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return errBadArg("invalid part-number-marker %q", v)
		}
	}
	type partJSON struct {
		PartNum      int    `json:"PartNum"`
		Etag         string `json:"Etag"`
		LastModified int64  `json:"LastModified"`
		Size         int64  `json:"Size"`
	}
	u.mu.Lock()
	var nums []int
	for n := range u.parts {
		if n >= marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	truncated := len(nums) > max
	if truncated {
		nums = nums[:max]
	}
	out := make([]partJSON, 0, len(nums))
	for _, n := range nums {
		p := u.parts[n]
		out = append(out, partJSON{PartNum: n, Etag: p.ETag, LastModified: p.Modified.Unix(), Size: p.Size})
	}
	u.mu.Unlock()
	next := marker
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Bucket": c.bucket.name, "Key": u.key, "UploadId": u.ID, "StorageClass": u.StorageClass,
		"Status": 0, "NextPartNumberMarker": next, "MaxParts": max, "IsTruncated": truncated, "Parts": out,
	})
	return nil
}

// getMultiUploadID answers GET /?muploadid&prefix=&marker=&limit= with the
// bucket's pending uploads whose key has the prefix and sorts after marker.
func (s *Server) getMultiUploadID(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	limit, e := limitParam(c.q.Get("limit"), 20)
	if e != nil {
		return e
	}
	prefix, marker := c.q.Get("prefix"), c.q.Get("marker")
	type item struct {
		UploadId  string `json:"UploadId"`
		FileName  string `json:"FileName"`
		StartTime int64  `json:"StartTime"`
	}
	items := []item{}
	next := ""
	for _, p := range s.PendingUploads() {
		if p.Bucket != c.bucket.name || !strings.HasPrefix(p.Key, prefix) || p.Key <= marker && marker != "" {
			continue
		}
		if len(items) == limit {
			next = items[len(items)-1].FileName
			break
		}
		items = append(items, item{UploadId: p.UploadID, FileName: p.Key, StartTime: p.Initiated.Unix()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"RetCode": 0, "ErrMsg": "", "NextMarker": next, "DataSet": items})
	return nil
}
