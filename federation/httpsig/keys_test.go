package httpsig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePublicKeyPEM(t *testing.T) {
	cases := []struct {
		file string
		kind string
	}{
		{"cavage-10/test-key.pub.pem", "RSA-1024"},
		{"rfc9421/test-key-rsa.pub.pem", "RSA-2048"}, // PKCS#1 "RSA PUBLIC KEY"
		{"rfc9421/test-key-rsa-pss.pub.pem", "RSA-2048"},
		{"rfc9421/test-key-ecc-p256.pub.pem", "ECDSA P-256"},
		{"rfc9421/test-key-ed25519.pub.pem", "Ed25519"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			k, err := ParsePublicKeyPEM(readFixture(t, strings.Split(tc.file, "/")...))
			if err != nil {
				t.Fatal(err)
			}
			if got := keyKind(k); got != tc.kind {
				t.Fatalf("kind = %s, want %s", got, tc.kind)
			}
		})
	}
	bad := []string{"", "not pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"}
	for _, b := range bad {
		if _, err := ParsePublicKeyPEM([]byte(b)); err == nil {
			t.Errorf("ParsePublicKeyPEM(%q) succeeded", b)
		}
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	for _, f := range []string{"cavage-10/test-key.pem", "rfc9421/test-key-rsa.pem", "rfc9421/test-key-ecc-p256.pem", "rfc9421/test-key-ed25519.pem"} {
		k, err := ParsePrivateKeyPEM(readFixture(t, strings.Split(f, "/")...))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pub := publicKeyFixture(t, strings.Split(strings.Replace(f, ".pem", ".pub.pem", 1), "/")...)
		if eq, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
			t.Fatalf("%s: private key does not match the public key fixture", f)
		}
	}
	// Go cannot parse the id-RSASSA-PSS PKCS#8 key (see the fixtures' README).
	if _, err := ParsePrivateKeyPEM(readFixture(t, "rfc9421", "test-key-rsa-pss.pem")); err == nil {
		t.Fatal("expected the id-RSASSA-PSS private key to be rejected")
	}
}

func TestGenerateAndEncodeKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA key generation is slow-ish")
	}
	k, err := GenerateRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.N.BitLen() != 2048 {
		t.Fatalf("key has %d bits", k.N.BitLen())
	}
	pubPEM, err := EncodePublicKeyPEM(&k.PublicKey)
	if err != nil || !strings.HasPrefix(pubPEM, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("EncodePublicKeyPEM = %q, %v", pubPEM, err)
	}
	pub, err := ParsePublicKeyPEM([]byte(pubPEM))
	if err != nil || !k.PublicKey.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	privPEM, err := EncodePrivateKeyPEM(k)
	if err != nil || !strings.HasPrefix(privPEM, "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("EncodePrivateKeyPEM: %v", err)
	}
	priv, err := ParsePrivateKeyPEM([]byte(privPEM))
	if err != nil || !k.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	if _, err := EncodePublicKeyPEM(struct{}{}); err == nil {
		t.Fatal("EncodePublicKeyPEM accepted a non-key")
	}
}

// TestMultibaseKnownAnswer uses the FEP-521a test scenario "Representing
// Ed25519 public key".
func TestMultibaseKnownAnswer(t *testing.T) {
	raw, _ := hex.DecodeString("2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6")
	const want = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	if got := EncodeMultibaseEd25519(raw); got != want {
		t.Fatalf("encode = %s, want %s", got, want)
	}
	k, err := ParseMultibaseKey(want)
	if err != nil || hex.EncodeToString(k) != hex.EncodeToString(raw) {
		t.Fatalf("decode = %x, %v", k, err)
	}
	for _, bad := range []string{"", "z", "u6Mk", "z0OIl", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do", "z1111"} {
		if _, err := ParseMultibaseKey(bad); err == nil {
			t.Errorf("ParseMultibaseKey(%q) succeeded", bad)
		}
	}
}

