package webfinger

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrInvalidResource is wrapped by every ParseResource error.
var ErrInvalidResource = errors.New("webfinger: invalid resource")

// Limits on resources.
const (
	maxResourceLen = 2048
	maxUserLen     = 255
	maxHostLen     = 253
)

// Resource is a parsed WebFinger resource: an account (User and Host) or a
// profile URL (URL and Host, with User when the path names one).
type Resource struct {
	// User is the account's user name, percent-decoded, case preserved;
	// "" for a URL whose path does not name a user.
	User string
	// Host is the lower-case ASCII (punycode) host name or IP address
	// (IPv6 in brackets), followed by ":port" when a port was given
	// (default ports are dropped from URLs only).
	Host string
	// URL is the normalised resource URL when the resource was given as an
	// http(s) URL, "" for accounts.
	URL string
}

// ParseResource parses a WebFinger resource:
//
//	acct:user@host             acct:user@host:port
//	user@host                  @user@host          @user@host:port
//	https://host/@user         https://host/users/user (User "")
//	http://host:port/@user
//
// User names may be percent-encoded (acct:J%C3%BCrgen@host) and consist of
// Unicode letters, digits and marks plus the URI unreserved and sub-delims
// characters ("._-~" and "!$&'()*+,;="). Hosts may be percent-encoded or
// internationalised; they are converted to punycode and lower-cased; IPv6
// literals must be bracketed. Errors wrap ErrInvalidResource.
func ParseResource(s string) (Resource, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Resource{}, invalid(s, "empty")
	}
	if len(s) > maxResourceLen {
		return Resource{}, invalid(s[:32]+"…", "longer than %d bytes", maxResourceLen)
	}
	if !utf8.ValidString(s) {
		return Resource{}, invalid(s, "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unicode.IsSpace(r) {
			return Resource{}, invalid(s, "contains whitespace or control characters")
		}
	}
	scheme, rest, hasScheme := strings.Cut(s, ":")
	switch {
	case hasScheme && strings.EqualFold(scheme, "acct"):
		return parseAccount(s, rest)
	case hasScheme && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http")) && strings.HasPrefix(rest, "//"):
		return parseURL(s)
	case strings.HasPrefix(s, "@"):
		return parseAccount(s, s[1:])
	}
	return parseAccount(s, s)
}

func invalid(s, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidResource, s, fmt.Sprintf(format, args...))
}

// parseAccount parses "user@host[:port]" (acct is the original input, for
// messages).
func parseAccount(orig, acct string) (Resource, error) {
	userRaw, hostRaw, ok := strings.Cut(acct, "@")
	if !ok {
		return Resource{}, invalid(orig, "no @ between user and host")
	}
	if strings.Contains(hostRaw, "@") {
		return Resource{}, invalid(orig, "more than one @")
	}
	user, err := url.PathUnescape(userRaw)
	if err != nil {
		return Resource{}, invalid(orig, "bad percent-encoding in user")
	}
	if err := checkUser(user); err != nil {
		return Resource{}, invalid(orig, "%v", err)
	}
	host, err := url.PathUnescape(hostRaw)
	if err != nil {
		return Resource{}, invalid(orig, "bad percent-encoding in host")
	}
	h, err := normalizeHost(host, "")
	if err != nil {
		return Resource{}, invalid(orig, "%v", err)
	}
	return Resource{User: user, Host: h}, nil
}

