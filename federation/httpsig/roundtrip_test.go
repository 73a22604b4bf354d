package httpsig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yaronf/httpsign"
)

// testKeys are made once per test binary: RSA-2048 generation is slow.
var testKeys = sync.OnceValue(func() struct {
	alice, mallory *rsa.PrivateKey
	ed             ed25519.PrivateKey
} {
	var k struct {
		alice, mallory *rsa.PrivateKey
		ed             ed25519.PrivateKey
	}
	var err error
	if k.alice, err = GenerateRSAKey(); err != nil {
		panic(err)
	}
	if k.mallory, err = GenerateRSAKey(); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	return k
})

const (
	aliceKeyID = "https://hanse.example/actors/alice#main-key"
	aliceActor = "https://hanse.example/actors/alice"
	edKeyID    = "https://hanse.example/actors/bob#ed25519-key"
	bobActor   = "https://hanse.example/actors/bob"
)

// verdict is what the test inbox answers.
type verdict struct {
	OK     bool   `json:"ok"`
	Kind   string `json:"kind"`
	Error  string `json:"error"`
	Result Result `json:"result"`
}

// inbox starts a real HTTP server on loopback whose handler verifies every
// request with v, answering 202 with the result or 401 with the error kind
// (as the real inbox will).
func inbox(t *testing.T, v Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := v.Verify(r.Context(), r, body)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			k := kindOf(err)
			name := "none"
			if k != nil {
				name = k.Error()
			}
			_ = json.NewEncoder(w).Encode(verdict{Kind: name, Error: err.Error()})
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(verdict{OK: true, Result: res})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, req *http.Request) (int, verdict) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v verdict
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("decode verdict (status %d): %v", res.StatusCode, err)
	}
	return res.StatusCode, v
}

