package urllist

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// urlKey parses one listed URL and returns its object key (see the package
// documentation):
//   - the host is lower-cased; a port is kept as "host:port" (':' is legal
//     in Linux file names) unless it is the scheme's default (80 for http,
//     443 for https), which is dropped; IPv6 hosts keep their brackets;
//     user info and the scheme never appear, so http://h/x and https://h/x
//     share one key (and the second is a duplicate);
//   - the path is the percent-decoded URL path ("" becomes "/"), so
//     http://h/a%20b has key "h/a b" and http://h/dir/ the key "h/dir/"
//     (shown as "h/dir/%%", fs.KeyToPath's name for an empty segment);
//   - a query string stays part of the last segment, as written in the list
//     (still percent-encoded) with any '/' in it written as "%2F" so that it
//     cannot start a new segment: http://h/a?x=1/2 has key "h/a?x=1%2F2";
//   - a fragment is dropped (it is never sent to the server).
func urlKey(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("parse url: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, "", fmt.Errorf("parse url %q: scheme must be http or https", u.Redacted())
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, "", fmt.Errorf("parse url %q: no host", u.Redacted())
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	key := host + p
	if u.RawQuery != "" || u.ForceQuery {
		key += "?" + strings.ReplaceAll(u.RawQuery, "/", "%2F")
	}
	return u, key, nil
}

// parentName splits a tree path into its parent directory ("" for the root)
// and its last segment.
func parentName(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}
