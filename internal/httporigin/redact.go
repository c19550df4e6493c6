package httporigin

import "net/url"

// Redact returns raw fit for a log line, an error or a callback message:
// the user info of the URL is masked (a password as "xxxxx", a user name
// given alone as "xxxxx" too, since it is often a token), and a URL that
// does not parse is replaced whole, since it cannot be told what part of
// it is secret. It never returns the secret.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		return u.Redacted()
	}
	u.User = url.User("xxxxx")
	return u.String()
}
