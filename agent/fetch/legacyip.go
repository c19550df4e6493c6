package fetch

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// legacyIPv4 reads host as the WHATWG URL standard and inet_aton do when
// its last dot-separated label is a number (decimal, 0x hex or an empty
// 0x): as an IPv4 address of one to four parts, each decimal, 0x hex or
// 0-prefixed octal, the last part filling the remaining bytes (127.1 is
// 127.0.0.1, 2130706433 and 0x7f000001 too). numeric reports whether host
// is such a number at all; err, when it is but does not decode.
func legacyIPv4(host string) (ip netip.Addr, numeric bool, err error) {
	labels := strings.Split(host, ".")
	if !isNumberLabel(labels[len(labels)-1]) {
		return netip.Addr{}, false, nil
	}
	if len(labels) > 4 {
		return netip.Addr{}, true, errors.New("more than four parts in a numeric IPv4 host")
	}
	var v uint64
	for i, l := range labels {
		n, err := parseIPv4Part(l)
		if err != nil {
			return netip.Addr{}, true, err
		}
		if i < len(labels)-1 {
			if n > 255 {
				return netip.Addr{}, true, errors.New("a part of a numeric IPv4 host is over 255")
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if rest := 8 * (4 - i); n >= 1<<rest {
			return netip.Addr{}, true, errors.New("numeric IPv4 host out of range")
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

// isNumberLabel reports whether a label is a decimal number or 0x followed
// by hex digits (possibly none), the labels that make a host numeric.
func isNumberLabel(l string) bool {
	if h, ok := strings.CutPrefix(strings.ToLower(l), "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return l != "" && strings.Trim(l, "0123456789") == ""
}

// parseIPv4Part reads one part: 0x hex (empty is 0), 0-prefixed octal or
// decimal, at most 32 bits.
func parseIPv4Part(l string) (uint64, error) {
	base, digits := 10, l
	switch lower := strings.ToLower(l); {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, lower[2:]
		if digits == "" {
			return 0, nil
		}
	case len(l) > 1 && l[0] == '0':
		base, digits = 8, l[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, errors.New("invalid part in a numeric IPv4 host")
	}
	return n, nil
}
