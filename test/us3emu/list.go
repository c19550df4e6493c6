package us3emu

import (
	"net/http"
	"strconv"
)

// listObjectsResponse is ListObjects' JSON; MaxKeys and Size are strings,
// as the SDK's typed structs require.
type listObjectsResponse struct {
	Name           string         `json:"Name"`
	Prefix         string         `json:"Prefix"`
	MaxKeys        string         `json:"MaxKeys"`
	Delimiter      string         `json:"Delimiter"`
	IsTruncated    bool           `json:"IsTruncated"`
	NextMarker     string         `json:"NextMarker"`
	Contents       []listContent  `json:"Contents"`
	CommonPrefixes []commonPrefix `json:"CommonPrefixes"`
}

type listContent struct {
	Key          string            `json:"Key"`
	MimeType     string            `json:"MimeType"`
	ETag         string            `json:"ETag"`
	Size         string            `json:"Size"`
	StorageClass string            `json:"StorageClass"`
	LastModified int64             `json:"LastModified"`
	CreateTime   int64             `json:"CreateTime"`
	UserMeta     map[string]string `json:"UserMeta"`
}

type commonPrefix struct {
	Prefix string `json:"Prefix"`
}

// listObjects answers GET /?listobjects&prefix=&marker=&delimiter=&max-keys=
// (max-keys default 100, at most 1000).
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	max, e := limitParam(c.q.Get("max-keys"), 100)
	if e != nil {
		return e
	}
	prefix, delim := c.q.Get("prefix"), c.q.Get("delimiter")
	p := c.bucket.list(prefix, c.q.Get("marker"), delim, max)
	resp := listObjectsResponse{
		Name: c.bucket.name, Prefix: prefix, MaxKeys: strconv.Itoa(max), Delimiter: delim,
		IsTruncated: p.Truncated, NextMarker: p.Next,
		Contents: make([]listContent, 0, len(p.Objects)), CommonPrefixes: make([]commonPrefix, 0, len(p.Prefixes)),
	}
	for _, o := range p.Objects {
		meta := o.Meta
		if meta == nil {
			meta = map[string]string{}
		}
		resp.Contents = append(resp.Contents, listContent{
			Key: o.Key, MimeType: o.MimeType, ETag: o.ETag, Size: strconv.FormatInt(o.Size, 10),
			StorageClass: o.StorageClass, LastModified: o.Modified.Unix(), CreateTime: o.Created.Unix(),
			UserMeta: meta,
		})
	}
	for _, cp := range p.Prefixes {
		resp.CommonPrefixes = append(resp.CommonPrefixes, commonPrefix{Prefix: cp})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// fileListResponse is PrefixFileList's JSON.
type fileListResponse struct {
	BucketName string     `json:"BucketName"`
	BucketID   string     `json:"BucketId"`
	NextMarker string     `json:"NextMarker"`
	DataSet    []fileItem `json:"DataSet"`
}

type fileItem struct {
	BucketName    string `json:"BucketName"`
	FileName      string `json:"FileName"`
	Hash          string `json:"Hash"`
	MimeType      string `json:"MimeType"`
	Size          int64  `json:"Size"`
	CreateTime    int64  `json:"CreateTime"`
	ModifyTime    int64  `json:"ModifyTime"`
	StorageClass  string `json:"StorageClass"`
	RestoreStatus string `json:"RestoreStatus"`
}

// prefixFileList answers GET /?list&prefix=&marker=&limit= (limit default
// 20, at most 1000). NextMarker is empty at the end of the listing.
func (s *Server) prefixFileList(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	limit, e := limitParam(c.q.Get("limit"), 20)
	if e != nil {
		return e
	}
	p := c.bucket.list(c.q.Get("prefix"), c.q.Get("marker"), "", limit)
	resp := fileListResponse{BucketName: c.bucket.name, BucketID: "ufile-" + c.bucket.name,
		NextMarker: p.Next, DataSet: make([]fileItem, 0, len(p.Objects))}
	for _, o := range p.Objects {
		resp.DataSet = append(resp.DataSet, fileItem{
			BucketName: c.bucket.name, FileName: o.Key, Hash: o.ETag, MimeType: o.MimeType, Size: o.Size,
			CreateTime: o.Created.Unix(), ModifyTime: o.Modified.Unix(), StorageClass: o.StorageClass,
		})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// limitParam parses a page size: empty or 0 means def, more than 1000 is
// capped at 1000, anything else unparsable or negative is refused.
func limitParam(v string, def int) (int, *apiError) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errBadArg("invalid limit %q", v)
	}
	if n == 0 {
		return def, nil
	}
	return min(n, 1000), nil
}
