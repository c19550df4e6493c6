package fetch

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// authScheme is the Authorization scheme of fetch requests.
const authScheme = "UCloud "

// ErrBadAuthorization reports an Authorization header that is missing or
// not of the form "UCloud <PublicKey>:<Signature>".
var ErrBadAuthorization = errors.New(`missing or malformed Authorization header (want "UCloud <PublicKey>:<Signature>")`)

// StringToSign is what a fetch request's signature covers:
// Method + "\n" + Content-MD5 + "\n" + Content-Type + "\n" + Date + "\n",
// each header value exactly as sent ("" when absent). There is no resource
// part.
func StringToSign(method, contentMD5, contentType, date string) string {
	return method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n"
}

// Sign returns Base64(HMAC-SHA1(privateKey, StringToSign(...))) in the
// standard padded alphabet.
func Sign(privateKey, method, contentMD5, contentType, date string) string {
	mac := hmac.New(sha1.New, []byte(privateKey))
	mac.Write([]byte(StringToSign(method, contentMD5, contentType, date)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignRequest sets r's Authorization header from its method and its
// Content-MD5, Content-Type and Date headers as they are now; set those
// first.
func SignRequest(r *http.Request, publicKey, privateKey string) {
	sig := Sign(privateKey, r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"), r.Header.Get("Date"))
	r.Header.Set("Authorization", authScheme+publicKey+":"+sig)
}

// ParseAuthorization splits "UCloud <PublicKey>:<Signature>" (the last
// colon separates the two; spaces around either part are dropped). It
// returns ErrBadAuthorization when either part is empty or the scheme
// differs.
func ParseAuthorization(h string) (publicKey, signature string, err error) {
	rest, ok := strings.CutPrefix(h, authScheme)
	if !ok {
		return "", "", ErrBadAuthorization
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", "", ErrBadAuthorization
	}
	publicKey, signature = strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1:])
	if publicKey == "" || signature == "" {
		return "", "", ErrBadAuthorization
	}
	return publicKey, signature, nil
}

// Verify reports whether signature is r's signature under privateKey,
// comparing in constant time.
func Verify(r *http.Request, privateKey, signature string) bool {
	want := Sign(privateKey, r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"), r.Header.Get("Date"))
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
