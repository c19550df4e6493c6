package fs

// The driver registry: the one place that knows, per URI scheme, which
// storage system it names, how its locations are written, which
// environment variables it reads, how to open it as a source Tree, a Sink
// and a destination lister, and how to redact a location of it. URI
// parsing (Registry.Parse), cmd/ferry's openers, the master's credential
// checks and the fetch job API all read a Registry; nothing else names a
// scheme, and an unknown scheme is an error everywhere.
//
// A Registry is a value, built once (fs/drivers.Standard assembles Ferry's
// stores; cmd/ferry builds it at start-up) and passed to whoever needs it:
// no globals, no init() registration.
//
// Adding a store is one new package plus one registry entry:
//
//  1. Write fs/<store>: a Tree over the store and, when it can be written,
//     a Sink (it imports fs and fs/internal only; run fs/fstest and
//     fs/sinktest against it), and export a constructor of its entry,
//     func Driver(...) fs.Driver, that fills Schemes, Shape, EnvPrefix,
//     Env and the openers from an Options.
//  2. Add that Driver to the list in fs/drivers.Standard.
//
// Nothing else changes: parsing, `ferry migrate`, `ferry ls`, `ferry
// mount`, agents, jobs' credential checks and the fetch service pick the
// store up from the registry.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	md5simd "github.com/minio/md5-simd"
)

// Side prefixes: a variable with one before it ("FERRY_SRC_AWS_REGION")
// overrides the plain one for that side of a copy only, so the source and
// the destination can use different accounts.
const (
	SourcePrefix = "FERRY_SRC_"
	DestPrefix   = "FERRY_DST_"
)

// Options is what an opener needs beside the location. The zero value
// opens with an empty environment and the drivers' defaults.
type Options struct {
	// Getenv reads the environment (os.Getenv, or a job's credentials
	// over it); nil reads nothing.
	Getenv func(string) string
	// EnvPrefix is SourcePrefix or DestPrefix (or ""): each variable is
	// looked up with it first.
	EnvPrefix string
	// Endpoint and Region override the environment's; PathStyle forces
	// path-style addressing where the store has the choice.
	Endpoint, Region string
	PathStyle        bool
	// HTTPClient sends an object store's requests, its pool sized to
	// Conns; nil leaves the driver's own client.
	HTTPClient *http.Client
	// Conns is the connection count the caller will use (a URL list sizes
	// its probes with it).
	Conns int
	// MD5 hashes what a destination writes (parts of 1 MiB and more, see
	// fs/internal/md5x): one SIMD server per process, closed by its maker;
	// nil hashes with crypto/md5. Sources never hash.
	MD5 md5simd.Server
}

// Env reads name through o.Getenv ("" without one).
func (o Options) Env(name string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(name)
}

// ErrNotWritable is the error of a destination whose driver has no
// OpenSink (Registry.ResolveDest).
var ErrNotWritable = errors.New("cannot be written to")

// ConfigError marks an opener's error about the location or its settings
// (missing keys, a bad endpoint, a path that is no directory): the user's to
// fix, not a failure of the store. Its text is Err's.
type ConfigError struct{ Err error }

func (e ConfigError) Error() string { return e.Err.Error() }
func (e ConfigError) Unwrap() error { return e.Err }

// Place is where a location's data lives, for telling whether a source and
// a destination overlap: two locations overlap when their Spaces are equal
// and one Path is the other or below it (Sep separates its segments; ""
// holds everything).
type Place struct {
	Space string // "file", "s3 host:port bucket", …
	Path  string
	Sep   string
}

