package us3emu

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// signer verifies US3 request signatures for one key pair.
type signer struct {
	publicKey  string
	privateKey string
	now        func() time.Time
}

// sign returns base64(HMAC-SHA1(privateKey, s)).
func (g *signer) sign(s string) string {
	mac := hmac.New(sha1.New, []byte(g.privateKey))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// stringToSign is METHOD\nContent-MD5\nContent-Type\nDate-or-Expires\n
// [canonical headers]/bucket/key[policy].
func stringToSign(method, md5, ctype, date, canon, bucket, key, policy string) string {
	return strings.ToUpper(method) + "\n" + md5 + "\n" + ctype + "\n" + date + "\n" +
		canon + "/" + bucket + "/" + key + policy
}

// equalSig compares signatures in constant time.
func equalSig(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// verifyHeader checks the Authorization header form (§2.1, §2.2): the plain
// string to sign, or the variant with canonicalised x-ucloud-* (and
// x-ufile-*) headers.
func (g *signer) verifyHeader(r *http.Request, bucket, key string) *apiError {
	auth := r.Header.Get("Authorization")
	return g.verifyAuthValue(auth, r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"),
		r.Header.Get("Date"), r.Header, bucket, key)
}

// verifyAuthValue checks an "UCloud pub:sig[:policy]" value against the
// given string-to-sign fields.
func (g *signer) verifyAuthValue(auth, method, md5, ctype, date string, h http.Header, bucket, key string) *apiError {
	if auth == "" {
		return errf(http.StatusUnauthorized, retNoAuthorization, "no authorization")
	}
	rest, ok := strings.CutPrefix(auth, "UCloud ")
	if !ok {
		return errf(http.StatusUnauthorized, retNoAuthorization, "malformed authorization")
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return errf(http.StatusUnauthorized, retNoAuthorization, "malformed authorization")
	}
	if !equalSig(parts[0], g.publicKey) {
		return errf(http.StatusForbidden, retBadSignature, "invalid public key")
	}
	policy := ""
	if len(parts) == 3 {
		policy = parts[2]
	}
	canons := []string{""}
	if c := canonicalHeaders(h, false); c != "" {
		canons = append(canons, c)
	}
	if c := canonicalHeaders(h, true); c != "" && c != canons[len(canons)-1] {
		canons = append(canons, c)
	}
	for _, canon := range canons {
		want := g.sign(stringToSign(method, md5, ctype, date, canon, bucket, key, policy))
		if equalSig(want, parts[1]) {
			return nil
		}
	}
	return errf(http.StatusForbidden, retBadSignature, "signature not match")
}

// verifyQuery checks the presigned form (§2.3): expiry first, then the
// signature over METHOD\nContent-MD5\nContent-Type\nExpires\n/bucket/key.
func (g *signer) verifyQuery(r *http.Request, q url.Values, bucket, key string) *apiError {
	expires := q.Get("Expires")
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return errf(http.StatusUnauthorized, retNoAuthorization, "malformed Expires")
	}
	if g.now().Unix() > exp {
		return errf(http.StatusForbidden, retExpired, "signature expired")
	}
	if !equalSig(q.Get("UCloudPublicKey"), g.publicKey) {
		return errf(http.StatusForbidden, retBadSignature, "invalid public key")
	}
	want := g.sign(stringToSign(r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"),
		expires, "", bucket, key, ""))
	if !equalSig(want, q.Get("Signature")) {
		return errf(http.StatusForbidden, retBadSignature, "signature not match")
	}
	return nil
}

// verifyRequest checks whichever of the header and query forms the request
// carries; the header form wins when both are present.
func (g *signer) verifyRequest(r *http.Request, q url.Values, bucket, key string) *apiError {
	if r.Header.Get("Authorization") == "" && q.Has("Signature") {
		return g.verifyQuery(r, q, bucket, key)
	}
	return g.verifyHeader(r, bucket, key)
}

// canonicalHeaders renders the x-ucloud-* (and, with ufile, x-ufile-*)
// headers lower-cased and sorted as "name:value\n", first value only.
func canonicalHeaders(h http.Header, ufile bool) string {
	var names []string
	vals := map[string]string{}
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-ucloud-") || ufile && strings.HasPrefix(lk, "x-ufile-") {
			names = append(names, lk)
			vals[lk] = strings.TrimSpace(v[0])
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":" + vals[n] + "\n")
	}
	return b.String()
}
