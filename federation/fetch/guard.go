package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// AllowList is a list of address prefixes the Guard admits even though its
// rules would refuse them (e.g. 127.0.0.0/8 for a local test federation).
// It implements flag.Value: Set adds comma- or space-separated entries.
type AllowList []netip.Prefix

// ParseAllowList parses a comma- and/or whitespace-separated list of CIDRs
// ("127.0.0.0/8,::1/128"); a bare address means just that address (/32 or
// /128). An empty string is an empty list. Prefixes are masked
// (10.1.2.3/8 means 10.0.0.0/8).
func ParseAllowList(s string) (AllowList, error) {
	var a AllowList
	if err := a.Set(s); err != nil {
		return nil, err
	}
	return a, nil
}

// Set adds the entries of s (see ParseAllowList) to the list.
func (a *AllowList) Set(s string) error {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	out := *a
	for _, f := range fields {
		var p netip.Prefix
		if strings.Contains(f, "/") {
			var err error
			if p, err = netip.ParsePrefix(f); err != nil {
				return fmt.Errorf("fetch: allow-list entry %q: %w", f, err)
			}
		} else {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return fmt.Errorf("fetch: allow-list entry %q: not a CIDR or an address", f)
			}
			if ip.Zone() != "" {
				return fmt.Errorf("fetch: allow-list entry %q: zones are not supported", f)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		out = append(out, p.Masked())
	}
	*a = out
	return nil
}

// String returns the list as ParseAllowList reads it.
func (a AllowList) String() string {
	s := make([]string, len(a))
	for i, p := range a {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Contains reports whether ip, or its IPv4 form when ip is IPv4-mapped
// IPv6, lies in one of the prefixes.
func (a AllowList) Contains(ip netip.Addr) bool {
	ip = ip.WithZone("")
	un := ip.Unmap()
	for _, p := range a {
		if p.Contains(ip) || p.Contains(un) {
			return true
		}
	}
	return false
}

// Guard decides which addresses outbound federation requests may connect
// to. The zero Guard refuses every non-public address (see the package
// documentation); Allow admits exceptions. A Guard is safe for concurrent
// use and must not be modified while in use.
type Guard struct {
	// Allow lists prefixes admitted regardless of the rules.
	Allow AllowList
}

// rule is a refused range and the reason given.
type rule struct {
	prefix netip.Prefix
	reason string
}

func rules(reason string, cidrs ...string) []rule {
	out := make([]rule, len(cidrs))
	for i, c := range cidrs {
		out[i] = rule{netip.MustParsePrefix(c), reason}
	}
	return out
}

// v4Rules are the refused IPv4 ranges (IANA special-purpose registry,
// everything not globally reachable, plus multicast and reserved space).
// Order matters only for the reason reported.
var v4Rules = concat(
	rules("unspecified/\"this network\" (0.0.0.0/8)", "0.0.0.0/8"),
	rules("private (RFC 1918)", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
	rules("shared address space / CGNAT (RFC 6598)", "100.64.0.0/10"),
	rules("loopback", "127.0.0.0/8"),
	rules("link-local (includes the 169.254.169.254 metadata service)", "169.254.0.0/16"),
	rules("IETF protocol assignments (192.0.0.0/24)", "192.0.0.0/24"),
	rules("documentation (TEST-NET)", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
	rules("6to4 relay anycast (deprecated)", "192.88.99.0/24"),
	rules("benchmarking (RFC 2544)", "198.18.0.0/15"),
	rules("multicast", "224.0.0.0/4"),
	rules("limited broadcast", "255.255.255.255/32"),
	rules("reserved (240.0.0.0/4)", "240.0.0.0/4"),
)

// v6Rules are refused IPv6 ranges. Everything outside 2000::/3 is refused
// anyway (after the embedded-IPv4 forms are handled); these give better
// reasons and cover the non-global parts of 2000::/3.
var v6Rules = concat(
	rules("unspecified", "::/128"),
	rules("loopback", "::1/128"),
	rules("IPv4-compatible IPv6 (deprecated)", "::/96"),
	rules("local-use NAT64 (RFC 8215)", "64:ff9b:1::/48"),
	rules("discard-only (RFC 6666)", "100::/64"),
	rules("SRv6 SIDs (RFC 9602)", "5f00::/16"),
	rules("unique local (fc00::/7)", "fc00::/7"),
	rules("link-local", "fe80::/10"),
	rules("site-local (deprecated)", "fec0::/10"),
	rules("multicast", "ff00::/8"),
	rules("benchmarking (RFC 5180)", "2001:2::/48"),
	rules("ORCHID (deprecated)", "2001:10::/28"),
	rules("documentation", "2001:db8::/32", "3fff::/20"),
)

func concat(rs ...[]rule) []rule {
	var out []rule
	for _, r := range rs {
		out = append(out, r...)
	}
	return out
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
)

// Check returns nil when ip may be contacted, or a *ForbiddenAddressError
// (wrapping ErrForbiddenAddress) saying why not. A zone is ignored.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.WithZone("")
	if g != nil && g.Allow.Contains(ip) {
		return nil
	}
	if reason := forbidden(ip); reason != "" {
		return &ForbiddenAddressError{Addr: ip, Reason: reason}
	}
	return nil
}

// forbidden returns why ip is refused by the rules, or "" if it is not.
func forbidden(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	if ip.Is4() {
		return forbidden4(ip)
	}
	if ip.Is4In6() {
		if r := forbidden4(ip.Unmap()); r != "" {
			return "IPv4-mapped " + r
		}
		return ""
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		if r := forbidden4(v4(b[12:16])); r != "" {
			return "NAT64-embedded " + r
		}
		return ""
	case sixToFour.Contains(ip):
		if r := forbidden4(v4(b[2:6])); r != "" {
			return "6to4-embedded " + r
		}
		return ""
	case teredo.Contains(ip):
		if r := forbidden4(v4(b[4:8])); r != "" {
			return "Teredo server " + r
		}
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		if r := forbidden4(netip.AddrFrom4(client)); r != "" {
			return "Teredo client " + r
		}
		return ""
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	if !globalUnicast6.Contains(ip) {
		return "not IPv6 global unicast (outside 2000::/3)"
	}
	return ""
}

func forbidden4(ip netip.Addr) string {
	for _, r := range v4Rules {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

func v4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }

// Control is a net.Dialer ControlContext hook: it checks the address about
// to be connected (an "ip:port" chosen after name resolution) and refuses
// the connection with a *ForbiddenAddressError. Unparsable addresses are
// refused too.
func (g *Guard) Control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &ForbiddenAddressError{Reason: fmt.Sprintf("unparsable %s address %q", network, address)}
	}
	return g.Check(ap.Addr())
}

// DialContext returns a dial function for an http.Transport (or anything
// else) that connects with d, with the guard's Control hook installed, so
// that every resolved address is checked immediately before connecting. A
// refusal names the host being dialled. d is copied; its own Control hooks
// are replaced.
func (g *Guard) DialContext(d net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	d.Control = nil
	d.ControlContext = g.Control
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, address)
		if err != nil {
			var fe *ForbiddenAddressError
			if errors.As(err, &fe) {
				host, _, _ := net.SplitHostPort(address)
				fe.Host = host
			}
			return nil, err
		}
		return c, nil
	}
}
