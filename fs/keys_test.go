package fs

import (
	"strings"
	"testing"
)

func TestKeyToPath_RoundTrip(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: valid
	tooLong := strings.Repeat("x", 300)
	cases := map[string]string{
		"a/b/c.txt":      "a/b/c.txt",
		"x/":             "x/%%",
		"a//b":           "a/%%/b",
		"./a/../b":       "%%Lg/a/%%Li4/b",
		"a/" + long:      "a/" + long,
		"bad\xffname":    "%%YmFk_25hbWU",
		"has%%mark":      "%%aGFzJSVtYXJr",
		"sp ace/+%#/ü.t": "sp ace/+%#/ü.t",
	}
	for key, want := range cases {
		got := KeyToPath(key)
		if got != want {
			t.Errorf("KeyToPath(%q) = %q, want %q", key, got, want)
		}
		back, exact := PathToKey(got)
		if !exact || back != key {
			t.Errorf("PathToKey(%q) = %q, %v; want %q, true", got, back, exact, key)
		}
	}
	p := KeyToPath("d/" + tooLong)
	seg := p[len("d/"):]
	if len(seg) > MaxNameLen || !strings.HasPrefix(seg, strings.Repeat("x", LongPrefixLen)+EscapeMark) {
		t.Fatalf("long segment escaped to %q (%d bytes)", seg, len(seg))
	}
	if _, exact := PathToKey(p); exact {
		t.Fatalf("PathToKey of a hashed long name claims to be exact")
	}
	if k, ok := UnescapeSegment(ClashName("a")); !ok || k != "a" {
		t.Fatalf("UnescapeSegment(ClashName(a)) = %q, %v", k, ok)
	}
}
