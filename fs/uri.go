package fs

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// URI is a parsed source or destination location. Credentials and endpoints
// never appear in it: they come from flags, the environment or a config file.
type URI struct {
	// Scheme is "file", "s3", "us3", "urllist" or a provider preset
	// ("oss", "cos", "kodo", "minio").
	Scheme string
	// Bucket is the bucket for object stores; empty for file and urllist.
	Bucket string
	// Path is the key prefix inside the bucket (no leading slash), or the
	// absolute local path for file and urllist.
	Path string
}

// String renders the URI in its canonical form.
func (u URI) String() string {
	switch u.Scheme {
	case "file":
		return u.Path
	case "urllist":
		return "urllist://" + u.Path
	}
	if u.Path == "" {
		return u.Scheme + "://" + u.Bucket
	}
	return u.Scheme + "://" + u.Bucket + "/" + u.Path
}

// objectSchemes lists the schemes that address a bucket.
var objectSchemes = map[string]bool{"s3": true, "us3": true, "oss": true, "cos": true, "kodo": true, "minio": true}

// ParseURI parses a location: "/abs/path", "./rel", "file:///abs/path",
// "s3://bucket/prefix", "us3://bucket/prefix", "urllist:///path/list.txt"
// and the S3 provider presets. Relative local paths are made absolute.
// It returns a clear error for anything else.
func ParseURI(s string) (URI, error) {
	if s == "" {
		return URI{}, fmt.Errorf("parse location: empty")
	}
	i := strings.Index(s, "://")
	if i < 0 {
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".") {
			if j := strings.Index(s, ":"); j > 0 && !strings.ContainsAny(s[:j], "/\\") {
				return URI{}, fmt.Errorf("parse location %q: unknown form (want /path, file:///path, s3://bucket/prefix, us3://bucket/prefix or urllist:///file)", s)
			}
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return URI{}, fmt.Errorf("parse location %q: %w", s, err)
		}
		return URI{Scheme: "file", Path: abs}, nil
	}
	scheme, rest := strings.ToLower(s[:i]), s[i+3:]
	switch {
	case scheme == "file" || scheme == "urllist":
		p, err := url.PathUnescape(rest)
		if err != nil {
			return URI{}, fmt.Errorf("parse location %q: %w", s, err)
		}
		if !strings.HasPrefix(p, "/") {
			return URI{}, fmt.Errorf("parse location %q: %s:// needs an absolute path (%s:///abs/path)", s, scheme, scheme)
		}
		return URI{Scheme: scheme, Path: filepath.Clean(p)}, nil
	case objectSchemes[scheme]:
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return URI{}, fmt.Errorf("parse location %q: missing bucket (want %s://bucket/prefix)", s, scheme)
		}
		if strings.ContainsAny(bucket, " ?#@:") {
			return URI{}, fmt.Errorf("parse location %q: invalid bucket name %q", s, bucket)
		}
		return URI{Scheme: scheme, Bucket: bucket, Path: strings.TrimLeft(prefix, "/")}, nil
	default:
		return URI{}, fmt.Errorf("parse location %q: unknown scheme %q (want file, s3, us3, urllist, oss, cos, kodo or minio)", s, scheme)
	}
}
