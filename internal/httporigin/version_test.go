package httporigin

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
)

var (
	mod     = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	modDate = "Fri, 01 Mar 2024 12:30:00 GMT"
	later   = "Fri, 01 Mar 2024 12:30:01 GMT"
)

// headers builds response headers from name/value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVersionOf(t *testing.T) {
	cases := []struct {
		name string
		h    http.Header
		want Version
	}{
		{"none", headers(), Version{}},
		{"strong ETag", headers("ETag", `"abc"`), Version{ETag: `"abc"`}},
		{"weak ETag", headers("ETag", `W/"abc"`), Version{ETag: `W/"abc"`}},
		{"Last-Modified only", headers("Last-Modified", modDate), Version{Modified: mod}},
		{"both", headers("ETag", `"abc"`, "Last-Modified", modDate), Version{ETag: `"abc"`, Modified: mod}},
		{"Last-Modified unparsable", headers("Last-Modified", "yesterday"), Version{}},
		{"Last-Modified in another zone form", headers("Last-Modified", "Friday, 01-Mar-24 12:30:00 GMT"), Version{Modified: mod}},
	}
	for _, c := range cases {
		got := VersionOf(c.h)
		if got.ETag != c.want.ETag || !got.Modified.Equal(c.want.Modified) || got.Modified.Location() != time.UTC {
			t.Errorf("%s: VersionOf = %+v, want %+v (UTC)", c.name, got, c.want)
		}
		if got.Named() != c.want.Named() {
			t.Errorf("%s: Named = %v", c.name, got.Named())
		}
	}
}

func TestVersion_Named(t *testing.T) {
	for v, want := range map[Version]bool{
		{}:              false,
		{ETag: `"a"`}:   true,
		{ETag: `W/"a"`}: true,
		{Modified: mod}: true,
		{`"a"`, mod}:    true,
	} {
		if v.Named() != want {
			t.Errorf("%+v.Named() = %v, want %v", v, !want, want)
		}
	}
}

func TestStrongETag(t *testing.T) {
	for etag, want := range map[string]bool{
		`"abc"`: true, `"W/abc"`: true, `W/"abc"`: false, "": false, `""`: true,
	} {
		if StrongETag(etag) != want {
			t.Errorf("StrongETag(%q) = %v, want %v", etag, !want, want)
		}
	}
}

func TestVersion_Condition(t *testing.T) {
	local := time.FixedZone("UTC+2", 2*3600)
	cases := []struct {
		name    string
		v       Version
		ranged  bool
		ifMatch string
		ifUnmod string
		ifRange string
	}{
		{"none", Version{}, false, "", "", ""},
		{"none, ranged", Version{}, true, "", "", ""},
		{"strong ETag", Version{ETag: `"abc"`}, false, `"abc"`, "", ""},
		{"strong ETag, ranged", Version{ETag: `"abc"`}, true, `"abc"`, "", `"abc"`},
		{"strong ETag and date: the ETag only", Version{ETag: `"abc"`, Modified: mod}, true, `"abc"`, "", `"abc"`},
		{"weak ETag: nothing", Version{ETag: `W/"abc"`}, true, "", "", ""},
		{"weak ETag and date: nothing", Version{ETag: `W/"abc"`, Modified: mod}, true, "", "", ""},
		{"Last-Modified only", Version{Modified: mod}, false, "", modDate, ""},
		{"Last-Modified only, ranged", Version{Modified: mod}, true, "", modDate, modDate},
		{"Last-Modified in another zone", Version{Modified: mod.In(local)}, true, "", modDate, modDate},
	}
	for _, c := range cases {
		h := http.Header{}
		c.v.Condition(h, c.ranged)
		if h.Get("If-Match") != c.ifMatch || h.Get("If-Unmodified-Since") != c.ifUnmod || h.Get("If-Range") != c.ifRange {
			t.Errorf("%s: If-Match %q, If-Unmodified-Since %q, If-Range %q; want %q, %q, %q", c.name,
				h.Get("If-Match"), h.Get("If-Unmodified-Since"), h.Get("If-Range"), c.ifMatch, c.ifUnmod, c.ifRange)
		}
		if len(h) != countSet(c.ifMatch, c.ifUnmod, c.ifRange) {
			t.Errorf("%s: set other headers: %v", c.name, h)
		}
	}
}

func countSet(s ...string) int {
	n := 0
	for _, x := range s {
		if x != "" {
			n++
		}
	}
	return n
}

func TestVersion_Check(t *testing.T) {
	cases := []struct {
		name    string
		v       Version
		h       http.Header
		changed bool
	}{
		{"none pinned, none sent", Version{}, headers(), false},
		{"none pinned, anything sent", Version{}, headers("ETag", `"x"`, "Last-Modified", later), false},
		{"strong ETag unchanged", Version{ETag: `"abc"`}, headers("ETag", `"abc"`), false},
		{"strong ETag changed", Version{ETag: `"abc"`}, headers("ETag", `"abd"`), true},
		{"strong ETag missing", Version{ETag: `"abc"`}, headers("Last-Modified", modDate), true},
		{"strong ETag now weak", Version{ETag: `"abc"`}, headers("ETag", `W/"abc"`), true},
		{"weak ETag unchanged", Version{ETag: `W/"abc"`}, headers("ETag", `W/"abc"`), false},
		{"weak ETag changed", Version{ETag: `W/"abc"`}, headers("ETag", `W/"abd"`), true},
		{"ETag pinned: the date is not compared", Version{ETag: `"abc"`, Modified: mod}, headers("ETag", `"abc"`, "Last-Modified", later), false},
		{"Last-Modified unchanged", Version{Modified: mod}, headers("Last-Modified", modDate), false},
		{"Last-Modified unchanged, ETag now sent", Version{Modified: mod}, headers("ETag", `"new"`, "Last-Modified", modDate), false},
		{"Last-Modified changed", Version{Modified: mod}, headers("Last-Modified", later), true},
		{"Last-Modified missing", Version{Modified: mod}, headers(), true},
		{"Last-Modified unparsable", Version{Modified: mod}, headers("Last-Modified", "yesterday"), true},
	}
	for _, c := range cases {
		got, err := c.v.Check(c.h)
		if errors.Is(err, fs.ErrChanged) != c.changed || (err != nil && !c.changed) {
			t.Errorf("%s: Check = %v, want changed %v", c.name, err, c.changed)
		}
		if want := VersionOf(c.h); got != want {
			t.Errorf("%s: Check returned %+v, want the response's %+v", c.name, got, want)
		}
	}
}

// The error names both validators, and "absent" for a missing one.
func TestVersion_CheckMessage(t *testing.T) {
	for _, c := range []struct {
		v    Version
		h    http.Header
		want string
	}{
		{Version{ETag: `"a"`}, headers(), `ETag is now absent, was "a"`},
		{Version{ETag: `"a"`}, headers("ETag", `"b"`), `ETag is now "b", was "a"`},
		{Version{Modified: mod}, headers(), "Last-Modified is now absent, was " + modDate + ""},
		{Version{Modified: mod}, headers("Last-Modified", later), "Last-Modified is now " + later + ", was " + modDate + ""},
	} {
		want := c.want + ": " + fs.ErrChanged.Error()
		if _, err := c.v.Check(c.h); err == nil || err.Error() != want {
			t.Errorf("Check(%+v, %v) = %v, want %q", c.v, c.h, err, want)
		}
	}
}
