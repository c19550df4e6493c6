package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/ferry-project/ferry/internal/httporigin"
)

// ErrRefused reports a URL the policy does not allow. Errors wrapping it
// say which address was refused and why.
var ErrRefused = errors.New("URL refused by policy")

// maxRedirects is how many redirects an origin may send.
const maxRedirects = 10

// Policy decides which URLs a task may fetch and which callback targets
// the master may POST to. Only http and https are allowed. Unless
// AllowPrivate is set, a target is refused when its address is in the IANA
// special-purpose registries (loopback, link-local and cloud metadata,
// private, shared 100.64/10, benchmarking, reserved, multicast, any IPv6
// outside 2000::/3, …: judged by code.dny.dev/ssrf), or when it is an IPv6
// address that embeds such an IPv4 address (mapped, compatible, NAT64,
// 6to4, Teredo); see CheckAddr.
//
// The address check runs where it cannot be bypassed: in the dialer, on the
// address actually connected to, after DNS resolution (Control), so a name
// that resolves to 127.0.0.1 and every redirect target is checked too; it
// is the authoritative check for names. CheckURL is the early check, made
// before a task is queued, of everything decidable without DNS: the scheme,
// literal addresses in any form resolvers accept (127.1, 2130706433,
// 0x7f000001, 0177.0.0.1, [::ffff:7f00:1]) and the names reserved for the
// local host (localhost, *.localhost). The clients that use a Policy use no
// proxy, so the dialed address is the target's.
type Policy struct {
	AllowPrivate bool
}

// CheckURL validates raw as a fetchable URL without DNS: scheme http or
// https, a host, and (unless AllowPrivate) a host that is not a refused
// literal address or a local-host name. Errors for refused hosts wrap
// ErrRefused; other errors mean the URL is invalid.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid Url: %w", err)
	}
	if err := p.checkParsed(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkParsed is CheckURL on a parsed URL.
func (p Policy) checkParsed(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid Url: scheme %q is not http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("invalid Url: no host")
	}
	if p.AllowPrivate {
		return nil
	}
	return p.checkHost(u.Hostname())
}

// checkHost judges a URL's host without DNS. A trailing dot (the DNS root)
// is ignored. An IP literal is judged by CheckAddr; a host whose last label
// is a number is an IPv4 address in a legacy form (as inet_aton and the
// WHATWG URL standard read it) and is refused whatever it decodes to, since
// resolvers disagree on it; localhost and names under .localhost are the
// local host (RFC 6761).
func (p Policy) checkHost(host string) error {
	h := strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return p.CheckAddr(ip)
	}
	if ip, numeric, err := legacyIPv4(h); numeric {
		if err != nil {
			return fmt.Errorf("invalid Url: host %q: %w", host, err)
		}
		return fmt.Errorf("%w: host %q is the IPv4 address %s in a non-standard form", ErrRefused, host, ip)
	}
	if l := strings.ToLower(h); l == "localhost" || strings.HasSuffix(l, ".localhost") {
		return fmt.Errorf("%w: host %q is a loopback name (RFC 6761 localhost)", ErrRefused, host)
	}
	return nil
}

// CheckAddr returns an error wrapping ErrRefused when ip is not allowed:
// unless AllowPrivate, when ip (its zone dropped, IPv4-mapped unmapped) or
// an IPv4 address embedded in it is special-purpose (see judgeAddr).
func (p Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	return judgeAddr(ip)
}

// Control is a net.Dialer Control function: it refuses connections to
// addresses the policy does not allow. address is the resolved "ip:port";
// Control runs before the connection is attempted, so nothing is sent to a
// refused address.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check dialed address %q: %v", ErrRefused, address, err)
	}
	return p.CheckAddr(ap.Addr())
}

// CheckRedirect is an http.Client CheckRedirect function: every redirect
// target must pass CheckURL (its address is checked again when dialed), at
// most maxRedirects times.
func (p Policy) CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if err := p.checkParsed(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", httporigin.Redact(req.URL.String()), err)
	}
	return nil
}

// dialer returns a dialer that enforces p.
func (p Policy) dialer() *net.Dialer {
	return &net.Dialer{Control: p.Control, Timeout: dialTimeout, KeepAlive: keepAlive}
}
