package fs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Object keys are arbitrary byte strings; Tree paths must be valid file
// names. The mapping below is the single rule every object-store driver, the
// mount, `ferry ls` and migration share. The destination always receives the
// original key (Entry.Key); only what a person sees changes.
//
// A path is the key split on '/', each segment mapped on its own:
//
//   - a valid segment (non-empty, not "." or "..", at most MaxNameLen bytes,
//     valid UTF-8, no NUL byte, not containing EscapeMark) is kept as it is;
//   - any other segment becomes EscapeMark + base64url(segment) (no padding);
//     so an empty segment ("a//b", or the trailing one of a folder marker
//     "x/") becomes exactly "%%", "." becomes "%%Lg" and ".." "%%Li4";
//   - a segment still longer than MaxNameLen after that is cut to its first
//     LongPrefixLen bytes (at a UTF-8 boundary) followed by EscapeMark and 32
//     hex digits of its SHA-256: not reversible, so drivers resolve it by
//     listing the parent;
//   - when a file and a directory share a name (keys "a" and "a/b"), the
//     directory keeps the name and the file is shown as name + ClashSuffix.
//
// Folder markers ("x/" with size 0) therefore appear as a file named "%%"
// in x; the drivers' ReadDir hides them (so the mount and `ferry ls` show the
// directory only), while Walk yields them so a migration recreates the marker.
const (
	EscapeMark    = "%%"
	ClashSuffix   = "%%file"
	MaxNameLen    = 255
	LongPrefixLen = 180
)

// KeyToPath maps an object key to its Tree path.
func KeyToPath(key string) string {
	if key == "" {
		return EscapeMark
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = EscapeSegment(s)
	}
	return strings.Join(segs, "/")
}

// EscapeSegment maps one key segment to a valid file name.
func EscapeSegment(s string) string {
	if validSegment(s) {
		return s
	}
	e := s
	if !(len(s) > MaxNameLen && utf8.ValidString(s) && !strings.Contains(s, "\x00") && !strings.Contains(s, EscapeMark)) {
		e = EscapeMark + base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	if len(e) <= MaxNameLen {
		return e
	}
	sum := sha256.Sum256([]byte(s))
	cut := strings.ToValidUTF8(s, "_")
	cut = strings.ReplaceAll(strings.ReplaceAll(cut, "\x00", "_"), EscapeMark, "__")
	if len(cut) > LongPrefixLen {
		cut = cut[:LongPrefixLen]
		for !utf8.ValidString(cut) {
			cut = cut[:len(cut)-1]
		}
	}
	if cut == "" || cut == "." || cut == ".." {
		cut = "_"
	}
	return cut + EscapeMark + hex.EncodeToString(sum[:16])
}

func validSegment(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= MaxNameLen && utf8.ValidString(s) &&
		!strings.Contains(s, "\x00") && !strings.Contains(s, EscapeMark)
}

// ClashName is the name shown for a file whose name a directory also has.
func ClashName(name string) string { return name + ClashSuffix }

// PathToKey reverses KeyToPath. exact is false when some segment was a long
// name cut with a hash; the caller must then find the key by listing the
// parent and comparing KeyToPath of each candidate.
func PathToKey(path string) (key string, exact bool) {
	segs := strings.Split(path, "/")
	exact = true
	for i, s := range segs {
		k, ok := UnescapeSegment(s)
		segs[i] = k
		exact = exact && ok
	}
	return strings.Join(segs, "/"), exact
}

// UnescapeSegment reverses EscapeSegment and ClashName for one segment.
func UnescapeSegment(s string) (string, bool) {
	if !strings.Contains(s, EscapeMark) {
		return s, true
	}
	if strings.HasPrefix(s, EscapeMark) {
		b, err := base64.RawURLEncoding.DecodeString(s[len(EscapeMark):])
		if err == nil {
			return string(b), true
		}
	}
	if strings.HasSuffix(s, ClashSuffix) {
		inner, ok := UnescapeSegment(strings.TrimSuffix(s, ClashSuffix))
		return inner, ok
	}
	return s, false
}
