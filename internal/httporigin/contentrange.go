package httporigin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ParseContentRange parses a Content-Range header: "bytes first-last/total"
// (a 206) or "bytes */total" (a 416), where total may be "*" (unknown).
// first and last are -1 in the second form, total is -1 when "*". A
// header of neither form, a number that does not parse or is negative, last before
// first, or last at or past a known total is an error.
func ParseContentRange(s string) (first, last, total int64, err error) {
	bad := fmt.Errorf("parse Content-Range %q: malformed", s)
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	span, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < 0 {
			return 0, 0, 0, bad
		}
	}
	if span == "*" {
		return -1, -1, total, nil
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first || (total >= 0 && last >= total) {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// AcceptsRanges reports whether a response's headers advertise byte
// ranges (Accept-Ranges containing "bytes", in any case).
func AcceptsRanges(h http.Header) bool {
	return strings.Contains(strings.ToLower(h.Get("Accept-Ranges")), "bytes")
}
