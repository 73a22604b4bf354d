package httpsig

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

type cavageVectors struct {
	Request struct {
		Method  string      `json:"method"`
		Target  string      `json:"target"`
		Body    string      `json:"body"`
		Headers [][2]string `json:"headers"`
	} `json:"request"`
	Tests []struct {
		Name          string  `json:"name"`
		Headers       *string `json:"headers"`
		SigningString string  `json:"signing_string"`
		SignatureHdr  string  `json:"signature_header"`
		AuthHdr       string  `json:"authorization_header"`
		SignatureB64  string  `json:"signature_b64"`
		KeyID         string  `json:"key_id"`
	} `json:"tests"`
}

// cavageDate is the Date of the draft-cavage-10 test request.
var cavageDate = time.Date(2014, 1, 5, 21, 31, 40, 0, time.UTC)

func TestCavageVectorsVerify(t *testing.T) {
	var vec cavageVectors
	readJSONFixture(t, &vec, "cavage-10", "vectors.json")
	pub := publicKeyFixture(t, "cavage-10", "test-key.pub.pem")
	req, body := readRequest(t, "cavage-10", "request.http")
	if string(body) != vec.Request.Body {
		t.Fatalf("request.http body %q != vectors.json body %q", body, vec.Request.Body)
	}
	resolve := staticResolver(map[string]PublicKey{"Test": {ID: "Test", Owner: "Test", Key: pub}})
	relaxed := Verifier{Resolve: resolve, Clock: fixedClock(cavageDate.Add(time.Minute)), InsecureSkipCoverage: true}
	strict := Verifier{Resolve: resolve, Clock: fixedClock(cavageDate.Add(time.Minute))}
	// Under the federation policy only all-headers-test (which covers the
	// digest of the POST body) is acceptable.
	strictWant := map[string]error{"default-test": ErrMissingComponent, "basic-test": ErrMissingComponent, "all-headers-test": nil}
	if len(vec.Tests) != 3 {
		t.Fatalf("%d cavage tests, want 3", len(vec.Tests))
	}
	for _, tc := range vec.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			p, err := parseSignatureHeader(tc.SignatureHdr)
			if err != nil {
				t.Fatal(err)
			}
			s, err := signingString(req, hostOf(req), p)
			if err != nil || s != tc.SigningString {
				t.Fatalf("signing string = %q, %v; want %q", s, err, tc.SigningString)
			}
			for _, form := range []struct{ name, value string }{{"Signature", tc.SignatureHdr}, {"Authorization", tc.AuthHdr}} {
				r := req.Clone(context.Background())
				r.Header.Set(form.name, form.value)
				res, err := relaxed.Verify(context.Background(), r, body)
				if err != nil {
					t.Fatalf("%s form: %v", form.name, err)
				}
				if res.KeyID != "Test" || res.Owner != "Test" || res.Scheme != SchemeCavage || res.Algorithm != "rsa-sha256" || !res.Signed.Equal(cavageDate) {
					t.Fatalf("%s form: result %+v", form.name, res)
				}
				_, err = strict.Verify(context.Background(), r, body)
				wantKind(t, err, strictWant[tc.Name])
				// Tampered signature bytes.
				bad := strings.Replace(form.value, tc.SignatureB64[:8], flipB64(tc.SignatureB64[:8]), 1)
				r.Header.Set(form.name, bad)
				_, err = relaxed.Verify(context.Background(), r, body)
				wantKind(t, err, ErrBadSignature)
			}
		})
	}
}

