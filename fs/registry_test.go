package fs_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/drivers"
)

// standard is Ferry's registry (no SQLite driver: nothing here opens a
// URL list).
func standard(t testing.TB) fs.Registry {
	t.Helper()
	r, err := drivers.Standard(drivers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// accountDriver describes an account-shaped store ("acct://account/
// container/prefix", as azblob will be) for the shape tests; it opens
// nothing.
func accountDriver() fs.Driver {
	return fs.Driver{Schemes: []string{"acct"}, Shape: fs.AccountShape, EnvPrefix: "ACCT_", Env: []string{"ACCT_KEY"},
		OpenTree: func(context.Context, fs.URI, fs.Options) (fs.Tree, error) { return nil, errors.New("no store") }}
}

func TestRegistry_Parse(t *testing.T) {
	reg := standard(t)
	good := map[string]fs.URI{
		"/data/x":              {Scheme: "file", Path: "/data/x"},
		"file:///data/x":       {Scheme: "file", Path: "/data/x"},
		"s3://bkt/pre/fix":     {Scheme: "s3", Bucket: "bkt", Path: "pre/fix"},
		"us3://bkt":            {Scheme: "us3", Bucket: "bkt"},
		"urllist:///tmp/l.txt": {Scheme: "urllist", Path: "/tmp/l.txt"},
		"oss://b/p":            {Scheme: "oss", Bucket: "b", Path: "p"},
		"MINIO://b/p/":         {Scheme: "minio", Bucket: "b", Path: "p/"},
	}
	for in, want := range good {
		got, err := reg.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x/y", "s3://", "s3:///key", "file://rel/path", "gs:bucket"} {
		if _, err := reg.Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", bad)
		}
	}
}

// TestRegistry_UnknownScheme: an unknown scheme is a one-line error that
// names the scheme and lists the registered ones, from every entry point;
// a zero Registry knows none.
func TestRegistry_UnknownScheme(t *testing.T) {
	reg := standard(t)
	for _, loc := range []string{"ftp://host/x", "gs://bucket/p", "wasb://acct/c/p"} {
		_, err := reg.Parse(loc)
		if err == nil || !strings.Contains(err.Error(), "unknown scheme") || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), "s3, oss, cos, kodo, minio, upyun, us3, urllist or azblob") {
			t.Errorf("Parse(%q) = %v, want one line: unknown scheme (want file, s3, …)", loc, err)
		}
		if _, _, err := reg.ResolveDest(loc); err == nil || !strings.Contains(err.Error(), "unknown scheme") {
			t.Errorf("ResolveDest(%q) = %v, want unknown scheme", loc, err)
		}
	}
	if _, err := reg.Lookup("ftp"); err == nil {
		t.Error("Lookup(ftp) succeeded")
	}
	if d, err := reg.Lookup("OSS"); err != nil || d.Name() != "s3" {
		t.Errorf("Lookup(OSS) = %q, %v; want the s3 driver", d.Name(), err)
	}
	if _, err := (fs.Registry{}).Parse("s3://b/p"); err == nil || !strings.Contains(err.Error(), "unknown scheme") {
		t.Errorf("zero Registry Parse = %v, want unknown scheme", err)
	}
	if _, err := (fs.Registry{}).Parse("/data"); err == nil {
		t.Error("zero Registry parsed a bare path")
	}
}

// TestRegistry_ResolveDest: a source-only scheme is refused as a destination
// before anything is opened.
func TestRegistry_ResolveDest(t *testing.T) {
	reg := standard(t)
	if _, _, err := reg.ResolveDest("urllist:///tmp/l.txt"); !errors.Is(err, fs.ErrNotWritable) {
		t.Errorf("ResolveDest(urllist) = %v, want ErrNotWritable", err)
	}
	for _, loc := range []string{"/data", "s3://b/p", "us3://b", "kodo://b/p", "azblob://acct/c/p", "azblob://acct/"} {
		if u, d, err := reg.ResolveDest(loc); err != nil || d.OpenSink == nil || d.OpenLister == nil || u.Scheme == "" {
			t.Errorf("ResolveDest(%q) = %+v, %q, %v; want a writable, listable driver", loc, u, d.Name(), err)
		}
	}
}

