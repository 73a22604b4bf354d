package moderation

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidDomain: a string that is not a domain name (with an optional
// port).
var ErrInvalidDomain = errors.New("moderation: invalid domain")

// MaxDomainLength bounds a normalised domain, port included.
const MaxDomainLength = 253 + 6

// NormalizeDomain returns the canonical form of a domain name as rules
// store it and hosts are matched: lower case, each non-ASCII label in
// punycode ("bücher.example" → "xn--bcher-kva.example"), without a trailing
// dot, without a leading "*." (subdomains are covered anyway), with the port
// kept when one is given ("example.com:8443"). An IPv6 address is kept in
// brackets. For convenience a URL ("https://example.com/about") gives its
// host. Anything else is ErrInvalidDomain.
//
// Lower-casing is Unicode simple case folding (strings.ToLower), not the
// full IDNA 2008 mapping; ASCII and ordinary IDNs normalise as browsers do.
func NormalizeDomain(s string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%w: %q", ErrInvalidDomain, in)
		}
		s = u.Host
	}
	if s == "" || !utf8.ValidString(s) || strings.ContainsAny(s, "/?#@ \t\r\n\\") {
		return "", fmt.Errorf("%w: %q", ErrInvalidDomain, in)
	}
	name, port, err := splitPort(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, in, err)
	}
	if strings.HasPrefix(name, "[") {
		addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"))
		if err != nil || !strings.HasSuffix(name, "]") || !addr.Is6() {
			return "", fmt.Errorf("%w: %q", ErrInvalidDomain, in)
		}
		return joinPort("["+addr.String()+"]", port), nil
	}
	name = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(name), "*."), ".")
	if name == "" {
		return "", fmt.Errorf("%w: %q", ErrInvalidDomain, in)
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "" {
			return "", fmt.Errorf("%w: %q: empty label", ErrInvalidDomain, in)
		}
		if !ascii(l) {
			if l, err = punycode(l); err != nil {
				return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, in, err)
			}
			labels[i] = l
		}
		if !validLabel(l) {
			return "", fmt.Errorf("%w: %q: bad label %q", ErrInvalidDomain, in, l)
		}
	}
	name = strings.Join(labels, ".")
	if len(name) > 253 {
		return "", fmt.Errorf("%w: %q: longer than 253 bytes", ErrInvalidDomain, in)
	}
	return joinPort(name, port), nil
}

// splitPort splits "name:port"; port is "" when absent.
func splitPort(s string) (name, port string, err error) {
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New("unclosed [")
		}
		rest := s[end+1:]
		name = s[:end+1]
		if rest == "" {
			return name, "", nil
		}
		if rest[0] != ':' {
			return "", "", errors.New("junk after ]")
		}
		port = rest[1:]
	case strings.Contains(s, ":"):
		i := strings.LastIndexByte(s, ':')
		name, port = s[:i], s[i+1:]
		if strings.Contains(name, ":") {
			return "", "", errors.New("IPv6 addresses need brackets")
		}
	default:
		return s, "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", "", fmt.Errorf("bad port %q", port)
	}
	return name, port, nil
}

func joinPort(name, port string) string {
	if port == "" {
		return name
	}
	return name + ":" + port
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validLabel: 1-63 of [a-z0-9-_], not starting or ending with '-'.
func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// punycode encodes one label (RFC 3492) with the "xn--" prefix.
func punycode(label string) (string, error) {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	runes := []rune(label)
	out := make([]byte, 0, len(label)+8)
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(runes) {
		m := math.MaxInt32
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (math.MaxInt32-delta)/(h+1) {
			return "", errors.New("punycode overflow")
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := k - bias
				if t < tmin {
					t = tmin
				} else if t > tmax {
					t = tmax
				}
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return "xn--" + string(out), nil
}

// Candidates lists the rule domains that could cover host, most specific
// first: for each of host's names from the full one down to its last label,
// the name with host's port (when it has one), then without. An IP address
// covers only itself (with and without the port). An invalid host gives
// none.
func Candidates(host string) []string {
	h, err := NormalizeDomain(host)
	if err != nil {
		return nil
	}
	name, port, _ := splitPort(h)
	var out []string
	add := func(n string) {
		if port != "" {
			out = append(out, n+":"+port)
		}
		out = append(out, n)
	}
	if strings.HasPrefix(name, "[") {
		add(name)
		return out
	}
	if _, err := netip.ParseAddr(name); err == nil {
		add(name)
		return out
	}
	for n := name; ; {
		add(n)
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return out
		}
		n = n[i+1:]
	}
}

// Covers reports whether a rule for domain (normalised) applies to host.
func Covers(domain, host string) bool {
	for _, c := range Candidates(host) {
		if c == domain {
			return true
		}
	}
	return false
}
