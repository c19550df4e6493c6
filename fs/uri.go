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

// String renders the URI in its canonical form, which ParseURI reads back
// to the same URI.
func (u URI) String() string {
	switch u.Scheme {
	case "file":
		return u.Path
	case "urllist":
		// ParseURI unescapes the path, so a literal '%' is written as %25.
		return "urllist://" + strings.ReplaceAll(u.Path, "%", "%25")
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
// It returns a clear error for anything else; a location carrying user info
// ("s3://KEY:SECRET@bucket") is refused, and its errors never quote it.
func ParseURI(s string) (URI, error) {
	if s == "" {
		return URI{}, fmt.Errorf("parse location: empty")
	}
	i := strings.Index(s, "://")
	if i < 0 {
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".") {
			if j := strings.Index(s, ":"); j > 0 && !strings.ContainsAny(s[:j], "/\\") {
				return URI{}, fmt.Errorf("parse location %q: unknown form (want /path, file:///path, s3://bucket/prefix, us3://bucket/prefix or urllist:///file)", redactLocation(s))
			}
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return URI{}, fmt.Errorf("parse location %q: %w", redactLocation(s), err)
		}
		return URI{Scheme: "file", Path: abs}, nil
	}
	scheme, rest := strings.ToLower(s[:i]), s[i+3:]
	switch {
	case scheme == "file" || scheme == "urllist":
		// The slash is checked before unescaping: "file://%2Fx" names a
		// host (or user info), not the path /x.
		if !strings.HasPrefix(rest, "/") {
			return URI{}, fmt.Errorf("parse location %q: %s:// needs an absolute path (%s:///abs/path)", redactLocation(s), scheme, scheme)
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return URI{}, fmt.Errorf("parse location %q: %w", s, err)
		}
		return URI{Scheme: scheme, Path: filepath.Clean(p)}, nil
	case objectSchemes[scheme]:
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return URI{}, fmt.Errorf("parse location %q: missing bucket (want %s://bucket/prefix)", s, scheme)
		}
		if strings.ContainsAny(bucket, " ?#@:") {
			return URI{}, fmt.Errorf("parse location %q: invalid bucket name %q", redactLocation(s), redactLocation(bucket))
		}
		return URI{Scheme: scheme, Bucket: bucket, Path: strings.TrimLeft(prefix, "/")}, nil
	default:
		return URI{}, fmt.Errorf("parse location %q: unknown scheme %q (want file, s3, us3, urllist, oss, cos, kodo or minio)", redactLocation(s), scheme)
	}
}

// redactLocation returns s fit for an error message: user info before the
// host (everything up to the last '@' ahead of the first '/' after "://", or
// after the start when there is no "://") becomes "xxxxx", so a location
// that wrongly carries credentials does not leak them into logs.
func redactLocation(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + len("://")
	}
	auth := s[start:]
	if j := strings.IndexByte(auth, '/'); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	return s[:start] + "xxxxx" + s[start+at:]
}