// TestRegistry_CredentialVars: every variable a driver reads is a job's
// credential, plain and in its FERRY_SRC_ and FERRY_DST_ forms, and
// nothing else is.
func TestRegistry_CredentialVars(t *testing.T) {
	reg := standard(t)
	vars := reg.CredentialVars()
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "US3_PUBLIC_KEY", "US3_PRIVATE_KEY",
		"US3_ENDPOINT", "US3_CUSTOM_DOMAIN", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
		"AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_ENDPOINT"} {
		for _, name := range []string{want, fs.SourcePrefix + want, fs.DestPrefix + want} {
			if !slices.Contains(vars, name) {
				t.Errorf("CredentialVars lacks %s", name)
			}
			if !reg.IsCredentialVar(name) || reg.CheckCredentialVar(name) != nil {
				t.Errorf("%s is not a credential variable", name)
			}
		}
	}
	if len(vars) != 3*16 {
		t.Errorf("CredentialVars = %d names, want 48: %q", len(vars), vars)
	}
	for _, d := range reg.Drivers() {
		for _, v := range d.Env {
			if d.EnvPrefix == "" || !strings.HasPrefix(v, d.EnvPrefix) {
				t.Errorf("driver %s reads %s, outside its EnvPrefix %q", d.Name(), v, d.EnvPrefix)
			}
		}
	}
	for _, name := range []string{"HOME", "PATH", "AWS_", "US3_", "AZURE_STORAGE_", "AZURE_CLIENT_ID", "FERRY_SRC_", "aws_access_key_id", "XAWS_REGION"} {
		if reg.IsCredentialVar(name) {
			t.Errorf("%s is a credential variable", name)
		}
	}
	err := reg.CheckCredentialVar("HOME")
	if err == nil || err.Error() != `credentials: "HOME" is not a AWS_*, US3_*, AZURE_STORAGE_*, FERRY_SRC_* or FERRY_DST_* variable` {
		t.Errorf("CheckCredentialVar(HOME) = %v", err)
	}
}

// TestRegistry_Redact: credentials written into a location never come
// back, from Redact or from a parse error, whatever the scheme.
func TestRegistry_Redact(t *testing.T) {
	reg, err := fs.NewRegistry(append(standard(t).Drivers(), accountDriver())...)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI"
	for _, scheme := range append(reg.Schemes(), "ftp", "S3") {
		for _, loc := range []string{scheme + "://AKID:" + secret + "@bkt/p", scheme + "://" + secret + "@bkt",
			scheme + "://u:" + secret + "@/x", "AKID:" + secret + "@host:/p"} {
			if r := reg.Redact(loc); strings.Contains(r, secret) {
				t.Errorf("Redact(%q) = %q", loc, r)
			}
			u, err := reg.Parse(loc)
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want user info refused", loc, u)
			} else if strings.Contains(err.Error(), secret) {
				t.Errorf("Parse(%q) error shows the secret: %v", loc, err)
			}
		}
	}
}

