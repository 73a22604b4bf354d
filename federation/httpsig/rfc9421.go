package httpsig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/yaronf/httpsign"
)

// maxRFC9421Labels bounds how many signatures of one request we try (each
// may cost a key fetch).
const maxRFC9421Labels = 4

// message9421 is the part of an HTTP message RFC 9421 verification needs.
// status is 0 for requests.
type message9421 struct {
	method    string
	url       *url.URL
	header    http.Header
	authority string
	scheme    string
	status    int
}

// requestMessage describes req for RFC 9421 verification. scheme is the
// configured Verifier.Scheme.
func requestMessage(req *http.Request, scheme string) message9421 {
	switch {
	case req.TLS != nil:
		scheme = "https"
	case scheme == "":
		scheme = "https"
	}
	return message9421{
		method:    req.Method,
		url:       req.URL,
		header:    req.Header,
		authority: hostOf(req),
		scheme:    scheme,
	}
}

// httpsignMessage builds the yaronf/httpsign view of m. The library fills in
// the URL's host and scheme, so it gets a copy; "host" is added to the
// header map because Go keeps it in Request.Host on the server side.
func (m message9421) httpsignMessage() (*httpsign.Message, error) {
	hdr := m.header.Clone()
	cfg := httpsign.NewMessageConfig().WithHeaders(hdr)
	if m.status != 0 {
		cfg = cfg.WithStatusCode(m.status)
	} else {
		if hdr.Get("Host") == "" && m.authority != "" {
			hdr.Set("Host", m.authority)
		}
		u := &url.URL{Path: m.url.Path, RawPath: m.url.RawPath, RawQuery: m.url.RawQuery}
		cfg = cfg.WithMethod(m.method).WithURL(u).WithAuthority(m.authority).WithScheme(m.scheme)
	}
	return httpsign.NewMessage(cfg)
}

// knownDerived are the RFC 9421 derived components.
var knownDerived = map[string]bool{
	"@method": true, "@target-uri": true, "@authority": true, "@scheme": true,
	"@request-target": true, "@path": true, "@query": true, "@query-param": true,
	"@status": true,
}

// rfc9421Algs are the algorithm names accepted in the alg parameter.
var rfc9421Algs = map[string]bool{
	"rsa-pss-sha512": true, "rsa-v1_5-sha256": true, "hmac-sha256": true,
	"ecdsa-p256-sha256": true, "ecdsa-p384-sha384": true, "ed25519": true,
}

func (v Verifier) verifyRFC9421(ctx context.Context, m message9421, body []byte) (Result, error) {
	inputs, err := httpsfv.UnmarshalDictionary(m.header.Values("Signature-Input"))
	if err != nil {
		return Result{}, fail(ErrMalformed, "Signature-Input: %v", err)
	}
	sigs, err := httpsfv.UnmarshalDictionary(m.header.Values("Signature"))
	if err != nil {
		return Result{}, fail(ErrMalformed, "Signature: %v", err)
	}
	labels := inputs.Names()
	if len(labels) == 0 {
		return Result{}, fail(ErrMalformed, "empty Signature-Input")
	}
	if len(labels) > maxRFC9421Labels {
		labels = labels[:maxRFC9421Labels]
	}
	var first error
	for _, label := range labels {
		res, err := v.verifyLabel(ctx, m, body, inputs, sigs, label)
		if err == nil {
			return res, nil
		}
		if first == nil {
			first = err
		}
	}
	return Result{}, first
}

// component is one covered component of an RFC 9421 signature.
type component struct {
	name  string // e.g. "@method", "content-digest"
	ident string // name plus parameters, e.g. `@query-param;name="Pet"`
	plain bool   // no parameters that change what is covered (sf/bs allowed)
}

