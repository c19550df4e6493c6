package httporigin

import (
	"net/http"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 0-0/1", 0, 0, 1, true},
		{"bytes 0-99/100", 0, 99, 100, true},
		{"bytes 100-199/1000", 100, 199, 1000, true},
		{" bytes 5-9/10 ", 5, 9, 10, true},
		{"bytes 5-9/*", 5, 9, -1, true},
		{"bytes */100", -1, -1, 100, true},
		{"bytes */0", -1, -1, 0, true},
		{"bytes */*", -1, -1, -1, true},
		{"", 0, 0, 0, false},
		{"bytes", 0, 0, 0, false},
		{"items 0-9/10", 0, 0, 0, false},
		{"bytes=0-9/10", 0, 0, 0, false},
		{"bytes 0-9", 0, 0, 0, false},
		{"bytes 0-9/", 0, 0, 0, false},
		{"bytes 9/10", 0, 0, 0, false},
		{"bytes 9-0/10", 0, 0, 0, false},
		{"bytes -1-5/10", 0, 0, 0, false},
		{"bytes a-5/10", 0, 0, 0, false},
		{"bytes 0-b/10", 0, 0, 0, false},
		{"bytes 0-9/ten", 0, 0, 0, false},
		{"bytes 0-9/-5", 0, 0, 0, false},    // fetch's copy took a negative total
		{"bytes 0-10/10", 0, 0, 0, false},   // fetch's copy took a last past the total
		{"bytes 0-199/100", 0, 0, 0, false}, // likewise
		{"bytes */-1", 0, 0, 0, false},
		{"bytes */", 0, 0, 0, false},
		{"bytes 0-9/10/11", 0, 0, 0, false},
	}
	for _, c := range cases {
		first, last, total, err := ParseContentRange(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseContentRange(%q): err = %v, want ok %v", c.in, err, c.ok)
			continue
		}
		if c.ok && (first != c.first || last != c.last || total != c.total) {
			t.Errorf("ParseContentRange(%q) = %d, %d, %d; want %d, %d, %d", c.in, first, last, total, c.first, c.last, c.total)
		}
		if !c.ok && (first != 0 || last != 0 || total != 0) {
			t.Errorf("ParseContentRange(%q) failed but returned %d, %d, %d", c.in, first, last, total)
		}
	}
}

func TestAcceptsRanges(t *testing.T) {
	for v, want := range map[string]bool{"bytes": true, "Bytes": true, "none": false, "": false, "bytes, items": true} {
		h := http.Header{}
		if v != "" {
			h.Set("Accept-Ranges", v)
		}
		if AcceptsRanges(h) != want {
			t.Errorf("AcceptsRanges(%q) = %v, want %v", v, !want, want)
		}
	}
}
