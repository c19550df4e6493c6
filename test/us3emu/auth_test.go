package us3emu

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestSigner_WorkedExamples(t *testing.T) {
	g := &signer{publicKey: "PUB", privateKey: "PRIV", now: time.Now}
	if got := g.sign(stringToSign("PUT", "", "text/plain", "", "", "mybucket", "k1", "")); got != "rQ1zc0rnyU6xnZ6QrsbWYQVfixw=" {
		t.Errorf("header signature %s", got)
	}
	if got := g.sign(stringToSign("GET", "", "", "1700000000", "", "mybucket", "k1", "")); got != "QYvNQWiKmIrOnwWcjh0HKQMMNFg=" {
		t.Errorf("presigned signature %s", got)
	}
}

func TestSigner_VerifyRequest(t *testing.T) {
	now := time.Unix(1699990000, 0)
	g := &signer{publicKey: "PUB", privateKey: "PRIV", now: func() time.Time { return now }}
	put := func(auth string) *http.Request {
		r, _ := http.NewRequest("PUT", "http://x/k1", nil)
		r.Header.Set("Content-Type", "text/plain")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	cases := []struct {
		name   string
		auth   string
		status int // 0 = accepted
	}{
		{"good", "UCloud PUB:rQ1zc0rnyU6xnZ6QrsbWYQVfixw=", 0},
		{"missing", "", http.StatusUnauthorized},
		{"malformed", "Bearer x", http.StatusUnauthorized},
		{"wrong public key", "UCloud OTHER:rQ1zc0rnyU6xnZ6QrsbWYQVfixw=", http.StatusForbidden},
		{"bad signature", "UCloud PUB:AAAAc0rnyU6xnZ6QrsbWYQVfixw=", http.StatusForbidden},
		{"policy not signed", "UCloud PUB:rQ1zc0rnyU6xnZ6QrsbWYQVfixw=:cG9saWN5", http.StatusForbidden},
	}
	for _, c := range cases {
		e := g.verifyRequest(put(c.auth), url.Values{}, "mybucket", "k1")
		switch {
		case c.status == 0 && e != nil:
			t.Errorf("%s: refused: %v", c.name, e)
		case c.status != 0 && (e == nil || e.Status != c.status):
			t.Errorf("%s: got %v, want status %d", c.name, e, c.status)
		}
	}
	// The policy variant signs the policy after the resource.
	pol := "cG9saWN5"
	sig := g.sign(stringToSign("PUT", "", "text/plain", "", "", "mybucket", "k1", pol))
	if e := g.verifyRequest(put("UCloud PUB:"+sig+":"+pol), url.Values{}, "mybucket", "k1"); e != nil {
		t.Errorf("policy variant refused: %v", e)
	}
	// The canonicalised x-ucloud-* header variant is accepted too.
	r := put("")
	r.Header.Set("X-Ucloud-Foo", " bar ")
	sig = g.sign(stringToSign("PUT", "", "text/plain", "", "x-ucloud-foo:bar\n", "mybucket", "k1", ""))
	r.Header.Set("Authorization", "UCloud PUB:"+sig)
	if e := g.verifyRequest(r, url.Values{}, "mybucket", "k1"); e != nil {
		t.Errorf("canonical header variant refused: %v", e)
	}
	// Presigned: the worked example is valid until 1700000000, and expiry is
	// checked before the signature.
	get, _ := http.NewRequest("GET", "http://x/k1", nil)
	q := url.Values{"Expires": {"1700000000"}, "UCloudPublicKey": {"PUB"}, "Signature": {"QYvNQWiKmIrOnwWcjh0HKQMMNFg="}}
	if e := g.verifyRequest(get, q, "mybucket", "k1"); e != nil {
		t.Errorf("presigned refused: %v", e)
	}
	if e := g.verifyRequest(get, q, "mybucket", "k2"); e == nil || e.Code != retBadSignature {
		t.Errorf("presigned for another key: %v", e)
	}
	now = time.Unix(1700000001, 0)
	q.Set("Signature", "garbage")
	if e := g.verifyRequest(get, q, "mybucket", "k1"); e == nil || e.Code != retExpired {
		t.Errorf("expired presigned: %v", e)
	}
}