// Driver is one storage system's registry entry. Its package builds it
// (s3.Driver, us3.Driver, …); its openers return values of that package.
type Driver struct {
	// Schemes are the URI schemes it answers, lower case: its own first,
	// then any provider presets ("s3", "oss", "cos", …).
	Schemes []string
	// Shape is how its locations are written; a driver registering
	// FileScheme also reads bare paths.
	Shape Shape
	// EnvPrefix starts every environment variable it reads ("AWS_",
	// "US3_"); "" when it reads none. A job may carry any variable with
	// it, plain or after a side prefix.
	EnvPrefix string
	// Env names the variables it reads, without a side prefix.
	Env []string
	// OpenTree opens a location as a source without a request: a store
	// with Check(ctx) error and IsPermanent(error) bool is checked by the
	// caller (cmd retries transient failures). Errors name the location;
	// those about the location or its settings are ConfigErrors.
	OpenTree func(ctx context.Context, u URI, o Options) (Tree, error)
	// OpenSink opens a location as a destination (refusing it before any
	// request when it cannot be written, e.g. without keys); nil when the
	// store cannot be written.
	OpenSink func(ctx context.Context, u URI, o Options) (Sink, error)
	// OpenLister opens a destination for listing, as a Tree in the keys
	// of its Sink (--check-dest, --delete, a job's skip rule); nil when
	// there is none.
	OpenLister func(ctx context.Context, u URI, o Options) (Tree, error)
	// Place says where a location's data lives; nil (or false) when it
	// cannot be told, and such a location overlaps nothing.
	Place func(u URI, o Options) (Place, bool)
	// Redact returns a location fit for a message; nil is RedactLocation.
	Redact func(loc string) string
}

// Name is the driver's own scheme, its first.
func (d Driver) Name() string {
	if len(d.Schemes) == 0 {
		return ""
	}
	return d.Schemes[0]
}

// Registry maps schemes to drivers (see the top of this file). Build it
// with NewRegistry; the zero Registry knows no scheme. It is safe for
// concurrent use.
type Registry struct {
	drivers []Driver
	scheme  map[string]int // scheme → index in drivers
}

// NewRegistry checks the drivers and returns their registry: each needs
// schemes, a shape and OpenTree, and no scheme may be registered twice.
func NewRegistry(drivers ...Driver) (Registry, error) {
	r := Registry{drivers: append([]Driver(nil), drivers...), scheme: map[string]int{}}
	for i, d := range r.drivers {
		if len(d.Schemes) == 0 || d.Shape == 0 || d.OpenTree == nil {
			return Registry{}, fmt.Errorf("new registry: driver %d (%q) needs schemes, a shape and OpenTree", i, d.Name())
		}
		for _, s := range d.Schemes {
			if s == "" || s != strings.ToLower(s) || strings.ContainsAny(s, ":/ ") {
				return Registry{}, fmt.Errorf("new registry: driver %q: invalid scheme %q", d.Name(), s)
			}
			if j, dup := r.scheme[s]; dup {
				return Registry{}, fmt.Errorf("new registry: scheme %q registered by %q and %q", s, r.drivers[j].Name(), d.Name())
			}
			r.scheme[s] = i
		}
		if d.Redact == nil {
			r.drivers[i].Redact = RedactLocation
		}
	}
	return r, nil
}

// Drivers returns the registered drivers in registration order.
func (r Registry) Drivers() []Driver { return append([]Driver(nil), r.drivers...) }

// Schemes returns every registered scheme in registration order.
func (r Registry) Schemes() []string {
	var out []string
	for _, d := range r.drivers {
		out = append(out, d.Schemes...)
	}
	return out
}

// Lookup returns the driver of scheme (any case).
func (r Registry) Lookup(scheme string) (Driver, error) {
	i, ok := r.scheme[strings.ToLower(scheme)]
	if !ok {
		return Driver{}, fmt.Errorf("unknown scheme %q (want %s)", RedactLocation(scheme), orList(r.Schemes()))
	}
	return r.drivers[i], nil
}