func TestRoundTripCavageOverHTTP(t *testing.T) {
	keys := testKeys()
	now := time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC)
	resolver := staticResolver(map[string]PublicKey{
		aliceKeyID: {ID: aliceKeyID, Owner: aliceActor, Key: &keys.alice.PublicKey},
		edKeyID:    {ID: edKeyID, Owner: bobActor, Key: keys.ed.Public()},
	})
	srv := inbox(t, Verifier{Resolve: resolver, Clock: fixedClock(now)})
	activity := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","actor":"` + aliceActor + `"}`)

	type tc struct {
		name     string
		method   string
		signer   Signer
		body     []byte
		tamper   func(req *http.Request, body *[]byte) // after signing
		wantKind error                                 // nil: accepted
		wantAlg  string
		wantOwn  string
	}
	alice := Signer{KeyID: aliceKeyID, Key: keys.alice, Clock: fixedClock(now)}
	at := func(s Signer, d time.Duration) Signer { s.Clock = fixedClock(now.Add(d)); return s }
	editSig := func(req *http.Request, f func(p *cavageParams)) {
		p, err := parseSignatureHeader(req.Header.Get("Signature"))
		if err != nil {
			t.Fatal(err)
		}
		f(&p)
		req.Header.Set("Signature", p.String())
	}
	drop := func(h string) func(*http.Request, *[]byte) {
		return func(req *http.Request, _ *[]byte) {
			editSig(req, func(p *cavageParams) {
				var keep []string
				for _, x := range p.Headers {
					if x != h {
						keep = append(keep, x)
					}
				}
				p.Headers = keep
			})
		}
	}
	cases := []tc{
		{name: "POST accepted", method: "POST", signer: alice, body: activity, wantAlg: "rsa-sha256", wantOwn: aliceActor},
		{name: "GET accepted (authorized fetch)", method: "GET", signer: alice, wantAlg: "rsa-sha256", wantOwn: aliceActor},
		{name: "Ed25519 hs2019 POST accepted", method: "POST", signer: Signer{KeyID: edKeyID, Key: keys.ed, Clock: fixedClock(now)}, body: activity, wantAlg: "ed25519", wantOwn: bobActor},
		{name: "hs2019 on the wire for RSA", method: "POST", signer: Signer{KeyID: aliceKeyID, Key: keys.alice, Clock: fixedClock(now), Algorithm: "hs2019"}, body: activity, wantAlg: "rsa-sha256", wantOwn: aliceActor},
		{name: "Authorization: Signature form", method: "GET", signer: alice, wantAlg: "rsa-sha256", wantOwn: aliceActor,
			tamper: func(req *http.Request, _ *[]byte) {
				req.Header.Set("Authorization", "Signature "+req.Header.Get("Signature"))
				req.Header.Del("Signature")
			}},
		{name: "11 h old still accepted", method: "POST", signer: at(alice, -11*time.Hour), body: activity, wantAlg: "rsa-sha256", wantOwn: aliceActor},
		{name: "50 min ahead still accepted", method: "POST", signer: at(alice, 50*time.Minute), body: activity, wantAlg: "rsa-sha256", wantOwn: aliceActor},

		{name: "body changed", method: "POST", signer: alice, body: activity, wantKind: ErrDigestMismatch,
			tamper: func(_ *http.Request, b *[]byte) { *b = bytes.Replace(*b, []byte("Create"), []byte("Delete"), 1) }},
		{name: "digest header changed", method: "POST", signer: alice, body: activity, wantKind: ErrDigestMismatch,
			tamper: func(req *http.Request, _ *[]byte) { req.Header.Set("Digest", "SHA-256="+b64sha256([]byte("other"))) }},
		{name: "body and digest changed together", method: "POST", signer: alice, body: activity, wantKind: ErrBadSignature,
			tamper: func(req *http.Request, b *[]byte) {
				*b = bytes.Replace(*b, []byte("Create"), []byte("Delete"), 1)
				req.Header.Set("Digest", "SHA-256="+b64sha256(*b))
			}},
		{name: "digest dropped from the set", method: "POST", signer: alice, body: activity, wantKind: ErrMissingComponent, tamper: drop("digest")},
		{name: "host dropped from the set", method: "GET", signer: alice, wantKind: ErrMissingComponent, tamper: drop("host")},
		{name: "request-target dropped from the set", method: "GET", signer: alice, wantKind: ErrMissingComponent, tamper: drop(hdrRequestTarget)},
		{name: "date dropped from the set", method: "GET", signer: alice, wantKind: ErrMissingComponent, tamper: drop("date")},
		{name: "date too old", method: "POST", signer: at(alice, -13*time.Hour), body: activity, wantKind: ErrOutsideWindow},
		{name: "date too far in the future", method: "POST", signer: at(alice, 2*time.Hour), body: activity, wantKind: ErrOutsideWindow},
		{name: "date changed", method: "GET", signer: alice, wantKind: ErrBadSignature,
			tamper: func(req *http.Request, _ *[]byte) {
				req.Header.Set("Date", now.Add(time.Second).Format(http.TimeFormat))
			}},
		{name: "wrong key", method: "POST", signer: Signer{KeyID: aliceKeyID, Key: keys.mallory, Clock: fixedClock(now)}, body: activity, wantKind: ErrBadSignature},
		{name: "host changed", method: "POST", signer: alice, body: activity, wantKind: ErrBadSignature,
			tamper: func(req *http.Request, _ *[]byte) { req.Host = "evil.example" }},
		{name: "request-target changed", method: "POST", signer: alice, body: activity, wantKind: ErrBadSignature,
			tamper: func(req *http.Request, _ *[]byte) { req.URL.Path = "/actors/bob/inbox" }},
		{name: "method changed", method: "POST", signer: alice, body: activity, wantKind: ErrBadSignature,
			tamper: func(req *http.Request, _ *[]byte) { req.Method = "PUT" }},
		{name: "unknown key id", method: "GET", signer: Signer{KeyID: "https://elsewhere.example/k", Key: keys.alice, Clock: fixedClock(now)}, wantKind: ErrKeyNotFound},
		{name: "unknown algorithm", method: "GET", signer: alice, wantKind: ErrUnknownAlgorithm,
			tamper: func(req *http.Request, _ *[]byte) { editSig(req, func(p *cavageParams) { p.Algorithm = "rsa-sha1" }) }},
		{name: "algorithm does not fit the key", method: "GET", signer: alice, wantKind: ErrUnknownAlgorithm,
			tamper: func(req *http.Request, _ *[]byte) { editSig(req, func(p *cavageParams) { p.Algorithm = "ed25519" }) }},
		{name: "duplicated parameter", method: "GET", signer: alice, wantKind: ErrMalformed,
			tamper: func(req *http.Request, _ *[]byte) {
				req.Header.Set("Signature", req.Header.Get("Signature")+`,keyId="`+aliceKeyID+`"`)
			}},
		{name: "no signature", method: "GET", signer: alice, wantKind: ErrNoSignature,
			tamper: func(req *http.Request, _ *[]byte) { req.Header.Del("Signature") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := append([]byte(nil), c.body...)
			var rd io.Reader
			if c.method != "GET" {
				rd = bytes.NewReader(body)
			}
			req, err := http.NewRequest(c.method, srv.URL+"/actors/alice/inbox?x=1", rd)
			if err != nil {
				t.Fatal(err)
			}
			if c.method != "GET" {
				req.Header.Set("Content-Type", "application/activity+json")
			}
			if err := c.signer.SignRequest(req, body); err != nil {
				t.Fatal(err)
			}
			if c.method == "POST" && !strings.Contains(req.Header.Get("Signature"), `headers="(request-target) host date digest content-type"`) {
				t.Fatalf("POST signature covers the wrong headers: %s", req.Header.Get("Signature"))
			}
			if c.tamper != nil {
				c.tamper(req, &body)
				if c.method != "GET" {
					req.Body = io.NopCloser(bytes.NewReader(body))
					req.ContentLength = int64(len(body))
				}
			}
			status, v := send(t, req)
			if c.wantKind == nil {
				if status != http.StatusAccepted || !v.OK {
					t.Fatalf("status %d, verdict %+v", status, v)
				}
				if v.Result.Algorithm != c.wantAlg || v.Result.Owner != c.wantOwn || v.Result.KeyID != c.signer.KeyID || v.Result.Scheme != SchemeCavage {
					t.Fatalf("result %+v", v.Result)
				}
				return
			}
			if status != http.StatusUnauthorized || v.Kind != c.wantKind.Error() {
				t.Fatalf("status %d, kind %q (%s); want 401 %q", status, v.Kind, v.Error, c.wantKind.Error())
			}
		})
	}
}

