package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/dunglas/httpsfv"
)

// bodyDigest returns the digest of body for a supported algorithm name
// (case-insensitive "sha-256" or "sha-512"), or nil.
func bodyDigest(alg string, body []byte) []byte {
	switch strings.ToLower(alg) {
	case "sha-256":
		s := sha256.Sum256(body)
		return s[:]
	case "sha-512":
		s := sha512.Sum512(body)
		return s[:]
	}
	return nil
}

// checkDigest checks an RFC 3230 Digest header ("SHA-256=<base64>", possibly
// several comma-separated, possibly on several lines) against body: at least
// one SHA-256 or SHA-512 value must be present and every such value must
// match; other algorithms are ignored.
func checkDigest(values []string, body []byte) error {
	if len(values) == 0 {
		return fail(ErrMissingComponent, "Digest header is covered but absent")
	}
	checked := 0
	for _, line := range values {
		for _, part := range strings.Split(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			alg, val, ok := strings.Cut(part, "=")
			if !ok {
				return fail(ErrDigestMismatch, "malformed Digest element %q", part)
			}
			want := bodyDigest(strings.TrimSpace(alg), body)
			if want == nil {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
			if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
				return fail(ErrDigestMismatch, "Digest %s does not match the body", alg)
			}
			checked++
		}
	}
	if checked == 0 {
		return fail(ErrDigestMismatch, "Digest names no SHA-256 or SHA-512 value")
	}
	return nil
}

// checkContentDigest checks an RFC 9530 Content-Digest header (a structured
// dictionary "sha-256=:<base64>:") against body with the same rule as
// checkDigest.
func checkContentDigest(values []string, body []byte) error {
	if len(values) == 0 {
		return fail(ErrMissingComponent, "Content-Digest header is covered but absent")
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return fail(ErrDigestMismatch, "malformed Content-Digest: %v", err)
	}
	checked := 0
	for _, name := range dict.Names() {
		want := bodyDigest(name, body)
		if want == nil || name != strings.ToLower(name) {
			continue
		}
		m, _ := dict.Get(name)
		item, ok := m.(httpsfv.Item)
		got, isBytes := item.Value.([]byte)
		if !ok || !isBytes || subtle.ConstantTimeCompare(got, want) != 1 {
			return fail(ErrDigestMismatch, "Content-Digest %s does not match the body", name)
		}
		checked++
	}
	if checked == 0 {
		return fail(ErrDigestMismatch, "Content-Digest names no sha-256 or sha-512 value")
	}
	return nil
}
