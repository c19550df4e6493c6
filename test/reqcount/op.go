package reqcount

import (
	"net/http"
	"strings"
)

// Op names the S3 operation of a path-style request (http://host/bucket/key):
// ListBuckets, HeadBucket, CreateBucket, DeleteBucket, GetBucketLocation,
// ListObjectsV2, ListObjects, ListObjectVersions, ListMultipartUploads,
// DeleteObjects, GetObject, HeadObject, PutObject, CopyObject,
// DeleteObject, CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts; any other
// request is "METHOD bucket" or "METHOD object" with its first query key.
func Op(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	has := func(k string) bool { return q.Has(k) }
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return r.Method + " service"
	case key == "":
		switch r.Method {
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodPut:
			if len(q) == 0 {
				return "CreateBucket"
			}
		case http.MethodDelete:
			if len(q) == 0 {
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects"
			}
		case http.MethodGet:
			switch {
			case has("location"):
				return "GetBucketLocation"
			case has("uploads"):
				return "ListMultipartUploads"
			case has("versions"):
				return "ListObjectVersions"
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			case len(q) == 0 || has("prefix") || has("marker") || has("delimiter") || has("max-keys"):
				return "ListObjects"
			}
		}
		return r.Method + " bucket" + firstKey(r)
	}
	copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case len(q) == 0 || has("partNumber") || has("versionId") || has("x-id"):
			return "GetObject"
		}
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("uploadId") && copySrc:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case copySrc:
			return "CopyObject"
		case len(q) == 0 || has("x-id"):
			return "PutObject"
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case len(q) == 0 || has("versionId") || has("x-id"):
			return "DeleteObject"
		}
	}
	return r.Method + " object" + firstKey(r)
}

// firstKey is " ?k" for the alphabetically first query key of r, or "".
func firstKey(r *http.Request) string {
	first := ""
	for k := range r.URL.Query() {
		if first == "" || k < first {
			first = k
		}
	}
	if first == "" {
		return ""
	}
	return " ?" + first
}
