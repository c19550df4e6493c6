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
)

// ErrRefused reports a URL the policy does not allow. Errors wrapping it
// say which address was refused and why.
var ErrRefused = errors.New("URL refused by policy")

// maxRedirects is how many redirects an origin may send.
const maxRedirects = 10

// Policy decides which URLs a task may fetch. Only http and https are
// allowed. Unless AllowPrivate is set, targets that resolve to loopback,
// link-local (169.254.0.0/16, fe80::/10: cloud metadata services), private
// (10/8, 172.16/12, 192.168/16, fc00::/7), unspecified (0.0.0.0, ::, and
// 0.0.0.0/8) or multicast addresses are refused.
//
// The address check runs where it cannot be bypassed: in the dialer, on the
// address actually connected to, after DNS resolution (Control), so a name
// that resolves to 127.0.0.1 and every redirect target is checked too.
// CheckURL is a cheap early check (scheme, literal IPs) the handler runs
// before queueing. The origin client uses no proxy, so the dialed address is
// the origin's.
type Policy struct {
	AllowPrivate bool
}

// CheckURL validates raw as a fetchable URL without DNS: scheme http or
// https, a host, and (unless AllowPrivate) a host that is not a refused
// literal IP address. Errors for refused addresses wrap ErrRefused.
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
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return p.CheckAddr(ip)
	}
	return nil
}

// CheckAddr returns an error wrapping ErrRefused when ip is not allowed.
func (p Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if class := addrClass(ip.Unmap()); class != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrRefused, ip.Unmap(), class)
	}
	return nil
}

// thisNetwork is 0.0.0.0/8, which Linux dials as the local host.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// addrClass names the refused class ip belongs to, or "".
func addrClass(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsUnspecified(), ip.Is4() && thisNetwork.Contains(ip):
		return "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	}
	return ""
}

// Control is a net.Dialer Control function: it refuses connections to
// addresses the policy does not allow. address is the resolved "ip:port".
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
		return fmt.Errorf("redirect to %s: %w", redact(req.URL.String()), err)
	}
	return nil
}

// dialer returns a dialer that enforces p.
func (p Policy) dialer() *net.Dialer {
	return &net.Dialer{Control: p.Control, Timeout: dialTimeout, KeepAlive: keepAlive}
}

// redact removes any user:password from a URL for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
