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

// Authorization headers from the wire: never a crash, and a parsed header
// has a non-empty public key and signature that a signed header gives back.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"UCloud pub:c2ln", "UCloud a:b:c", "UCloud  :sig", "UCloud pub: ", "UCloud \t:\t",
		"UCloud :", "Bearer x", "", "UCloud pub:sig\x00", "UCloud " + strings.Repeat(":", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		pub, sig, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrBadAuthorization) {
				t.Fatalf("ParseAuthorization(%q) error %v does not wrap ErrBadAuthorization", h, err)
			}
			return
		}
		if pub == "" || sig == "" || strings.TrimSpace(pub) != pub || strings.TrimSpace(sig) != sig || strings.Contains(sig, ":") {
			t.Fatalf("ParseAuthorization(%q) = %q, %q", h, pub, sig)
		}
		if p2, s2, err := ParseAuthorization(authScheme + pub + ":" + sig); err != nil || p2 != pub || s2 != sig {
			t.Fatalf("round trip of %q, %q = %q, %q, %v", pub, sig, p2, s2, err)
		}
	})
}
