package fetch

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"code.dny.dev/ssrf"
)

// FuzzPolicy_CheckAddr checks the invariants of the address policy on
// arbitrary 4- and 16-byte addresses: an allowed address, once unwrapped,
// is in no special-purpose range; addresses that carry IPv4 for another
// network's sake (6to4, Teredo, IPv4-compatible, local-use NAT64) are never
// allowed; NAT64 is allowed only for a public IPv4 address; Control agrees
// with CheckAddr; AllowPrivate allows everything.
func FuzzPolicy_CheckAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "100.64.0.1", "169.254.169.254", "255.255.255.255", "::1", "::",
		"::127.0.0.1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::808:808",
		"2002:7f00:1::", "2002:808:808::", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:4860:4860::8888", "fec0::1",
		"fe80::1", "ff02::1", "2001:db8::1", "3fff::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		err := Policy{}.CheckAddr(ip)
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("CheckAddr(%s) = %v, not ErrRefused", ip, err)
		}
		if (Policy{AllowPrivate: true}).CheckAddr(ip) != nil {
			t.Fatalf("AllowPrivate refused %s", ip)
		}
		if cerr := (Policy{}).Control("tcp", netip.AddrPortFrom(ip, 443).String(), nil); (cerr == nil) != (err == nil) {
			t.Fatalf("Control(%s) = %v but CheckAddr = %v", ip, cerr, err)
		}
		if err != nil {
			return
		}
		a := ip.Unmap()
		if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() ||
			a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
			t.Fatalf("CheckAddr allowed %s", ip)
		}
		if a.Is4() {
			if p, in := within(a, ssrf.IPv4DeniedPrefixes); in {
				t.Fatalf("CheckAddr allowed %s in special-purpose %s", ip, p)
			}
			return
		}
		for _, never := range []netip.Prefix{prefix6to4, prefixTeredo, prefixCompatible, prefixLocalNAT64} {
			if never.Contains(a) {
				t.Fatalf("CheckAddr allowed %s in %s", ip, never)
			}
		}
		if prefixNAT64.Contains(a) {
			v4 := netip.AddrFrom4([4]byte(b[12:16]))
			if p, in := within(v4, ssrf.IPv4DeniedPrefixes); in {
				t.Fatalf("CheckAddr allowed %s, NAT64 of %s in special-purpose %s", ip, v4, p)
			}
			return
		}
		if !ssrf.IPv6GlobalUnicast.Contains(a) {
			t.Fatalf("CheckAddr allowed %s outside 2000::/3", ip)
		}
		if p, in := within(a, ssrf.IPv6DeniedPrefixes); in {
			t.Fatalf("CheckAddr allowed %s in special-purpose %s", ip, p)
		}
	})
}

// within reports the first prefix of list that holds ip.
func within(ip netip.Addr, list []netip.Prefix) (netip.Prefix, bool) {
	for _, p := range list {
		if p.Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// FuzzPolicy_CheckURL checks that no URL crashes the policy and that an
// allowed URL is http(s) with a host that is neither a refused literal
// address, a numeric host in a legacy form, nor a local-host name; and that
// AllowPrivate only ever allows more.
func FuzzPolicy_CheckURL(f *testing.F) {
	for _, s := range []string{"http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
		"http://localhost/", "http://foo.localhost./", "http://[::ffff:7f00:1]/", "http://[fe80::1%25eth0]/",
		"https://example.com/a?b=c", "http://8.8.8.8:8080/", "ftp://x/", "http://[64:ff9b::7f00:1]/", "http://0x/",
		"http://1.2.3.4.5/", "http://a.0x1/", "http://user:pw@10.0.0.1/", "http:// /", "http://%31%32%37.0.0.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Policy{}.CheckURL(raw)
		_, perr := Policy{AllowPrivate: true}.CheckURL(raw)
		if err == nil && perr != nil {
			t.Fatalf("CheckURL(%q) allowed strictly but refused with AllowPrivate: %v", raw, perr)
		}
		if perr != nil && errors.Is(perr, ErrRefused) {
			t.Fatalf("AllowPrivate refused %q by policy: %v", raw, perr)
		}
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" {
			t.Fatalf("CheckURL allowed %q (scheme %q, host %q)", raw, u.Scheme, u.Hostname())
		}
		host := strings.TrimSuffix(u.Hostname(), ".")
		if ip, err := netip.ParseAddr(host); err == nil {
			if judgeAddr(ip) != nil {
				t.Fatalf("CheckURL allowed %q, whose host %s is refused", raw, ip)
			}
		} else if _, numeric, _ := legacyIPv4(host); numeric {
			t.Fatalf("CheckURL allowed %q, a numeric host in a legacy form", raw)
		}
		if l := strings.ToLower(host); l == "localhost" || strings.HasSuffix(l, ".localhost") {
			t.Fatalf("CheckURL allowed %q, a local-host name", raw)
		}
		if _, err := url.Parse(u.String()); err != nil {
			t.Fatalf("CheckURL allowed %q, which does not print back: %v", raw, err)
		}
	})
}