// flipB64 changes the first base64 character of s.
func flipB64(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestCavageVectorsSignerReproduces(t *testing.T) {
	var vec cavageVectors
	readJSONFixture(t, &vec, "cavage-10", "vectors.json")
	priv, err := ParsePrivateKeyPEM(readFixture(t, "cavage-10", "test-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var digest string
	for _, h := range vec.Request.Headers {
		if h[0] == "Digest" {
			digest = h[1]
		}
	}
	for _, tc := range vec.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			body := []byte(vec.Request.Body)
			req, err := http.NewRequest(vec.Request.Method, "http://example.com"+vec.Request.Target, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Length", "18")
			headers := []string{"date"}
			if tc.Headers != nil {
				headers = strings.Fields(*tc.Headers)
			}
			s := Signer{KeyID: "Test", Key: priv, Clock: fixedClock(cavageDate), Headers: headers}
			if err := s.SignRequest(req, body); err != nil {
				t.Fatal(err)
			}
			p, err := parseSignatureHeader(req.Header.Get("Signature"))
			if err != nil {
				t.Fatal(err)
			}
			if p.SignatureB64 != tc.SignatureB64 {
				t.Fatalf("signature\n got %s\nwant %s", p.SignatureB64, tc.SignatureB64)
			}
			if tc.Headers != nil && req.Header.Get("Signature") != tc.SignatureHdr {
				t.Fatalf("Signature header\n got %s\nwant %s", req.Header.Get("Signature"), tc.SignatureHdr)
			}
			if got := req.Header.Get("Date"); got != "Sun, 05 Jan 2014 21:31:40 GMT" {
				t.Fatalf("Date = %q", got)
			}
			if strings.Contains(strings.Join(headers, " "), "digest") && req.Header.Get("Digest") != digest {
				t.Fatalf("Digest = %q, want %q", req.Header.Get("Digest"), digest)
			}
		})
	}
}

type rfc9421Vectors struct {
	Tests []struct {
		Label          string `json:"label"`
		Message        string `json:"message"`
		Algorithm      string `json:"algorithm"`
		KeyID          string `json:"key_id"`
		SignatureInput string `json:"signature_input"`
		Signature      string `json:"signature"`
	} `json:"tests"`
}

// rfc9421Created is the created parameter of every Appendix B signature.
var rfc9421Created = time.Unix(1618884473, 0)

func rfc9421Keys(t testing.TB) map[string]PublicKey {
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(readFixture(t, "rfc9421", "test-shared-secret.b64"))))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]PublicKey{"test-shared-secret": {ID: "test-shared-secret", Key: secret}}
	for _, id := range []string{"test-key-rsa", "test-key-rsa-pss", "test-key-ecc-p256", "test-key-ed25519"} {
		keys[id] = PublicKey{ID: id, Owner: "owner-of-" + id, Key: publicKeyFixture(t, "rfc9421", id+".pub.pem")}
	}
	return keys
}

func TestRFC9421KeyFixtures(t *testing.T) {
	keys := rfc9421Keys(t)
	// test-key-rsa.pub.pem is PKCS#1 ("RSA PUBLIC KEY"), the others SPKI.
	if k, ok := keys["test-key-rsa"].Key.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Fatalf("test-key-rsa: %T", keys["test-key-rsa"].Key)
	}
	if _, ok := keys["test-key-rsa-pss"].Key.(*rsa.PublicKey); !ok {
		t.Fatalf("test-key-rsa-pss: %T", keys["test-key-rsa-pss"].Key)
	}
	if _, ok := keys["test-key-ecc-p256"].Key.(*ecdsa.PublicKey); !ok {
		t.Fatalf("test-key-ecc-p256: %T", keys["test-key-ecc-p256"].Key)
	}
	if _, ok := keys["test-key-ed25519"].Key.(ed25519.PublicKey); !ok {
		t.Fatalf("test-key-ed25519: %T", keys["test-key-ed25519"].Key)
	}
}

func TestRFC9421Vectors(t *testing.T) {
	var vec rfc9421Vectors
	readJSONFixture(t, &vec, "rfc9421", "vectors.json")
	if len(vec.Tests) != 6 {
		t.Fatalf("%d RFC 9421 tests, want 6", len(vec.Tests))
	}
	keys := rfc9421Keys(t)
	req, reqBody := readRequest(t, "rfc9421", "test-request.http")
	res, resBody := readResponse(t, "rfc9421", "test-response.corrected-digest.http")
	published, publishedBody := readResponse(t, "rfc9421", "test-response.http")
	clock := fixedClock(rfc9421Created.Add(2 * time.Second))
	relaxed := Verifier{Resolve: staticResolver(keys), Clock: clock, InsecureSkipCoverage: true}
	strict := Verifier{Resolve: staticResolver(keys), Clock: clock}
	// Only sig-b23 covers what the federation policy demands of a POST.
	strictWant := map[string]error{"sig-b21": ErrMissingComponent, "sig-b22": ErrMissingComponent,
		"sig-b23": nil, "sig-b25": ErrMissingComponent, "sig-b26": ErrMissingComponent}

	for _, tc := range vec.Tests {
		t.Run(tc.Label, func(t *testing.T) {
			input := strings.TrimPrefix(tc.SignatureInput, tc.Label+"=")
			sig := strings.TrimPrefix(tc.Signature, tc.Label+"=")
			verify := func(v Verifier, sigInput, sigValue string) (Result, error) {
				switch tc.Message {
				case "test-request.http":
					r := req.Clone(context.Background())
					r.Header.Set("Signature-Input", tc.Label+"="+sigInput)
					r.Header.Set("Signature", tc.Label+"="+sigValue)
					return v.Verify(context.Background(), r, reqBody)
				case "test-response.http":
					h := res.Header.Clone()
					h.Set("Signature-Input", tc.Label+"="+sigInput)
					h.Set("Signature", tc.Label+"="+sigValue)
					return v.verifyRFC9421(context.Background(), message9421{header: h, status: res.StatusCode}, resBody)
				}
				t.Fatalf("unknown message %q", tc.Message)
				return Result{}, nil
			}
			got, err := verify(relaxed, input, sig)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if got.KeyID != tc.KeyID || got.Algorithm != tc.Algorithm || got.Scheme != SchemeRFC9421 ||
				got.Owner != keys[tc.KeyID].Owner || !got.Signed.Equal(rfc9421Created) {
				t.Fatalf("result %+v", got)
			}
			// One flipped signature byte must fail.
			_, err = verify(relaxed, input, ":"+flipB64(strings.Trim(sig, ":"))+":")
			wantKind(t, err, ErrBadSignature)
			// Outside the window: 13 h later.
			late := relaxed
			late.Clock = fixedClock(rfc9421Created.Add(13 * time.Hour))
			_, err = verify(late, input, sig)
			wantKind(t, err, ErrOutsideWindow)
			if want, ok := strictWant[tc.Label]; ok {
				_, err = verify(strict, input, sig)
				wantKind(t, err, want)
			}
			if tc.Label == "sig-b24" {
				// The published test-response has a Content-Digest that is not
				// the body's SHA-512 (see the fixtures' README).
				h := published.Header.Clone()
				h.Set("Signature-Input", tc.SignatureInput)
				h.Set("Signature", tc.Signature)
				_, err := relaxed.verifyRFC9421(context.Background(), message9421{header: h, status: 200}, publishedBody)
				wantKind(t, err, ErrDigestMismatch)
			}
		})
	}
}

