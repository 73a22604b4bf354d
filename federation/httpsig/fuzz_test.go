package httpsig

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func fixturesPresent() bool {
	st, err := os.Stat(fixtureRoot)
	return err == nil && st.IsDir()
}

// FuzzParseSignatureHeader: any input parses or fails with ErrMalformed, and
// what parses survives serialisation unchanged.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		`keyId="k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2ln"`,
		`keyId="a\"b",signature="c2ln",created="1",expires=2,headers="(created) (expires)"`,
		` , keyId = "k" ,, signature = "c2ln" , x=y `,
		`keyId="k",keyId="k",signature="c2ln"`,
		`sig1=:c2ln:`, `keyId="k`, `=`, `"`, `\`,
	} {
		f.Add(s)
	}
	if fixturesPresent() {
		var cv cavageVectors
		readJSONFixture(f, &cv, "cavage-10", "vectors.json")
		for _, tc := range cv.Tests {
			f.Add(tc.SignatureHdr)
		}
		var fv fedifyVectors
		readJSONFixture(f, &fv, "activitypub-fedify", "vectors.json")
		for _, tc := range fv.Tests {
			for _, h := range tc.Headers {
				if h[0] == "Signature" {
					f.Add(h[1])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseSignatureHeader(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		q, err := parseSignatureHeader(p.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", p.String(), err)
		}
		if q.KeyID != p.KeyID || q.Algorithm != p.Algorithm || !reflect.DeepEqual(q.Headers, p.Headers) ||
			q.Created != p.Created || q.Expires != p.Expires || string(q.Signature) != string(p.Signature) {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
	})
}

// fuzzKeys returns the keys FuzzVerify resolves, by key id prefix.
func fuzzKeys(f *testing.F) map[string]PublicKey {
	keys := map[string]PublicKey{}
	if fixturesPresent() {
		for id, k := range rfc9421Keys(f) {
			keys[id] = k
		}
		keys["Test"] = PublicKey{ID: "Test", Key: publicKeyFixture(f, "cavage-10", "test-key.pub.pem")}
		for _, doc := range []string{"example.com-key.json", "oeee.cafe-actor.json"} {
			k, err := PublicKeyFromDocument(readFixture(f, "activitypub-fedify", doc), "")
			if err != nil {
				f.Fatal(err)
			}
			keys[k.ID] = k
		}
	} else {
		k := testKeys()
		keys["Test"] = PublicKey{ID: "Test", Key: &k.alice.PublicKey}
		keys["ed"] = PublicKey{ID: "ed", Key: k.ed.Public().(ed25519.PublicKey)}
	}
	return keys
}

// FuzzVerify: arbitrary signature headers never panic and every failure
// wraps exactly one sentinel.
func FuzzVerify(f *testing.F) {
	type seed struct {
		method, target, host, sig, sigInput, auth, digest, contentDigest, date, body string
		clock                                                                        uint8
		relaxed                                                                      bool
	}
	seeds := []seed{
		{"POST", "/inbox", "a.example", `keyId="Test",headers="(request-target) host date digest",signature="c2ln"`, "", "", "SHA-256=AAAA", "", "Sun, 05 Jan 2014 21:31:40 GMT", "{}", 0, false},
		{"GET", "/", "a.example", "sig1=:c2ln:", `sig1=("@method" "@target-uri");created=1618884473;keyid="test-key-ed25519"`, "", "", "", "", "", 1, false},
		{"GET", "/", "", "", "", "Signature keyId=\"x\",signature=\"c2ln\"", "", "", "", "", 0, true},
	}
	if fixturesPresent() {
		var cv cavageVectors
		readJSONFixture(f, &cv, "cavage-10", "vectors.json")
		for _, tc := range cv.Tests {
			seeds = append(seeds, seed{"POST", "/foo?param=value&pet=dog", "example.com", tc.SignatureHdr, "", "",
				"SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "", "Sun, 05 Jan 2014 21:31:40 GMT", `{"hello": "world"}`, 0, true})
			seeds = append(seeds, seed{"POST", "/foo?param=value&pet=dog", "example.com", "", "", tc.AuthHdr,
				"SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "", "Sun, 05 Jan 2014 21:31:40 GMT", `{"hello": "world"}`, 0, false})
		}
		var rv rfc9421Vectors
		readJSONFixture(f, &rv, "rfc9421", "vectors.json")
		for _, tc := range rv.Tests {
			seeds = append(seeds, seed{"POST", "/foo?param=Value&Pet=dog", "example.com", tc.Signature, tc.SignatureInput, "", "",
				"sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
				"Tue, 20 Apr 2021 02:07:55 GMT", `{"hello": "world"}`, 1, true})
		}
		var fv fedifyVectors
		readJSONFixture(f, &fv, "activitypub-fedify", "vectors.json")
		for _, tc := range fv.Tests {
			s := seed{method: tc.Method, body: tc.Body, clock: 2}
			u, _ := url.Parse(tc.URL)
			s.target, s.host = u.RequestURI(), u.Host
			for _, h := range tc.Headers {
				switch h[0] {
				case "Signature":
					s.sig = h[1]
				case "Digest":
					s.digest = h[1]
				case "Date":
					s.date = h[1]
				}
			}
			seeds = append(seeds, s)
		}
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.host, s.sig, s.sigInput, s.auth, s.digest, s.contentDigest, s.date, s.body, s.clock, s.relaxed)
	}
	keys := fuzzKeys(f)
	keys["hmac"] = PublicKey{ID: "hmac", Key: []byte(strings.Repeat("k", 64))}
	clocks := []time.Time{cavageDate, rfc9421Created, time.Date(2024, 3, 5, 7, 49, 44, 0, time.UTC), time.Date(2025, 8, 25, 12, 58, 14, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, method, target, host, sig, sigInput, auth, digest, contentDigest, date, body string, clock uint8, relaxed bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		req := &http.Request{Method: method, URL: u, Host: host, Header: http.Header{}}
		for name, v := range map[string]string{"Signature": sig, "Signature-Input": sigInput, "Authorization": auth,
			"Digest": digest, "Content-Digest": contentDigest, "Date": date, "Content-Type": "application/json"} {
			if v != "" {
				req.Header[name] = strings.Split(v, "\n")
			}
		}
		v := Verifier{
			Resolve: func(_ context.Context, id string) (PublicKey, error) {
				if k, ok := keys[id]; ok {
					return k, nil
				}
				return PublicKey{}, errors.New("no such key")
			},
			Clock:                fixedClock(clocks[int(clock)%len(clocks)].Add(time.Second)),
			InsecureSkipCoverage: relaxed,
		}
		before := req.Header.Clone()
		start := time.Now()
		_, err = v.Verify(context.Background(), req, []byte(body))
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Verify took %s", d)
		}
		if err != nil && kindOf(err) == nil {
			t.Fatalf("error without a kind: %v", err)
		}
		if !reflect.DeepEqual(before, req.Header) {
			t.Fatal("Verify modified the request headers")
		}
	})
}

// FuzzPublicKeyFromDocument: remote documents never panic the key helpers,
// and failures wrap ErrKeyNotFound.
func FuzzPublicKeyFromDocument(f *testing.F) {
	f.Add([]byte(`{"id":"a","publicKey":{"id":"a#k","owner":"a","publicKeyPem":"x"}}`), "a#k")
	f.Add([]byte(`{"id":"a","assertionMethod":[{"id":"a#e","type":"Multikey","publicKeyMultibase":"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}]}`), "a#e")
	if b, err := os.ReadFile("testdata/fep521a-actor.json"); err == nil {
		f.Add(b, "https://hanse.example/actors/alice#ed25519-key")
	}
	f.Fuzz(func(t *testing.T, doc []byte, keyID string) {
		k, err := PublicKeyFromDocument(doc, keyID)
		if err != nil {
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("error %v is not ErrKeyNotFound", err)
			}
			return
		}
		if !usableKey(k.Key) {
			t.Fatalf("unusable key %T returned", k.Key)
		}
	})
}
