package httporigin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// Version names one version of a remote object by the validators its
// origin gave: the ETag when there is one, else the Last-Modified date.
// The zero Version names none.
//
// Every request of a copy carries the pinned version (Condition) and every
// response is compared with it (Check), so that bytes of two versions
// never meet in one copy: another ETag, another Last-Modified, or a
// validator gone missing means the object changed. The caller also treats
// a 412 as a change, and a 200 to a ranged request as the new version
// whole when Check fails on it (an origin honouring If-Range sends that).
//
// An origin that gives neither validator cannot name its versions: then
// only a size can be pinned, which is the caller's affair. Neither can a
// change within one response be seen: an origin that rewrites an object in
// place while sending it sends a mix itself.
type Version struct {
	ETag     string    // as sent, weak ("W/...") or strong; "" none
	Modified time.Time // Last-Modified; zero none
}

// VersionOf reads the validators in a response's headers. A Last-Modified
// that does not parse counts as none; the date is in UTC.
func VersionOf(h http.Header) Version {
	v := Version{ETag: h.Get("ETag")}
	if lm := h.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			v.Modified = t.UTC()
		}
	}
	return v
}

// Named reports whether v names a version (has an ETag or a date).
func (v Version) Named() bool { return v.ETag != "" || !v.Modified.IsZero() }

// StrongETag reports whether etag may be sent in If-Match or If-Range,
// which compare strongly: a weak ETag never matches there.
func StrongETag(etag string) bool { return etag != "" && !strings.HasPrefix(etag, "W/") }

// Condition sets v's conditions on a request's headers: If-Match with a
// strong ETag, or If-Unmodified-Since with the date when v has no ETag;
// ranged requests also get If-Range with the same validator. A weak ETag
// sets nothing (it would never match, and the date is not the version's
// name then), nor does the zero Version.
func (v Version) Condition(h http.Header, ranged bool) {
	var ifRange string
	switch {
	case StrongETag(v.ETag):
		h.Set("If-Match", v.ETag)
		ifRange = v.ETag
	case v.ETag == "" && !v.Modified.IsZero():
		date := v.Modified.UTC().Format(http.TimeFormat)
		h.Set("If-Unmodified-Since", date)
		ifRange = date
	}
	if ranged && ifRange != "" {
		h.Set("If-Range", ifRange)
	}
}

// Check compares the validators in a response's headers with v and
// returns them. When v has an ETag, the response's must be the same
// string; else when v has a date, the response's Last-Modified must be
// the same instant; a zero v accepts anything. A difference, a missing
// validator among them, is an error wrapping fs.ErrChanged.
func (v Version) Check(h http.Header) (Version, error) {
	got := VersionOf(h)
	switch {
	case v.ETag != "" && got.ETag != v.ETag:
		return got, fmt.Errorf("ETag is now %s, was %s: %w", orNone(got.ETag), v.ETag, fs.ErrChanged)
	case v.ETag == "" && !v.Modified.IsZero() && !got.Modified.Equal(v.Modified):
		return got, fmt.Errorf("Last-Modified is now %s, was %s: %w", orNone(h.Get("Last-Modified")), v.Modified.UTC().Format(http.TimeFormat), fs.ErrChanged)
	}
	return got, nil
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}