func (v Verifier) verifyLabel(ctx context.Context, m message9421, body []byte, inputs, sigs *httpsfv.Dictionary, label string) (Result, error) {
	member, _ := inputs.Get(label)
	il, ok := member.(httpsfv.InnerList)
	if !ok {
		return Result{}, fail(ErrMalformed, "Signature-Input %q is not an inner list", label)
	}
	sm, ok := sigs.Get(label)
	if !ok {
		return Result{}, fail(ErrMalformed, "no Signature for label %q", label)
	}
	if item, ok := sm.(httpsfv.Item); !ok {
		return Result{}, fail(ErrMalformed, "Signature %q is not an item", label)
	} else if b, ok := item.Value.([]byte); !ok || len(b) == 0 {
		return Result{}, fail(ErrMalformed, "Signature %q is not a byte sequence", label)
	}

	// Covered components.
	var comps []component
	digestCovered := false
	seen := map[string]bool{}
	plain := map[string]bool{}
	for _, it := range il.Items {
		name, ok := it.Value.(string)
		if !ok || name == "" || name != strings.ToLower(name) {
			return Result{}, fail(ErrMalformed, "component %v is not a lower-case string", it.Value)
		}
		ident, err := httpsfv.Marshal(it)
		if err != nil {
			return Result{}, fail(ErrMalformed, "component %q: %v", name, err)
		}
		if seen[ident] {
			return Result{}, fail(ErrMalformed, "component %s covered twice", ident)
		}
		seen[ident] = true
		c := component{name: name, ident: strings.TrimPrefix(ident, `"`+name+`"`), plain: true}
		c.ident = name + c.ident
		if it.Params != nil {
			for _, pn := range it.Params.Names() {
				if pn != "sf" && pn != "bs" {
					c.plain = false
				}
			}
		}
		if strings.HasPrefix(name, "@") && !knownDerived[name] {
			return Result{}, fail(ErrMalformed, "unknown derived component %q", name)
		}
		if c.plain {
			plain[name] = true
		}
		if name == "content-digest" {
			digestCovered = true
		}
		comps = append(comps, c)
	}

	// Signature parameters.
	var (
		keyID, alg        string
		created, expires  int64
		hasCreated, hasEx bool
	)
	if il.Params != nil {
		for _, pn := range il.Params.Names() {
			pv, _ := il.Params.Get(pn)
			var ok bool
			switch pn {
			case "keyid":
				keyID, ok = pv.(string)
			case "alg":
				alg, ok = pv.(string)
			case "created":
				created, ok = pv.(int64)
				hasCreated = true
			case "expires":
				expires, ok = pv.(int64)
				hasEx = true
			default:
				ok = true
			}
			if !ok {
				return Result{}, fail(ErrMalformed, "signature parameter %q has the wrong type", pn)
			}
		}
	}
	if alg != "" && !rfc9421Algs[alg] {
		return Result{}, fail(ErrUnknownAlgorithm, "alg %q", alg)
	}
	if keyID == "" {
		return Result{}, fail(ErrMalformed, "signature %q has no keyid", label)
	}

	// Coverage.
	if !v.InsecureSkipCoverage && m.status == 0 {
		switch {
		case !plain["@method"]:
			return Result{}, fail(ErrMissingComponent, "signature does not cover @method")
		case !plain["@target-uri"] && !plain["@path"] && !plain["@request-target"]:
			return Result{}, fail(ErrMissingComponent, "signature covers none of @target-uri, @path, @request-target")
		case !plain["@target-uri"] && !plain["@authority"] && !plain["host"]:
			return Result{}, fail(ErrMissingComponent, "signature covers none of @authority, host, @target-uri")
		case hasBody(m.method) && !plain["content-digest"]:
			return Result{}, fail(ErrMissingComponent, "signature does not cover content-digest")
		case !hasCreated && !plain["date"]:
			return Result{}, fail(ErrMissingComponent, "signature has no created parameter and does not cover date")
		}
		for _, h := range v.RequiredHeaders {
			if !plain[strings.ToLower(h)] {
				return Result{}, fail(ErrMissingComponent, "signature does not cover %q", h)
			}
		}
	}
	for _, c := range comps {
		if c.plain && !strings.HasPrefix(c.name, "@") && len(m.header.Values(c.name)) == 0 &&
			!(c.name == "host" && m.authority != "") {
			return Result{}, fail(ErrMissingComponent, "covered header %q is absent from the message", c.name)
		}
	}

	// Time window.
	var signed time.Time
	if hasCreated {
		signed = time.Unix(created, 0)
		if err := v.checkTime("created", signed); err != nil {
			return Result{}, err
		}
	} else if plain["date"] {
		ds := m.header.Values("Date")
		t, err := http.ParseTime(strings.Join(ds, ""))
		if len(ds) != 1 || err != nil {
			return Result{}, fail(ErrMalformed, "unparsable Date %q", ds)
		}
		if err := v.checkTime("Date", t); err != nil {
			return Result{}, err
		}
		signed = t
	}
	if hasEx {
		if err := v.checkExpires(time.Unix(expires, 0)); err != nil {
			return Result{}, err
		}
	}

	if digestCovered {
		if err := checkContentDigest(m.header.Values("Content-Digest"), body); err != nil {
			return Result{}, err
		}
	}

	key, err := v.resolve(ctx, keyID)
	if err != nil {
		return Result{}, err
	}
	algs, err := rfc9421Candidates(alg, key.Key)
	if err != nil {
		return Result{}, err
	}
	msg, err := m.httpsignMessage()
	if err != nil {
		return Result{}, fail(ErrMalformed, "%v", err)
	}
	cfg := httpsign.NewVerifyConfig().SetVerifyCreated(false).SetRejectExpired(false)
	var verr error
	for _, a := range algs {
		hv, err := newHTTPSignVerifier(a, key.Key, cfg)
		if err != nil {
			return Result{}, fail(ErrUnknownAlgorithm, "%s with a %s key: %v", a, keyKind(key.Key), err)
		}
		if _, err := msg.Verify(label, *hv); err != nil {
			if verr == nil {
				verr = err
			}
			continue
		}
		covered := make([]string, len(comps))
		for i, c := range comps {
			covered[i] = c.ident
		}
		return Result{
			KeyID:     keyID,
			Owner:     key.Owner,
			Scheme:    SchemeRFC9421,
			Algorithm: a,
			Covered:   covered,
			Signed:    signed,
		}, nil
	}
	// yaronf/httpsign v0.5.2 reports every cryptographic failure as
	// "signature verification failed"; anything else is a message it could
	// not build a signature base for.
	if strings.Contains(verr.Error(), "signature verification failed") {
		return Result{}, fail(ErrBadSignature, "%s signature %q by %q does not verify", strings.Join(algs, "/"), label, keyID)
	}
	return Result{}, fail(ErrMalformed, "signature %q: %v", label, verr)
}

