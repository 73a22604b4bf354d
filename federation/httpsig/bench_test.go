package httpsig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/yaronf/httpsign"
)

var benchActivity = bytes.Repeat([]byte(`{"type":"Create","object":{"content":"hello"}}`), 20) // ~1 KB

// BenchmarkRSA2048Verify is the floor for verifying: one raw RSA-2048
// PKCS#1 v1.5 SHA-256 verification with crypto/rsa.
func BenchmarkRSA2048Verify(b *testing.B) {
	k := testKeys().alice
	h := sha256.Sum256([]byte("signing string"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCavagePOST is a full Verifier.Verify of a signed 1 KB POST
// (parse, policy, time window, digest, resolver, go-fed/httpsig).
func BenchmarkVerifyCavagePOST(b *testing.B) {
	k := testKeys().alice
	now := time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC)
	req, _ := http.NewRequest("POST", "https://hanse.example/actors/alice/inbox", bytes.NewReader(benchActivity))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := (Signer{KeyID: aliceKeyID, Key: k, Clock: fixedClock(now)}).SignRequest(req, benchActivity); err != nil {
		b.Fatal(err)
	}
	v := Verifier{Resolve: staticResolver(map[string]PublicKey{aliceKeyID: {ID: aliceKeyID, Owner: aliceActor, Key: &k.PublicKey}}), Clock: fixedClock(now)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, req, benchActivity); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSA2048Sign is the floor for signing: one raw RSA-2048 PKCS#1
// v1.5 SHA-256 signature with crypto/rsa.
func BenchmarkRSA2048Sign(b *testing.B) {
	k := testKeys().alice
	h := sha256.Sum256([]byte("signing string"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignPOST is a full Signer.SignRequest of a 1 KB POST (Date,
// Digest, go-fed/httpsig, header rewrite).
func BenchmarkSignPOST(b *testing.B) {
	k := testKeys().alice
	s := Signer{KeyID: aliceKeyID, Key: k}
	req, _ := http.NewRequest("POST", "https://remote.example/inbox", nil)
	req.Header.Set("Content-Type", "application/activity+json")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SignRequest(req, benchActivity); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRFC9421POST is a full Verifier.Verify of a 1 KB POST signed
// with RFC 9421 rsa-v1_5-sha256 over "@method" "@target-uri" "content-digest"
// (as Mastodon 4.5 signs), through yaronf/httpsign.
func BenchmarkVerifyRFC9421POST(b *testing.B) {
	k := testKeys().alice
	req, _ := http.NewRequest("POST", "https://hanse.example/actors/alice/inbox", bytes.NewReader(benchActivity))
	req.Header.Set("Content-Digest", "sha-256=:"+b64sha256(benchActivity)+":")
	hs, err := httpsign.NewRSASigner(*k, httpsign.NewSignConfig().SetKeyID(aliceKeyID), httpsign.Headers("@method", "@target-uri", "content-digest"))
	if err != nil {
		b.Fatal(err)
	}
	input, sig, err := httpsign.SignRequest("sig1", *hs, req)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Signature-Input", input)
	req.Header.Set("Signature", sig)
	v := Verifier{Resolve: staticResolver(map[string]PublicKey{aliceKeyID: {ID: aliceKeyID, Owner: aliceActor, Key: &k.PublicKey}})}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, req, benchActivity); err != nil {
			b.Fatal(err)
		}
	}
}