func TestPublicKeyFromDocument(t *testing.T) {
	fep, err := os.ReadFile(filepath.Join("testdata", "fep521a-actor.json"))
	if err != nil {
		t.Fatal(err)
	}
	oeee := readFixture(t, "activitypub-fedify", "oeee.cafe-actor.json")
	bare := readFixture(t, "activitypub-fedify", "example.com-key.json")
	ed := publicKeyFixture(t, "rfc9421", "test-key-ed25519.pub.pem")
	pss := publicKeyFixture(t, "rfc9421", "test-key-rsa-pss.pub.pem")
	const alice = "https://hanse.example/actors/alice"
	const oeeeActor = "https://oeee.cafe/ap/users/3609fd4e-d51d-4db8-9f04-4189815864dd"
	cases := []struct {
		name, keyID string
		doc         []byte
		wantID      string
		wantOwner   string
		wantKey     any // nil: only the type is checked
		wantErr     error
	}{
		{"publicKey object", oeeeActor + "#main-key", oeee, oeeeActor + "#main-key", oeeeActor, nil, nil},
		{"actor id as keyId", oeeeActor, oeee, oeeeActor + "#main-key", oeeeActor, nil, nil},
		{"bare key document", "https://example.com/key", bare, "https://example.com/key", "https://example.com/person", nil, nil},
		{"publicKey array", alice + "#main-key", fep, alice + "#main-key", alice, pss, nil},
		{"FEP-521a Multikey", alice + "#ed25519-key", fep, alice + "#ed25519-key", alice, ed, nil},
		{"unknown key", alice + "#other", fep, "", "", nil, ErrKeyNotFound},
		{"actor id with two keys", alice, fep, "", "", nil, ErrKeyNotFound},
		{"not JSON", "x", []byte("<html>"), "", "", nil, ErrKeyNotFound},
		{"no key", "x", []byte(`{"id":"x","publicKey":"https://elsewhere/key"}`), "", "", nil, ErrKeyNotFound},
		{"bad PEM", "x#k", []byte(`{"id":"x","publicKey":{"id":"x#k","publicKeyPem":"junk"}}`), "", "", nil, ErrKeyNotFound},
		{"bad multibase", "x#k", []byte(`{"id":"x","assertionMethod":[{"id":"x#k","type":"Multikey","publicKeyMultibase":"zzz"}]}`), "", "", nil, ErrKeyNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := PublicKeyFromDocument(tc.doc, tc.keyID)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != tc.wantID || k.Owner != tc.wantOwner {
				t.Fatalf("got id %q owner %q", k.ID, k.Owner)
			}
			switch want := tc.wantKey.(type) {
			case nil:
				if _, ok := k.Key.(*rsa.PublicKey); !ok {
					t.Fatalf("key type %T", k.Key)
				}
			case ed25519.PublicKey:
				if !want.Equal(k.Key) {
					t.Fatal("Multikey does not decode to test-key-ed25519")
				}
			case *rsa.PublicKey:
				if !want.Equal(k.Key) {
					t.Fatal("publicKeyPem does not decode to test-key-rsa-pss")
				}
			}
		})
	}
}

// TestMultikeyVerifiesRFC9421 verifies RFC 9421 sig-b26 (ed25519) with the key
// taken from a FEP-521a Multikey.
func TestMultikeyVerifiesRFC9421(t *testing.T) {
	var vec rfc9421Vectors
	readJSONFixture(t, &vec, "rfc9421", "vectors.json")
	fep, err := os.ReadFile(filepath.Join("testdata", "fep521a-actor.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, body := readRequest(t, "rfc9421", "test-request.http")
	for _, tc := range vec.Tests {
		if tc.Label != "sig-b26" {
			continue
		}
		req.Header.Set("Signature-Input", tc.SignatureInput)
		req.Header.Set("Signature", tc.Signature)
		v := Verifier{
			Resolve: func(_ context.Context, keyID string) (PublicKey, error) {
				return PublicKeyFromDocument(fep, "https://hanse.example/actors/alice#ed25519-key")
			},
			Clock:                fixedClock(rfc9421Created),
			InsecureSkipCoverage: true,
		}
		res, err := v.Verify(context.Background(), req, body)
		if err != nil || res.Owner != "https://hanse.example/actors/alice" || res.Algorithm != "ed25519" {
			t.Fatalf("verify: %+v, %v", res, err)
		}
		return
	}
	t.Fatal("sig-b26 not found")
}

func TestResolvedKeyValidation(t *testing.T) {
	bad := []any{nil, &rsa.PublicKey{}, &rsa.PublicKey{N: big.NewInt(0), E: 65537}, &ecdsa.PublicKey{},
		ed25519.PublicKey{1, 2, 3}, []byte{}, "a string",
		&rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 9000), E: 65537}}
	for _, k := range bad {
		v := Verifier{Resolve: func(context.Context, string) (PublicKey, error) { return PublicKey{Key: k}, nil }}
		_, err := v.resolve(context.Background(), "k")
		wantKind(t, err, ErrKeyNotFound)
		_ = keyKind(k) // must not panic
	}
}