func b64sha256(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// TestRoundTripRFC9421OverHTTP signs with yaronf/httpsign's signer (as an
// RFC 9421 sender such as Mastodon 4.5 or Fedify would) and verifies on a
// loopback inbox. httpsign dates signatures with the wall clock, so the
// verifier uses it too.
func TestRoundTripRFC9421OverHTTP(t *testing.T) {
	keys := testKeys()
	fep, err := os.ReadFile(filepath.Join("testdata", "fep521a-actor.json"))
	if err != nil {
		t.Fatal(err)
	}
	edPriv, err := ParsePrivateKeyPEM(readFixture(t, "rfc9421", "test-key-ed25519.pem"))
	if err != nil {
		t.Fatal(err)
	}
	const multikeyID = "https://hanse.example/actors/alice#ed25519-key"
	resolve := func(ctx context.Context, keyID string) (PublicKey, error) {
		switch keyID {
		case aliceKeyID:
			return PublicKey{ID: aliceKeyID, Owner: aliceActor, Key: &keys.alice.PublicKey}, nil
		case multikeyID:
			return PublicKeyFromDocument(fep, keyID)
		}
		return PublicKey{}, errors.New("unknown key")
	}
	srv := inbox(t, Verifier{Resolve: resolve, Scheme: "http"})
	httpsSrv := inbox(t, Verifier{Resolve: resolve}) // wrong scheme: @target-uri is rebuilt as https://
	activity := []byte(`{"type":"Follow","actor":"` + aliceActor + `"}`)

	rsaSigner := func(fields ...string) *httpsign.Signer {
		s, err := httpsign.NewRSASigner(*keys.alice, httpsign.NewSignConfig().SetKeyID(aliceKeyID), httpsign.Headers(fields...))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	edSigner, err := httpsign.NewEd25519Signer(edPriv.(ed25519.PrivateKey), httpsign.NewSignConfig().SetKeyID(multikeyID).SignAlg(false),
		httpsign.Headers("@method", "@target-uri", "content-digest"))
	if err != nil {
		t.Fatal(err)
	}
	fedifyFields := []string{"@method", "@target-uri", "@authority", "host", "date", "content-digest"}
	cases := []struct {
		name     string
		server   *httptest.Server
		signer   *httpsign.Signer
		tamper   func(req *http.Request, body *[]byte)
		wantKind error
		wantAlg  string
	}{
		{name: "rsa-v1_5-sha256 like Fedify", server: srv, signer: rsaSigner(fedifyFields...), wantAlg: "rsa-v1_5-sha256"},
		{name: "ed25519 Multikey without alg", server: srv, signer: edSigner, wantAlg: "ed25519"},
		{name: "body changed", server: srv, signer: rsaSigner(fedifyFields...), wantKind: ErrDigestMismatch,
			tamper: func(_ *http.Request, b *[]byte) { *b = append(*b, ' ') }},
		{name: "content-digest not covered", server: srv, signer: rsaSigner("@method", "@target-uri", "date"), wantKind: ErrMissingComponent},
		{name: "@method not covered", server: srv, signer: rsaSigner("@target-uri", "content-digest"), wantKind: ErrMissingComponent},
		{name: "host changed", server: srv, signer: rsaSigner(fedifyFields...), wantKind: ErrBadSignature,
			tamper: func(req *http.Request, _ *[]byte) { req.Host = "evil.example"; req.Header.Set("Host", "evil.example") }},
		{name: "wrong scheme configured", server: httpsSrv, signer: rsaSigner(fedifyFields...), wantKind: ErrBadSignature},
		{name: "label without signature", server: srv, signer: rsaSigner(fedifyFields...), wantKind: ErrMalformed,
			tamper: func(req *http.Request, _ *[]byte) { req.Header.Set("Signature", "other=:AAAA:") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := append([]byte(nil), activity...)
			req, err := http.NewRequest("POST", c.server.URL+"/actors/alice/inbox", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/activity+json")
			req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			req.Header.Set("Host", req.Host)
			rc := io.NopCloser(bytes.NewReader(body))
			cd, err := httpsign.GenerateContentDigestHeader(&rc, []string{httpsign.DigestSha256})
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Digest", cd)
			input, sig, err := httpsign.SignRequest("sig1", *c.signer, req)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Signature-Input", input)
			req.Header.Set("Signature", sig)
			if c.tamper != nil {
				c.tamper(req, &body)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			status, v := send(t, req)
			if c.wantKind == nil {
				if status != http.StatusAccepted || v.Result.Algorithm != c.wantAlg || v.Result.Scheme != SchemeRFC9421 || v.Result.Owner != aliceActor {
					t.Fatalf("status %d, verdict %+v", status, v)
				}
				return
			}
			if status != http.StatusUnauthorized || v.Kind != c.wantKind.Error() {
				t.Fatalf("status %d, kind %q (%s); want 401 %q", status, v.Kind, v.Error, c.wantKind.Error())
			}
		})
	}
}

func TestSignerErrors(t *testing.T) {
	keys := testKeys()
	req := func() *http.Request {
		r, _ := http.NewRequest("POST", "https://remote.example/inbox", nil)
		return r
	}
	cases := []struct {
		name string
		s    Signer
		req  *http.Request
	}{
		{"nil request", Signer{KeyID: "k", Key: keys.alice}, nil},
		{"empty key id", Signer{Key: keys.alice}, req()},
		{"quote in key id", Signer{KeyID: `a"b`, Key: keys.alice}, req()},
		{"no key", Signer{KeyID: "k"}, req()},
		{"rsa-sha256 with Ed25519", Signer{KeyID: "k", Key: keys.ed, Algorithm: "rsa-sha256"}, req()},
		{"unknown algorithm", Signer{KeyID: "k", Key: keys.alice, Algorithm: "rsa-sha512"}, req()},
		{"(created) not supported", Signer{KeyID: "k", Key: keys.alice, Headers: []string{"(created)"}}, req()},
		{"no host", Signer{KeyID: "k", Key: keys.alice}, &http.Request{Method: "GET", URL: &urlNoHost}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.s.SignRequest(c.req, nil); err == nil {
				t.Fatal("SignRequest succeeded")
			}
		})
	}
	// A caller's Headers slice is not modified.
	h := []string{"(request-target)", "Host", "Date"}
	if err := (Signer{KeyID: "k", Key: keys.alice, Headers: h}).SignRequest(req(), nil); err != nil || h[1] != "Host" {
		t.Fatalf("err %v, headers %v", err, h)
	}
}

var urlNoHost = url.URL{Path: "/x"}