type fedifyVectors struct {
	Tests []struct {
		Name          string      `json:"name"`
		Method        string      `json:"method"`
		URL           string      `json:"url"`
		Headers       [][2]string `json:"headers"`
		Body          string      `json:"body"`
		KeyID         string      `json:"key_id"`
		KeyFrom       string      `json:"public_key_from"`
		SigningString string      `json:"signing_string_derived"`
	} `json:"tests"`
}

func TestFedifyVectors(t *testing.T) {
	var vec fedifyVectors
	readJSONFixture(t, &vec, "activitypub-fedify", "vectors.json")
	if len(vec.Tests) != 2 {
		t.Fatalf("%d fedify tests, want 2", len(vec.Tests))
	}
	wantOwner := map[string]string{
		"fedify-draft-cavage":     "https://example.com/person",
		"oeee.cafe-hs2019-accept": "https://oeee.cafe/ap/users/3609fd4e-d51d-4db8-9f04-4189815864dd",
	}
	for _, tc := range vec.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			doc := readFixture(t, "activitypub-fedify", tc.KeyFrom)
			resolve := func(_ context.Context, keyID string) (PublicKey, error) {
				return PublicKeyFromDocument(doc, keyID)
			}
			req, err := http.NewRequest(tc.Method, tc.URL, strings.NewReader(tc.Body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.Headers {
				switch h[0] {
				case "method", "body":
					// The vector lists fedify's Request init fields next to
					// the headers; they are not HTTP headers.
				case "Host":
					req.Host = h[1]
				default:
					req.Header.Add(h[0], h[1])
				}
			}
			date, err := http.ParseTime(req.Header.Get("Date"))
			if err != nil {
				t.Fatal(err)
			}
			v := Verifier{Resolve: resolve, Clock: fixedClock(date.Add(30 * time.Second))}
			res, err := v.Verify(context.Background(), req, []byte(tc.Body))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if res.KeyID != tc.KeyID || res.Owner != wantOwner[tc.Name] || res.Algorithm != "rsa-sha256" {
				t.Fatalf("result %+v", res)
			}
			p, err := parseSignatureHeader(req.Header.Get("Signature"))
			if err != nil {
				t.Fatal(err)
			}
			if s, err := signingString(req, hostOf(req), p); err != nil || s != tc.SigningString {
				t.Fatalf("signing string = %q, %v; want %q", s, err, tc.SigningString)
			}
			// Tampered body, and a clock 13 h later.
			_, err = v.Verify(context.Background(), req, []byte(tc.Body+" "))
			wantKind(t, err, ErrDigestMismatch)
			v.Clock = fixedClock(date.Add(13 * time.Hour))
			_, err = v.Verify(context.Background(), req, []byte(tc.Body))
			wantKind(t, err, ErrOutsideWindow)
			if p.Expires != "" {
				// oeee.cafe's signature expires an hour after creation.
				v.Clock = fixedClock(date.Add(time.Hour + time.Minute))
				_, err = v.Verify(context.Background(), req, []byte(tc.Body))
				wantKind(t, err, ErrOutsideWindow)
			}
		})
	}
}