// rfc9421Candidates returns the algorithms to try for an alg parameter and a
// key. Without alg, the key decides; an RSA key is tried with
// rsa-v1_5-sha256 (what fediverse servers use) and then rsa-pss-sha512.
func rfc9421Candidates(alg string, key crypto.PublicKey) ([]string, error) {
	var fits []string
	switch k := key.(type) {
	case *rsa.PublicKey:
		fits = []string{"rsa-v1_5-sha256", "rsa-pss-sha512"}
	case ed25519.PublicKey:
		fits = []string{"ed25519"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			fits = []string{"ecdsa-p256-sha256"}
		case elliptic.P384():
			fits = []string{"ecdsa-p384-sha384"}
		}
	case []byte:
		fits = []string{"hmac-sha256"}
	}
	if alg == "" {
		if len(fits) == 0 {
			return nil, fail(ErrUnknownAlgorithm, "no algorithm for a %s key", keyKind(key))
		}
		return fits, nil
	}
	for _, f := range fits {
		if f == alg {
			return []string{alg}, nil
		}
	}
	return nil, fail(ErrUnknownAlgorithm, "alg %q does not fit a %s key", alg, keyKind(key))
}

func newHTTPSignVerifier(alg string, key crypto.PublicKey, cfg *httpsign.VerifyConfig) (*httpsign.Verifier, error) {
	fields := *httpsign.NewFields()
	switch alg {
	case "rsa-v1_5-sha256":
		return httpsign.NewRSAVerifier(*key.(*rsa.PublicKey), cfg, fields)
	case "rsa-pss-sha512":
		return httpsign.NewRSAPSSVerifier(*key.(*rsa.PublicKey), cfg, fields)
	case "ecdsa-p256-sha256":
		return httpsign.NewP256Verifier(*key.(*ecdsa.PublicKey), cfg, fields)
	case "ecdsa-p384-sha384":
		return httpsign.NewP384Verifier(*key.(*ecdsa.PublicKey), cfg, fields)
	case "ed25519":
		return httpsign.NewEd25519Verifier(key.(ed25519.PublicKey), cfg, fields)
	case "hmac-sha256":
		return httpsign.NewHMACSHA256Verifier(key.([]byte), cfg, fields)
	}
	return nil, fail(ErrUnknownAlgorithm, "alg %q", alg)
}
