package fs

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzKeyToPath checks the key→path rule on arbitrary keys: the path has one
// segment per key segment, each a valid file name (non-empty, not "." or
// "..", at most MaxNameLen bytes, valid UTF-8, no NUL); PathToKey gives the
// key back, exactly unless some segment was too long to escape reversibly,
// and then every other segment still comes back and the cut one is marked
// inexact; a ClashName unescapes to the same key segment as the name it
// extends; a path without EscapeMark is its own key.
func FuzzKeyToPath(f *testing.F) {
	long := strings.Repeat("x", MaxNameLen)
	for _, k := range []string{"", "a", "a/b/c.txt", "a//b", "/", "//", "x/", "/lead", ".", "..", "./a/../b", "a/./b",
		"%", "%%", "%%%", "a%%b", "%%Lg", "%%Li4", "%%file", "a%%file", "%/%%/%%%", "nul\x00byte", "\x00",
		"bad\xffname", "\xff", "\xc3", "é/ü", "sp ace/+%#?", long, long + "x", long[:254] + "é",
		strings.Repeat("é", 128), strings.Repeat("\xff", 300), strings.Repeat("%%", 200), strings.Repeat("x", 189),
		strings.Repeat("x", 190), strings.Repeat("x", 192), "d/" + strings.Repeat(".", 300), strings.Repeat("\x00", 256),
		strings.Repeat("é", 90) + "\xff", "a/" + long + "/b/" + long + "x/", "%" + strings.Repeat("\xff", 300)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p := KeyToPath(key)
		ksegs, psegs := strings.Split(key, "/"), strings.Split(p, "/")
		if len(psegs) != len(ksegs) {
			t.Fatalf("KeyToPath(%q) = %q: %d segments, key has %d", key, p, len(psegs), len(ksegs))
		}
		back, exact := PathToKey(p)
		bsegs := strings.Split(back, "/")
		if len(bsegs) != len(ksegs) {
			t.Fatalf("PathToKey(%q) = %q: %d segments, key %q has %d", p, back, len(bsegs), key, len(ksegs))
		}
		allExact := true
		for i, seg := range psegs {
			if reason := invalidName(seg); reason != "" {
				t.Fatalf("KeyToPath(%q) segment %d = %q (%d bytes): %s", key, i, seg, len(seg), reason)
			}
			if seg != EscapeSegment(ksegs[i]) {
				t.Fatalf("KeyToPath(%q) segment %d = %q, EscapeSegment = %q", key, i, seg, EscapeSegment(ksegs[i]))
			}
			k, ok := UnescapeSegment(seg)
			if ok != reversible(ksegs[i]) {
				t.Fatalf("UnescapeSegment(%q) exact = %v for key segment %q (%d bytes)", seg, ok, ksegs[i], len(ksegs[i]))
			}
			if ok && k != ksegs[i] {
				t.Fatalf("UnescapeSegment(%q) = %q, want key segment %q", seg, k, ksegs[i])
			}
			if ok && bsegs[i] != ksegs[i] {
				t.Fatalf("PathToKey(%q) segment %d = %q, want %q", p, i, bsegs[i], ksegs[i])
			}
			allExact = allExact && ok
			c := ClashName(seg)
			if ck, cok := UnescapeSegment(c); ck != k || cok != ok {
				t.Fatalf("UnescapeSegment(ClashName(%q)) = %q, %v; want %q, %v", seg, ck, cok, k, ok)
			}
			if ok && EscapeSegment(k) == c {
				t.Fatalf("ClashName(%q) = %q is also the plain name of key segment %q", seg, c, k)
			}
		}
		if exact != allExact {
			t.Fatalf("PathToKey(%q) exact = %v, segments say %v", p, exact, allExact)
		}
		if exact && back != key {
			t.Fatalf("PathToKey(KeyToPath(%q)) = %q", key, back)
		}
		if !strings.Contains(key, EscapeMark) {
			if k, ok := PathToKey(key); !ok || k != key {
				t.Fatalf("PathToKey(%q) = %q, %v; a path without %s is its own key", key, k, ok, EscapeMark)
			}
		}
	})
}

// invalidName says why name is not a valid file name, or "" when it is.
func invalidName(name string) string {
	switch {
	case name == "", name == ".", name == "..":
		return "empty, . or .."
	case len(name) > MaxNameLen:
		return "longer than MaxNameLen"
	case !utf8.ValidString(name):
		return "invalid UTF-8"
	case strings.ContainsAny(name, "\x00/"):
		return "holds NUL or /"
	}
	return ""
}

// reversible reports whether a key segment escapes to a name PathToKey
// reverses exactly: kept as it is, or base64 that fits in MaxNameLen.
func reversible(seg string) bool {
	kept := seg != "" && seg != "." && seg != ".." && len(seg) <= MaxNameLen && utf8.ValidString(seg) &&
		!strings.Contains(seg, "\x00") && !strings.Contains(seg, EscapeMark)
	return kept || len(EscapeMark)+base64.RawURLEncoding.EncodedLen(len(seg)) <= MaxNameLen
}
