package fetch

import (
	"fmt"
	"net/netip"

	"code.dny.dev/ssrf"
)

// guardian judges addresses against the IANA special-purpose registries
// (IPv4: the registry's prefixes and 240/4; IPv6: anything outside
// 2000::/3 and the registry's prefixes inside it). The NAT64 well-known
// prefix 64:ff9b::/96, which the library refuses unless allowed, is let
// through it: judgeAddr judges the IPv4 address inside instead, so an
// IPv6-only network reaching public IPv4 origins through NAT64 works while
// 64:ff9b::7f00:1 (127.0.0.1) does not. Ports and networks are not the
// guardian's business here.
func guardian() *ssrf.Guardian {
	return ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork(), ssrf.WithAllowedV6Prefixes(ssrf.IPv6NAT64Prefix))
}

// judgeAddr returns an error wrapping ErrRefused when ip is special-purpose
// or embeds a special-purpose IPv4 address. The zone is dropped and an
// IPv4-mapped address is judged as the IPv4 address it is.
func judgeAddr(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrRefused)
	}
	ip = ip.WithZone("").Unmap()
	g := guardian()
	for _, e := range embeddedIPv4(ip) {
		if g.SafeAddr(e.addr) != nil {
			return fmt.Errorf("%w: %s is the %s form of %s, %s", ErrRefused, ip, e.how, e.addr, describe(e.addr))
		}
	}
	if g.SafeAddr(ip) != nil {
		return fmt.Errorf("%w: %s is %s", ErrRefused, ip, describe(ip))
	}
	return nil
}

// embedded is an IPv4 address found inside an IPv6 one, and how.
type embedded struct {
	how  string
	addr netip.Addr
}

// Prefixes whose addresses carry an IPv4 address.
var (
	prefixNAT64      = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052 well-known
	prefixLocalNAT64 = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local use
	prefix6to4       = netip.MustParsePrefix("2002::/16")      // RFC 3056
	prefixTeredo     = netip.MustParsePrefix("2001::/32")      // RFC 4380
	prefixCompatible = netip.MustParsePrefix("::/96")          // RFC 4291, deprecated
)

// embeddedIPv4 returns the IPv4 addresses an IPv6 address ip carries
// (IPv4-mapped addresses are unmapped before): IPv4-compatible ::a.b.c.d
// (not :: and ::1), NAT64 64:ff9b::a.b.c.d, local-use NAT64 in
// 64:ff9b:1::/48 at every RFC 6052 position its prefix length allows, 6to4
// 2002:AABB:CCDD::, and Teredo 2001:0:SERVER::~CLIENT (both).
func embeddedIPv4(ip netip.Addr) []embedded {
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	at := func(i ...int) netip.Addr { return netip.AddrFrom4([4]byte{b[i[0]], b[i[1]], b[i[2]], b[i[3]]}) }
	switch {
	case prefixCompatible.Contains(ip):
		if v4 := at(12, 13, 14, 15); v4.Compare(netip.AddrFrom4([4]byte{0, 0, 0, 1})) > 0 {
			return []embedded{{"IPv4-compatible", v4}}
		}
	case prefixNAT64.Contains(ip):
		return []embedded{{"NAT64", at(12, 13, 14, 15)}}
	case prefixLocalNAT64.Contains(ip):
		// RFC 6052 §2.2 layouts for /48, /56, /64 and /96 (byte 8 is skipped).
		return []embedded{{"NAT64 /48", at(6, 7, 9, 10)}, {"NAT64 /56", at(7, 9, 10, 11)},
			{"NAT64 /64", at(9, 10, 11, 12)}, {"NAT64 /96", at(12, 13, 14, 15)}}
	case prefix6to4.Contains(ip):
		return []embedded{{"6to4", at(2, 3, 4, 5)}}
	case prefixTeredo.Contains(ip):
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []embedded{{"Teredo server", at(4, 5, 6, 7)}, {"Teredo client", client}}
	}
	return nil
}

// describe names the class of a refused address for messages, with the
// registry prefix that refuses it when there is one.
func describe(ip netip.Addr) string {
	class := "a special-purpose address"
	switch {
	case ip.IsLoopback():
		class = "a loopback address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		class = "a link-local address"
	case ip.IsPrivate():
		class = "a private address"
	case ip.IsUnspecified():
		class = "an unspecified address"
	case ip.IsMulticast():
		class = "a multicast address"
	case ip.Is6() && !ssrf.IPv6GlobalUnicast.Contains(ip):
		return "a special-purpose address (outside the global unicast 2000::/3)"
	}
	list := ssrf.IPv4DeniedPrefixes
	if ip.Is6() {
		list = ssrf.IPv6DeniedPrefixes
	}
	for _, p := range list {
		if p.Contains(ip) {
			return fmt.Sprintf("%s (IANA special-purpose %s)", class, p)
		}
	}
	return class
}
