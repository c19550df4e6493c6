package fs_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// FuzzParseURI checks Registry.Parse on arbitrary text: a location that
// parses has a registered scheme and the fields its driver's Shape promises
// (an absolute clean path and no bucket for PathShape; a bucket without
// '/', ' ', '?', '#', '@' or ':' and a prefix without a leading slash for
// object stores); its String parses back to the same URI; the rendered form
// carries no user info; and a location whose authority holds user info
// never parses.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"/data/x", "./rel", ".", "..", "rel/a:b", "a:b", "C:\\x", "gs:bucket", "file:///data/x",
		"file:///", "file://host/x", "file://%2Fetc/x", "FILE:///a/../b", "file:///a%20b", "file:///a%2", "file:///a%25",
		"urllist:///tmp/l.txt", "urllist:///a%2541", "urllist:///a%25", "urllist:///a%%", "urllist://", "s3://bkt/pre/fix",
		"s3://bkt", "s3://bkt/", "s3://bkt//x", "s3:///key", "s3://", "S3://Bkt/P", "us3://b/p", "oss://b/p", "cos://b",
		"kodo://b/p/", "minio://b/p", "azblob://acc/", "azblob://acc/c/p", "azblob://acc", "azblob://acc//p", "azblob:///c", "s3://user:pass@bkt/p", "s3://AKIA:SECRET@bkt", "s3://tok@bkt", "s3://b@/p",
		"s3://bkt:9000/p", "s3://[::1]:9000/b", "s3://[fe80::1%25eth0]/b", "s3://b/p@x:y", "s3://b?x@y/p", "s3://b#f",
		"file://u:pw@/x", "urllist://u:pw@host/l.txt", "ftp://u:pw@host/x", "://u:pw@h/x", "u:pw@host:/path", "http://h/p",
		"s3+x://b", "s3:/b", "s3:b", "s3://b/\x00", "s3://b/\xff", "/tmp/a://b", "./s3://b", "\x00", " s3://b"} {
		f.Add(s)
	}
	reg := standard(f)
	f.Fuzz(func(t *testing.T, s string) {
		u, err := reg.Parse(s)
		if authorityHasUserinfo(s) && err == nil {
			t.Fatalf("Parse(%q) accepted user info: %+v", s, u)
		}
		if err != nil {
			return
		}
		checkURI(t, reg, s, u)
		r := u.String()
		again, err := reg.Parse(r)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v renders %q, which does not parse: %v", s, u, r, err)
		}
		if again != u {
			t.Fatalf("Parse(%q) = %+v renders %q, which parses to %+v", s, u, r, again)
		}
		if again.String() != r {
			t.Fatalf("Parse(%q) renders %q, then %q", s, r, again.String())
		}
		if pu, err := url.Parse(r); err == nil && pu.User != nil {
			t.Fatalf("Parse(%q) renders %q, which has user info %q", s, r, pu.User)
		}
	})
}

// FuzzParseURI_Userinfo checks that credentials in a location never come
// back in any form: "scheme://USERINFO@host/path" is refused, and the error
// is the same whatever USERINFO is, so it tells nothing of it.
func FuzzParseURI_Userinfo(f *testing.F) {
	for _, c := range [][4]string{{"s3", "AKIA:secret", "bkt", "/p"}, {"us3", "tok", "b", ""}, {"file", "u:p", "", "/x"},
		{"urllist", "u:p", "host", "/l.txt"}, {"ftp", "u:p@q", "h:21", "/x"}, {"", "u:p", "h", "/x"}, {"s3", "", "b", "/"},
		{"oss", "u:%2F", "b@c", "/p"}, {"file", "%2Fetc:pw", "host", "/x"}, {"minio", "a:b:c", "[::1]:9000", "/b/p"},
		{"S3", "u:p", "b?x", "#f"}, {"kodo", "u p", "b", "/p@q"}} {
		f.Add(c[0], c[1], c[2], c[3])
	}
	reg := standard(f)
	f.Fuzz(func(t *testing.T, scheme, userinfo, host, rest string) {
		if strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+-.") != "" ||
			strings.Contains(userinfo, "/") || rest != "" && !strings.ContainsAny(rest[:1], "/?#") {
			return // not a scheme, or the user info would not be user info
		}
		s := scheme + "://" + userinfo + "@" + host + rest
		u, err := reg.Parse(s)
		if err == nil {
			t.Fatalf("Parse(%q) accepted user info: %+v", s, u)
		}
		const other = "u:p"
		if userinfo == other {
			return
		}
		_, oerr := reg.Parse(scheme + "://" + other + "@" + host + rest)
		if oerr == nil || err.Error() != oerr.Error() {
			t.Fatalf("Parse(%q) error depends on the user info:\n%v\nwith %q instead:\n%v", s, err, other, oerr)
		}
	})
}

// checkURI checks the fields a parsed URI promises for its driver's shape.
func checkURI(t *testing.T, reg fs.Registry, s string, u fs.URI) {
	t.Helper()
	d, err := reg.Lookup(u.Scheme)
	if err != nil {
		t.Fatalf("Parse(%q) = %+v: %v", s, u, err)
	}
	switch d.Shape {
	case fs.PathShape:
		if u.Bucket != "" || u.Account != "" || !filepath.IsAbs(u.Path) || filepath.Clean(u.Path) != u.Path {
			t.Fatalf("Parse(%q) = %+v: want no bucket and an absolute clean path", s, u)
		}
	case fs.BucketShape, fs.AccountShape:
		if u.Bucket == "" || strings.ContainsAny(u.Bucket, "/ ?#@:") || strings.HasPrefix(u.Path, "/") ||
			(d.Shape == fs.AccountShape) != (u.Account != "") || strings.ContainsAny(u.Account, "/ ?#@:") {
			t.Fatalf("Parse(%q) = %+v: want a plain bucket and a prefix without a leading slash", s, u)
		}
	case fs.AccountWideShape:
		if u.Account == "" || strings.ContainsAny(u.Account, "/ ?#@:") || strings.ContainsAny(u.Bucket, "/ ?#@:") ||
			strings.HasPrefix(u.Path, "/") || u.Bucket == "" && u.Path != "" {
			t.Fatalf("Parse(%q) = %+v: want an account, a plain bucket (or none and no prefix) and a prefix without a leading slash", s, u)
		}
	default:
		t.Fatalf("Parse(%q) = %+v: driver %q has no shape", s, u, d.Name())
	}
}

// authorityHasUserinfo reports whether s is "scheme://userinfo@host…": its
// scheme is one by RFC 3986 and the text before the first '/', '?' or '#'
// after "://" holds an '@'.
func authorityHasUserinfo(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+-.") != "" {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return strings.Contains(rest, "@")
}