// parseURL parses an http(s) profile URL.
func parseURL(orig string) (Resource, error) {
	u, err := url.Parse(orig)
	if err != nil {
		return Resource{}, invalid(orig, "%v", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.User != nil {
		return Resource{}, invalid(orig, "URL carries user information")
	}
	if u.Opaque != "" {
		return Resource{}, invalid(orig, "opaque URL")
	}
	h, err := normalizeHost(u.Host, u.Scheme)
	if err != nil {
		return Resource{}, invalid(orig, "%v", err)
	}
	u.Host = h
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.RawPath = ""
	}
	r := Resource{Host: h, URL: u.String()}
	// Mastodon-style profile pages name the user: /@user (not
	// /@user@elsewhere, a local view of a remote account).
	if name, ok := strings.CutPrefix(strings.TrimSuffix(u.Path, "/"), "/@"); ok && !strings.Contains(name, "/") {
		if checkUser(name) == nil {
			r.User = name
		}
	}
	return r, nil
}

// checkUser validates a decoded user name.
func checkUser(u string) error {
	if u == "" {
		return errors.New("empty user")
	}
	if len(u) > maxUserLen {
		return fmt.Errorf("user longer than %d bytes", maxUserLen)
	}
	if !utf8.ValidString(u) {
		return errors.New("user is not valid UTF-8")
	}
	for _, r := range u {
		if !userRune(r) {
			return fmt.Errorf("user contains %q", r)
		}
	}
	return nil
}

// userRune reports whether r may appear in a user name.
func userRune(r rune) bool {
	if r < utf8.RuneSelf {
		return unreservedOrSubDelim(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// unreservedOrSubDelim reports whether the ASCII byte c is written
// literally in an acct URI's user part (RFC 7565: unreserved / sub-delims).
func unreservedOrSubDelim(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=", c) >= 0
}

// normalizeHost validates and normalises "host[:port]" (already
// percent-decoded). For URLs (scheme non-empty) the scheme's default port
// is dropped.
func normalizeHost(hp, scheme string) (string, error) {
	if hp == "" {
		return "", errors.New("empty host")
	}
	var name, port string
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", errors.New("unterminated IPv6 literal")
		}
		ip, err := netip.ParseAddr(hp[1:end])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", fmt.Errorf("bad IPv6 literal %q", hp[:end+1])
		}
		name = "[" + ip.String() + "]"
		rest := hp[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return "", fmt.Errorf("unexpected %q after IPv6 literal", rest)
			}
			port = p
		}
	} else {
		host := hp
		if i := strings.LastIndexByte(hp, ':'); i >= 0 {
			host, port = hp[:i], hp[i+1:]
			if strings.Contains(host, ":") {
				return "", errors.New("IPv6 address must be in brackets")
			}
		}
		n, err := normalizeName(host)
		if err != nil {
			return "", err
		}
		name = n
	}
	if port != "" || strings.HasSuffix(hp, ":") {
		p, err := parsePort(port)
		if err != nil {
			return "", err
		}
		if (scheme == "https" && p == 443) || (scheme == "http" && p == 80) {
			return name, nil
		}
		return name + ":" + strconv.Itoa(p), nil
	}
	return name, nil
}

func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad port %q", s)
		}
	}
	p, _ := strconv.Atoi(s)
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %d out of range", p)
	}
	return p, nil
}

// normalizeName returns the lower-case ASCII form of a host name or IPv4
// address.
func normalizeName(h string) (string, error) {
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return "", errors.New("empty host")
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if !ip.Is4() {
			return "", errors.New("IPv6 address must be in brackets")
		}
		return ip.String(), nil
	}
	if !utf8.ValidString(h) {
		return "", errors.New("host name is not valid UTF-8")
	}
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("bad host name %q: %v", h, err)
	}
	// The ASCII form must be stable (it is what we store and compare).
	if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
		return "", fmt.Errorf("bad host name %q: punycode form %q does not validate", h, a)
	}
	if len(a) > maxHostLen {
		return "", fmt.Errorf("host name longer than %d bytes", maxHostLen)
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("bad host name %q: empty or overlong label", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", fmt.Errorf("bad host name %q: character %q", h, c)
			}
		}
	}
	return a, nil
}

// Handle returns "user@host" (e.g. "alice@127.0.0.1:8080"), or "" when the
// resource names no user.
func (r Resource) Handle() string {
	if r.User == "" {
		return ""
	}
	return r.User + "@" + r.Host
}

// Acct returns the acct URI "acct:user@host", the user part
// percent-encoded where RFC 7565 requires it, or "" when the resource names
// no user.
func (r Resource) Acct() string {
	if r.User == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("acct:")
	for i := 0; i < len(r.User); i++ {
		c := r.User[i]
		if c < utf8.RuneSelf && unreservedOrSubDelim(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteByte('@')
	b.WriteString(r.Host)
	return b.String()
}

// String returns the resource as sent in a WebFinger query: the URL for
// URL resources, the acct URI otherwise.
func (r Resource) String() string {
	if r.URL != "" {
		return r.URL
	}
	return r.Acct()
}
