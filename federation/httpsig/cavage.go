package httpsig

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Pseudo-headers of draft-cavage-http-signatures.
const (
	hdrRequestTarget = "(request-target)"
	hdrCreated       = "(created)"
	hdrExpires       = "(expires)"
)

// maxSignatureHeader bounds the length of a draft-cavage signature header we
// are willing to parse (an RSA-4096 signature plus a long key id fit easily).
const maxSignatureHeader = 16 << 10

// cavageParams is a parsed draft-cavage signature header.
type cavageParams struct {
	KeyID        string
	Algorithm    string   // as sent; "" when absent
	Headers      []string // lower-cased; ["date"] when the parameter is absent
	HeadersSet   bool     // the headers parameter was present
	Signature    []byte   // decoded
	SignatureB64 string   // as sent
	Created      string   // digits as sent ("" when absent)
	Expires      string   // digits as sent ("" when absent)
}

// parseSignatureHeader parses the value of a draft-cavage Signature header
// (or of "Authorization: Signature …" with the scheme already removed):
// comma-separated name=value parameters, values either tokens or quoted
// strings (with backslash escapes), optional whitespace around "=" and ",",
// empty list elements tolerated, unknown parameters ignored. A duplicated
// parameter, a missing keyId or signature, bad base64, a non-numeric
// created/expires, an empty or duplicated headers entry, or an unknown
// pseudo-header is an error wrapping ErrMalformed.
func parseSignatureHeader(s string) (cavageParams, error) {
	var p cavageParams
	if len(s) > maxSignatureHeader {
		return p, fail(ErrMalformed, "signature header longer than %d bytes", maxSignatureHeader)
	}
	seen := make(map[string]bool, 6)
	i := 0
	for {
		// Skip whitespace and empty list elements.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return p, fail(ErrMalformed, "unexpected character %q at offset %d", s[i], i)
		}
		i = skipOWS(s, i)
		if i >= len(s) || s[i] != '=' {
			return p, fail(ErrMalformed, "parameter %q has no value", name)
		}
		i = skipOWS(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			v, n, err := readQuoted(s, i)
			if err != nil {
				return p, err
			}
			value, i = v, n
		} else {
			vs := i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			value = s[vs:i]
			if value == "" {
				return p, fail(ErrMalformed, "parameter %q has an empty value", name)
			}
		}
		i = skipOWS(s, i)
		if i < len(s) && s[i] != ',' {
			return p, fail(ErrMalformed, "unexpected character %q after parameter %q", s[i], name)
		}
		if seen[name] {
			return p, fail(ErrMalformed, "duplicated parameter %q", name)
		}
		seen[name] = true
		switch name {
		case "keyId":
			p.KeyID = value
		case "algorithm":
			p.Algorithm = value
		case "headers":
			p.HeadersSet = true
			p.Headers = strings.Fields(strings.ToLower(value))
		case "signature":
			p.SignatureB64 = value
		case "created":
			p.Created = value
		case "expires":
			p.Expires = value
		}
	}
	if p.KeyID == "" {
		return p, fail(ErrMalformed, "missing keyId")
	}
	if p.SignatureB64 == "" {
		return p, fail(ErrMalformed, "missing signature")
	}
	sig, err := base64.StdEncoding.DecodeString(p.SignatureB64)
	if err != nil || len(sig) == 0 {
		return p, fail(ErrMalformed, "signature is not base64")
	}
	p.Signature = sig
	for _, v := range []*string{&p.Created, &p.Expires} {
		if *v == "" {
			continue
		}
		if _, err := parseUnix(*v); err != nil {
			return p, err
		}
	}
	if !p.HeadersSet {
		p.Headers = []string{"date"}
	}
	if len(p.Headers) == 0 {
		return p, fail(ErrMalformed, "empty headers parameter")
	}
	dup := make(map[string]bool, len(p.Headers))
	for _, h := range p.Headers {
		if dup[h] {
			return p, fail(ErrMalformed, "header %q listed twice", h)
		}
		dup[h] = true
		switch {
		case h == hdrRequestTarget:
		case h == hdrCreated:
			if p.Created == "" {
				return p, fail(ErrMalformed, "(created) is covered but the created parameter is missing")
			}
		case h == hdrExpires:
			if p.Expires == "" {
				return p, fail(ErrMalformed, "(expires) is covered but the expires parameter is missing")
			}
		default:
			for j := 0; j < len(h); j++ {
				if !isTokenChar(h[j]) || h[j] == '(' || h[j] == ')' {
					return p, fail(ErrMalformed, "invalid header name %q in headers", h)
				}
			}
		}
	}
	return p, nil
}

