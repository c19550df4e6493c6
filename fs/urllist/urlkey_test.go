package urllist

import (
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/httporigin"
)

func TestURLKey(t *testing.T) {
	cases := []struct{ url, key, path string }{
		{"http://example.com/a/b.txt", "example.com/a/b.txt", "example.com/a/b.txt"},
		{"HTTPS://Example.COM:443/x", "example.com/x", "example.com/x"},
		{"http://example.com:80/x", "example.com/x", "example.com/x"},
		{"http://example.com:8080/x", "example.com:8080/x", "example.com:8080/x"},
		{"https://example.com:80/x", "example.com:80/x", "example.com:80/x"},
		{"http://[::1]:9000/x", "[::1]:9000/x", "[::1]:9000/x"},
		{"http://[::1]/x", "[::1]/x", "[::1]/x"},
		{"http://user:secret@h/x", "h/x", "h/x"},
		{"http://h/a%20b/100%25.txt", "h/a b/100%.txt", "h/a b/100%.txt"},
		{"http://h/a%2Fb", "h/a/b", "h/a/b"},
		{"http://h", "h/", "h/%%"},
		{"http://h/dir/", "h/dir/", "h/dir/%%"},
		{"http://h/a//b", "h/a//b", "h/a/%%/b"},
		{"http://h/a/./b", "h/a/./b", "h/a/%%Lg/b"},
		{"http://h/get?id=1&x=a/b", "h/get?id=1&x=a%2Fb", "h/get?id=1&x=a%2Fb"},
		{"http://h/?q", "h/?q", "h/?q"},
		{"http://h/frag#part", "h/frag", "h/frag"},
		{"http://h/%25%25x", "h/%%x", "h/%%JSV4"},
	}
	for _, c := range cases {
		_, key, err := urlKey(c.url)
		if err != nil {
			t.Errorf("urlKey(%q): %v", c.url, err)
			continue
		}
		if key != c.key {
			t.Errorf("urlKey(%q) = %q, want %q", c.url, key, c.key)
		}
		if p := fs.KeyToPath(key); p != c.path {
			t.Errorf("KeyToPath(urlKey(%q)) = %q, want %q", c.url, p, c.path)
		}
	}
	for _, bad := range []string{"ftp://h/x", "/just/a/path", "h/x", "http:///x", "http://h/%zz", "mailto:a@b"} {
		if _, key, err := urlKey(bad); err == nil {
			t.Errorf("urlKey(%q) = %q, want an error", bad, key)
		}
	}
}

func TestRedact(t *testing.T) {
	got := httporigin.Redact("https://user:secret@h/x?sig=1")
	if got != "https://user:xxxxx@h/x?sig=1" {
		t.Errorf("redact = %q, want the password masked", got)
	}
}
