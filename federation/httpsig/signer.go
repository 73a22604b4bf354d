package httpsig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gofed "github.com/go-fed/httpsig"
)

// Signer signs outgoing requests with draft-cavage HTTP signatures, as
// Mastodon sends and expects them. The zero Clock means time.Now.
//
// Covered headers, unless Headers overrides them:
//   - requests with a body (any method but GET and HEAD):
//     "(request-target) host date digest", plus "content-type" when the
//     request has one; a "Digest: SHA-256=<base64>" header is added;
//   - GET and HEAD (authorized fetch): "(request-target) host date".
//
// The algorithm parameter on the wire is "rsa-sha256" for RSA keys (what
// Mastodon sends) and "hs2019" for Ed25519 keys; set Algorithm to "hs2019"
// to send that for RSA keys too.
type Signer struct {
	// KeyID is the keyId parameter, e.g. "https://host/actors/x#main-key".
	KeyID string
	// Key is the private key: *rsa.PrivateKey or ed25519.PrivateKey.
	Key crypto.Signer
	// Clock supplies the Date header's time; nil means time.Now.
	Clock func() time.Time
	// Headers, when non-empty, replaces the covered header list (lower-case
	// names and "(request-target)"); (created) and (expires) are not
	// supported because the signer dates requests with the Date header.
	Headers []string
	// Algorithm is the algorithm parameter to send: "" (by key type),
	// "rsa-sha256" (RSA keys only) or "hs2019".
	Algorithm string
}

// hasBody reports whether requests with this method carry a signed body.
func hasBody(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// SignRequest sets req's Host (from the URL when empty), Date and, when the
// digest is covered, Digest headers, and adds the Signature header. body must
// be the exact bytes that will be sent (nil for GET). A Digest or Signature
// header already on req is replaced.
func (s Signer) SignRequest(req *http.Request, body []byte) error {
	if req == nil || req.URL == nil {
		return errors.New("httpsig: sign: nil request or URL")
	}
	if s.KeyID == "" || strings.ContainsAny(s.KeyID, "\"\\\r\n") {
		return fmt.Errorf("httpsig: sign: invalid key id %q", s.KeyID)
	}
	var alg gofed.Algorithm
	wire := s.Algorithm
	switch s.Key.(type) {
	case *rsa.PrivateKey:
		alg = gofed.RSA_SHA256
		if wire == "" {
			wire = "rsa-sha256"
		}
		if wire != "rsa-sha256" && wire != "hs2019" {
			return fmt.Errorf("httpsig: sign: algorithm %q does not fit an RSA key", wire)
		}
	case ed25519.PrivateKey:
		alg = gofed.ED25519
		if wire == "" {
			wire = "hs2019"
		}
		if wire != "hs2019" {
			return fmt.Errorf("httpsig: sign: algorithm %q does not fit an Ed25519 key", wire)
		}
	default:
		return fmt.Errorf("httpsig: sign: unsupported key type %T", s.Key)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if host == "" {
		return errors.New("httpsig: sign: request has no host")
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}

	headers := append([]string(nil), s.Headers...)
	if len(headers) == 0 {
		headers = []string{hdrRequestTarget, "host", "date"}
		if hasBody(req.Method) {
			headers = append(headers, "digest")
			if req.Header.Get("Content-Type") != "" {
				headers = append(headers, "content-type")
			}
		}
	}
	digest := false
	for i, h := range headers {
		h = strings.ToLower(h)
		headers[i] = h
		switch h {
		case hdrCreated, hdrExpires:
			return fmt.Errorf("httpsig: sign: %s is not supported; the Date header dates the signature", h)
		case "digest":
			digest = true
		}
	}
	now := time.Now
	if s.Clock != nil {
		now = s.Clock
	}
	req.Host = host
	req.Header.Set("Date", now().UTC().Format(http.TimeFormat))
	req.Header.Del("Signature")
	req.Header.Del("Digest")

	// go-fed/httpsig reads the host from the header map and the path from
	// URL.Path (decoded): give it a shadow request with an explicit Host
	// header and the escaped path, and let it write into a copy of the
	// headers so that we control what reaches req.
	path, query := requestTarget(req.URL)
	shadow := &http.Request{
		Method: req.Method,
		URL:    &url.URL{Path: path, RawQuery: query},
		Host:   host,
		Header: req.Header.Clone(),
	}
	shadow.Header.Set("Host", host)
	gs, _, err := gofed.NewSigner([]gofed.Algorithm{alg}, gofed.DigestSha256, headers, gofed.Signature, 0)
	if err != nil {
		return fmt.Errorf("httpsig: sign: %w", err)
	}
	var digestBody []byte
	if digest {
		digestBody = body
		if digestBody == nil {
			digestBody = []byte{}
		}
	}
	if err := gs.SignRequest(s.Key, s.KeyID, shadow, digestBody); err != nil {
		return fmt.Errorf("httpsig: sign: %w", err)
	}
	// go-fed always writes algorithm="hs2019"; rewrite the (unsigned)
	// algorithm parameter to what we want on the wire.
	p, err := parseSignatureHeader(shadow.Header.Get("Signature"))
	if err != nil {
		return fmt.Errorf("httpsig: sign: unexpected signature header: %w", err)
	}
	p.KeyID, p.Algorithm = s.KeyID, wire
	if d := shadow.Header.Get("Digest"); digest && d != "" {
		req.Header.Set("Digest", d)
	}
	req.Header.Set("Signature", p.String())
	return nil
}