// parseUnix parses a non-negative decimal Unix time (created/expires).
func parseUnix(v string) (int64, error) {
	if len(v) == 0 || len(v) > 12 {
		return 0, fail(ErrMalformed, "timestamp %q is not a Unix time", v)
	}
	for j := 0; j < len(v); j++ {
		if v[j] < '0' || v[j] > '9' {
			return 0, fail(ErrMalformed, "timestamp %q is not a Unix time", v)
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fail(ErrMalformed, "timestamp %q is not a Unix time", v)
	}
	return n, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// readQuoted reads an RFC 9110 quoted-string starting at s[i] == '"' and
// returns its unescaped content and the offset after the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	var b strings.Builder
	i++ // opening quote
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", i, fail(ErrMalformed, "unterminated escape in quoted value")
			}
			b.WriteByte(s[i+1])
			i += 2
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", i, fail(ErrMalformed, "control character in quoted value")
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", i, fail(ErrMalformed, "unterminated quoted value")
}

// isTokenChar reports whether c is an RFC 9110 tchar, extended by "(" and
// ")" so that pseudo-headers like (request-target) read as one name.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~()", c) >= 0
}

// quote returns s as a quoted-string, escaping '"' and '\'.
func quote(s string) string {
	if !strings.ContainsAny(s, "\"\\") {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// String serialises p as a Signature header value in the order Mastodon
// uses: keyId, algorithm, created, expires, headers, signature.
func (p cavageParams) String() string {
	var b strings.Builder
	b.WriteString("keyId=")
	b.WriteString(quote(p.KeyID))
	if p.Algorithm != "" {
		b.WriteString(",algorithm=")
		b.WriteString(quote(p.Algorithm))
	}
	if p.Created != "" {
		b.WriteString(",created=")
		b.WriteString(p.Created)
	}
	if p.Expires != "" {
		b.WriteString(",expires=")
		b.WriteString(p.Expires)
	}
	b.WriteString(",headers=")
	b.WriteString(quote(strings.Join(p.Headers, " ")))
	b.WriteString(",signature=")
	b.WriteString(quote(base64.StdEncoding.EncodeToString(p.Signature)))
	return b.String()
}

// requestTarget returns the path and query as sent on the wire (escaped
// path, "/" when empty), as draft-cavage's (request-target) uses it.
func requestTarget(u *url.URL) (path, rawQuery string) {
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return path, u.RawQuery
}

// signingString builds the draft-cavage signing string for p over req.
// host is the request's authority. It is the same construction go-fed/httpsig
// performs; we use it only where that library cannot be used (signatures
// covering (created) or (expires), see verifyCavage).
func signingString(req *http.Request, host string, p cavageParams) (string, error) {
	var b strings.Builder
	for n, h := range p.Headers {
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case hdrRequestTarget:
			path, q := requestTarget(req.URL)
			b.WriteString(strings.ToLower(req.Method))
			b.WriteByte(' ')
			b.WriteString(path)
			if q != "" {
				b.WriteByte('?')
				b.WriteString(q)
			}
		case hdrCreated:
			b.WriteString(p.Created)
		case hdrExpires:
			b.WriteString(p.Expires)
		case "host":
			b.WriteString(host)
		default:
			vs := req.Header.Values(h)
			if len(vs) == 0 {
				return "", fail(ErrMissingComponent, "covered header %q is absent from the request", h)
			}
			for k, v := range vs {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strings.TrimSpace(v))
			}
		}
	}
	return b.String(), nil
}
