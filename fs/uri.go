package fs

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// URI is a parsed source or destination location. Credentials and endpoints
// never appear in it: they come from flags, the environment or a config file.
// Registry.Parse makes one; which fields a scheme fills is its driver's Shape.
type URI struct {
	// Scheme is the location's scheme in lower case: FileScheme for a
	// local path, else one of a registered driver's Schemes ("s3", "us3",
	// "urllist", a provider preset such as "oss", …).
	Scheme string
	// Account is the storage account for AccountShape and AccountWideShape
	// schemes ("azblob://account/container/prefix"); empty for every other
	// shape.
	Account string
	// Bucket is the bucket (container) for BucketShape and AccountShape
	// schemes, and for AccountWideShape ones unless the location is a whole
	// account ("azblob://account/"); empty for PathShape.
	Bucket string
	// Path is the key prefix inside the bucket (no leading slash), or the
	// absolute local path for PathShape schemes.
	Path string
}

// FileScheme is the scheme of a bare local path ("/abs/path", "./rel"): the
// driver that registers it reads them.
const FileScheme = "file"

// String renders the URI in its canonical form, which Registry.Parse reads
// back to the same URI: a FileScheme location is its bare path, another
// path-shaped one "scheme:///abs/path" ('%' escaped), an object store's
// "scheme://[account/]bucket[/prefix]".
func (u URI) String() string {
	if u.Bucket == "" && u.Account == "" {
		if u.Scheme == FileScheme {
			return u.Path
		}
		// Parse unescapes the path, so a literal '%' is written as %25.
		return u.Scheme + "://" + strings.ReplaceAll(u.Path, "%", "%25")
	}
	s := u.Scheme + "://"
	if u.Account != "" {
		s += u.Account + "/"
	}
	s += u.Bucket
	if u.Path != "" {
		s += "/" + u.Path
	}
	return s
}

// Shape is how the locations of a scheme are written.
type Shape int

const (
	// PathShape locations name an absolute local path:
	// "scheme:///abs/path" (and bare paths for FileScheme).
	PathShape Shape = iota + 1
	// BucketShape locations name a bucket and a key prefix:
	// "scheme://bucket/prefix".
	BucketShape
	// AccountShape locations name an account, a bucket (container) and a
	// key prefix: "scheme://account/bucket/prefix".
	AccountShape
	// AccountWideShape is AccountShape that also takes "scheme://account/"
	// (no bucket): the whole account, every bucket a top-level directory.
	AccountWideShape
)

// example is the form a scheme of this shape is written in, for messages.
func (s Shape) example(scheme string) string {
	switch s {
	case PathShape:
		if scheme == FileScheme {
			return "/path, file:///path"
		}
		return scheme + ":///file"
	case AccountShape:
		return scheme + "://account/bucket/prefix"
	case AccountWideShape:
		return scheme + "://account/bucket/prefix, " + scheme + "://account/"
	}
	return scheme + "://bucket/prefix"
}

// splitScheme cuts "scheme://rest"; ok is false without "://".
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return "", s, false
	}
	return strings.ToLower(s[:i]), s[i+3:], true
}

// parseBare reads a location without "://" as a local path (made
// absolute). A "name:rest" that is no path ("gs:bucket") is refused; forms
// lists the accepted forms for that message.
func parseBare(s, forms string) (URI, error) {
	if strings.Contains(s, ":") && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".") {
		if j := strings.Index(s, ":"); j > 0 && !strings.ContainsAny(s[:j], "/\\") {
			return URI{}, fmt.Errorf("parse location %q: unknown form (want %s)", RedactLocation(s), forms)
		}
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return URI{}, fmt.Errorf("parse location %q: %w", RedactLocation(s), err)
	}
	return URI{Scheme: FileScheme, Path: abs}, nil
}

// parseShaped reads rest, what follows "scheme://" in s, as shape says.
func parseShaped(s, scheme, rest string, shape Shape) (URI, error) {
	switch shape {
	case PathShape:
		// The slash is checked before unescaping: "file://%2Fx" names a
		// host (or user info), not the path /x.
		if !strings.HasPrefix(rest, "/") {
			return URI{}, fmt.Errorf("parse location %q: %s:// needs an absolute path (%s:///abs/path)", RedactLocation(s), scheme, scheme)
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return URI{}, fmt.Errorf("parse location %q: %w", s, err)
		}
		return URI{Scheme: scheme, Path: filepath.Clean(p)}, nil
	case BucketShape, AccountShape, AccountWideShape:
		u := URI{Scheme: scheme}
		if shape == AccountShape || shape == AccountWideShape {
			var ok bool
			u.Account, rest, ok = strings.Cut(rest, "/")
			if u.Account == "" || !ok {
				return URI{}, fmt.Errorf("parse location %q: missing account or bucket (want %s)", RedactLocation(s), shape.example(scheme))
			}
			if strings.ContainsAny(u.Account, " ?#@:") {
				return URI{}, fmt.Errorf("parse location %q: invalid account name %q", RedactLocation(s), RedactLocation(u.Account))
			}
		}
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" && shape == AccountWideShape && strings.Trim(prefix, "/") == "" {
			return u, nil // the whole account
		}
		if bucket == "" {
			return URI{}, fmt.Errorf("parse location %q: missing bucket (want %s)", s, shape.example(scheme))
		}
		if strings.ContainsAny(bucket, " ?#@:") {
			return URI{}, fmt.Errorf("parse location %q: invalid bucket name %q", RedactLocation(s), RedactLocation(bucket))
		}
		u.Bucket, u.Path = bucket, strings.TrimLeft(prefix, "/")
		return u, nil
	}
	return URI{}, fmt.Errorf("parse location %q: scheme %q has no shape", RedactLocation(s), scheme)
}

// RedactLocation returns s fit for an error message: user info before the
// host (everything up to the last '@' ahead of the first '/' after "://",
// or after the start when there is no "://") becomes "xxxxx", so a
// location that wrongly carries credentials does not leak them into logs.
// It is every driver's Redact unless the driver gives its own.
func RedactLocation(s string) string {
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