// Parse reads a location: a bare path ("/abs/path", "./rel", made
// absolute) when a driver registers FileScheme, else "scheme://…" in the
// Shape of the scheme's driver. It returns a clear one-line error for
// anything else, an unknown scheme included; a location carrying user info
// ("s3://KEY:SECRET@bucket") is refused, and its errors never quote it.
func (r Registry) Parse(s string) (URI, error) {
	if s == "" {
		return URI{}, errors.New("parse location: empty")
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		if _, local := r.scheme[FileScheme]; !local {
			return URI{}, fmt.Errorf("parse location %q: unknown form (want %s)", RedactLocation(s), r.forms())
		}
		return parseBare(s, r.forms())
	}
	d, err := r.Lookup(scheme)
	if err != nil {
		return URI{}, fmt.Errorf("parse location %q: %w", d.redact(s), err)
	}
	return parseShaped(s, scheme, rest, d.Shape)
}

// Resolve parses a location and returns it with its driver.
func (r Registry) Resolve(s string) (URI, Driver, error) {
	u, err := r.Parse(s)
	if err != nil {
		return URI{}, Driver{}, err
	}
	d, err := r.Lookup(u.Scheme)
	return u, d, err
}

// ResolveDest is Resolve for a destination: it refuses a location whose
// driver cannot be written (no OpenSink), before anything is opened.
func (r Registry) ResolveDest(s string) (URI, Driver, error) {
	u, d, err := r.Resolve(s)
	if err == nil && d.OpenSink == nil {
		err = fmt.Errorf("%s: %w (%s:// is a source only)", u, ErrNotWritable, u.Scheme)
	}
	return u, d, err
}

// forms lists each driver's location form, for messages.
func (r Registry) forms() string {
	var f []string
	for _, d := range r.drivers {
		f = append(f, d.Shape.example(d.Name()))
	}
	return orList(f)
}

// redact is d.Redact, or RedactLocation for a Driver not from a Registry.
func (d Driver) redact(loc string) string {
	if d.Redact == nil {
		return RedactLocation(loc)
	}
	return d.Redact(loc)
}

// Redact returns loc fit for a message or a log line: its driver's
// redaction, or RedactLocation when its scheme is unknown.
func (r Registry) Redact(loc string) string {
	if scheme, _, ok := splitScheme(loc); ok {
		if i, known := r.scheme[scheme]; known {
			return r.drivers[i].redact(loc)
		}
	}
	return RedactLocation(loc)
}

// CredentialVars names every variable a job hands its drivers: each
// driver's Env, plain, then with SourcePrefix, then with DestPrefix.
func (r Registry) CredentialVars() []string {
	var base []string
	for _, d := range r.drivers {
		base = append(base, d.Env...)
	}
	var out []string
	for _, p := range []string{"", SourcePrefix, DestPrefix} {
		for _, b := range base {
			out = append(out, p+b)
		}
	}
	return out
}

// credentialPrefixes are the drivers' EnvPrefixes and the side prefixes.
func (r Registry) credentialPrefixes() []string {
	var out []string
	for _, d := range r.drivers {
		if d.EnvPrefix != "" {
			out = append(out, d.EnvPrefix)
		}
	}
	return append(out, SourcePrefix, DestPrefix)
}

// IsCredentialVar reports whether a job may carry the variable name: it
// starts with a driver's EnvPrefix or a side prefix, and something follows.
func (r Registry) IsCredentialVar(name string) bool {
	for _, p := range r.credentialPrefixes() {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// CheckCredentialVar returns a one-line error naming the accepted
// families when a job may not carry name.
func (r Registry) CheckCredentialVar(name string) error {
	if r.IsCredentialVar(name) {
		return nil
	}
	var f []string
	for _, p := range r.credentialPrefixes() {
		f = append(f, p+"*")
	}
	return fmt.Errorf("credentials: %q is not a %s variable", name, orList(f))
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// EndpointHost is an endpoint URL's host[:port] in lower case ("" for ""),
// for a Place's Space.
func EndpointHost(endpoint string) string {
	ep := strings.ToLower(strings.TrimSpace(endpoint))
	if _, rest, ok := strings.Cut(ep, "://"); ok {
		ep = rest
	}
	host, _, _ := strings.Cut(ep, "/")
	return host
}
