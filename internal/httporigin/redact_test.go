package httporigin

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://h/x?sig=1", "https://h/x?sig=1"},
		{"https://user:secret@h/x?sig=1", "https://user:xxxxx@h/x?sig=1"},
		{"https://secret@h/x", "https://xxxxx@h/x"},
		{"https://:secret@h/x", "https://:xxxxx@h/x"},
		{"http://u:secret@h:8080/a b", "http://u:xxxxx@h:8080/a%20b"},
		{"://secret@h", "(unparsable url)"},
		{"http://u:secret@h/%zz", "(unparsable url)"},
		{"http://u:se cret@[::1", "(unparsable url)"},
		{"", ""},
	}
	for _, c := range cases {
		got := Redact(c.in)
		if got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("Redact(%q) = %q returns the secret", c.in, got)
		}
	}
}