// TestRegistry_RoundTrip: a location of every registered scheme (and of
// an account-shaped one) parses, renders in its canonical form and parses
// back to the same URI; today's canonical forms are unchanged.
func TestRegistry_RoundTrip(t *testing.T) {
	reg, err := fs.NewRegistry(append(standard(t).Drivers(), accountDriver())...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range reg.Drivers() {
		for _, scheme := range d.Schemes {
			var locs []string
			switch d.Shape {
			case fs.PathShape:
				locs = []string{scheme + ":///data/l 100%25.txt", scheme + ":///"}
				if scheme == fs.FileScheme {
					locs = append(locs, "/data/x")
				}
			case fs.BucketShape:
				locs = []string{scheme + "://bkt", scheme + "://bkt/pre/fix/"}
			case fs.AccountShape:
				locs = []string{scheme + "://acc/bkt", scheme + "://acc/bkt/pre/fix"}
			case fs.AccountWideShape:
				locs = []string{scheme + "://acc/bkt", scheme + "://acc/bkt/pre/fix", scheme + "://acc/"}
			}
			for _, loc := range locs {
				u, err := reg.Parse(loc)
				if err != nil {
					t.Fatalf("Parse(%q): %v", loc, err)
				}
				again, err := reg.Parse(u.String())
				if err != nil || again != u {
					t.Errorf("Parse(%q) = %+v renders %q, which parses to %+v, %v", loc, u, u.String(), again, err)
				}
			}
		}
	}
	for loc, want := range map[string]string{"/data/x": "/data/x", "file:///data/x": "/data/x", "s3://b/p/": "s3://b/p/",
		"us3://b": "us3://b", "urllist:///a%25b": "urllist:///a%25b", "acct://acc/c/p": "acct://acc/c/p"} {
		if u, err := reg.Parse(loc); err != nil || u.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v; want %q", loc, u.String(), err, want)
		}
	}
	u, err := reg.Parse("acct://acc/c/p/q")
	if err != nil || u != (fs.URI{Scheme: "acct", Account: "acc", Bucket: "c", Path: "p/q"}) {
		t.Errorf("Parse(acct://acc/c/p/q) = %+v, %v", u, err)
	}
	for _, bad := range []string{"acct://acc", "acct://acc/", "acct:///c/p", "acct://a b/c"} {
		if u, err := reg.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, u)
		}
	}
}

// TestNewRegistry_Refuses: a scheme registered twice, or an entry without
// the fields every entry needs, is refused.
func TestNewRegistry_Refuses(t *testing.T) {
	std := standard(t).Drivers()
	open := accountDriver().OpenTree
	for name, d := range map[string]fs.Driver{
		"duplicate scheme": {Schemes: []string{"oss"}, Shape: fs.BucketShape, OpenTree: open},
		"no schemes":       {Shape: fs.BucketShape, OpenTree: open},
		"no shape":         {Schemes: []string{"x"}, OpenTree: open},
		"no OpenTree":      {Schemes: []string{"x"}, Shape: fs.BucketShape},
		"bad scheme":       {Schemes: []string{"X:"}, Shape: fs.BucketShape, OpenTree: open},
	} {
		if _, err := fs.NewRegistry(append(std, d)...); err == nil {
			t.Errorf("%s: NewRegistry succeeded", name)
		}
	}
}

// TestParse_AccountWide: an AccountWideShape scheme reads one container
// and prefix, or a whole account ("scheme://account/"), and nothing else.
func TestParse_AccountWide(t *testing.T) {
	reg, err := fs.NewRegistry(fs.Driver{Schemes: []string{"wide"}, Shape: fs.AccountWideShape,
		OpenTree: func(context.Context, fs.URI, fs.Options) (fs.Tree, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for loc, want := range map[string]fs.URI{
		"wide://acc/":      {Scheme: "wide", Account: "acc"},
		"wide://acc//":     {Scheme: "wide", Account: "acc"},
		"wide://acc/c":     {Scheme: "wide", Account: "acc", Bucket: "c"},
		"wide://acc/c/p/q": {Scheme: "wide", Account: "acc", Bucket: "c", Path: "p/q"},
	} {
		u, err := reg.Parse(loc)
		if err != nil || u != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", loc, u, err, want)
		}
		if again, err := reg.Parse(u.String()); err != nil || again != u {
			t.Errorf("Parse(%q) renders %q, which parses to %+v, %v", loc, u.String(), again, err)
		}
	}
	for _, bad := range []string{"wide://acc", "wide:///c/p", "wide://acc//p", "wide://a b/c"} {
		if u, err := reg.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, u)
		}
	}
}
