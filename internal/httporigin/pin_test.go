package httporigin

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// A pin that names nothing adopts the first response that names a
// version, then holds every response to it, and conditions requests on it.
func TestPin_Check(t *testing.T) {
	p := NewPin(Version{})
	if err := p.Check(headers()); err != nil {
		t.Fatalf("unnamed response to an unnamed pin: %v", err)
	}
	if err := p.Check(headers("ETag", `"a"`)); err != nil {
		t.Fatalf("first named response: %v", err)
	}
	h := http.Header{}
	p.Condition(h, true)
	if h.Get("If-Match") != `"a"` || h.Get("If-Range") != `"a"` {
		t.Fatalf("conditions after adopting %q: %v", `"a"`, h)
	}
	if err := p.Check(headers("ETag", `"a"`)); err != nil {
		t.Fatalf("same version: %v", err)
	}
	if err := p.Check(headers("ETag", `"b"`)); !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("another ETag: %v, want fs.ErrChanged", err)
	}
	if err := p.Check(headers()); !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("the validator gone: %v, want fs.ErrChanged", err)
	}
}

func TestNewPin(t *testing.T) {
	p := NewPin(Version{Modified: mod})
	if err := p.Check(headers("Last-Modified", later)); !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("a later date against a pinned one: %v, want fs.ErrChanged", err)
	}
}
