package fetch

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// The expected signatures were computed independently with
// printf 'POST\n\napplication/json\nThu, 01 Jan 2026 00:00:00 GMT\n' | openssl dgst -sha1 -hmac my-private-key -binary | base64
func TestSign_workedExample(t *testing.T) {
	for _, c := range []struct{ method, md5, ctype, date, want string }{
		{"POST", "", "application/json", "Thu, 01 Jan 2026 00:00:00 GMT", "dmoqjNLXN6K4bsMFSLDhKn+vUUE="},
		{"GET", "", "", "", "Lw1V+y8Qg0G5xtitwXs6DDsbfAg="},
	} {
		if got := Sign("my-private-key", c.method, c.md5, c.ctype, c.date); got != c.want {
			t.Errorf("Sign(%s) = %s, want %s", c.method, got, c.want)
		}
	}
	if got := StringToSign("POST", "m", "t", "d"); got != "POST\nm\nt\nd\n" {
		t.Errorf("StringToSign = %q", got)
	}
}

func TestSignRequest_Verify(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://m/fetch/", strings.NewReader("{}"))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
	SignRequest(r, "pub-1", "my-private-key")
	if got := r.Header.Get("Authorization"); got != "UCloud pub-1:dmoqjNLXN6K4bsMFSLDhKn+vUUE=" {
		t.Fatalf("Authorization = %q", got)
	}
	pub, sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || pub != "pub-1" {
		t.Fatalf("ParseAuthorization = %q, %q, %v", pub, sig, err)
	}
	if !Verify(r, "my-private-key", sig) {
		t.Fatal("Verify rejected its own signature")
	}
	if Verify(r, "other-key", sig) {
		t.Fatal("Verify accepted a signature under another key")
	}
	r.Header.Set("Content-Type", "text/plain") // a signed header changed
	if Verify(r, "my-private-key", sig) {
		t.Fatal("Verify accepted a request whose Content-Type changed")
	}
}

func TestParseAuthorization(t *testing.T) {
	for _, h := range []string{"", "UCloud", "UCloud ", "UCloud pub", "UCloud :sig", "UCloud pub:", "Bearer pub:sig", "ucloud pub:sig"} {
		if _, _, err := ParseAuthorization(h); !errors.Is(err, ErrBadAuthorization) {
			t.Errorf("ParseAuthorization(%q) err = %v, want ErrBadAuthorization", h, err)
		}
	}
	// The last colon separates: public keys may contain colons.
	pub, sig, err := ParseAuthorization("UCloud a:b:c2lnPQ==")
	if err != nil || pub != "a:b" || sig != "c2lnPQ==" {
		t.Fatalf("ParseAuthorization = %q %q %v", pub, sig, err)
	}
}
