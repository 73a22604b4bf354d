package secrets_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"testing"

	"github.com/hanse-network/hanse/internal/secrets"
)

func TestDeriveKey(t *testing.T) {
	a := mustKeyring(t, key(1))
	a2 := mustKeyring(t, key(1))
	b := mustKeyring(t, key(2))
	email := a.DeriveKey("account-email-digest")
	cases := []struct {
		name  string
		other []byte
		same  bool
	}{
		{"same key and purpose, another keyring", a2.DeriveKey("account-email-digest"), true},
		{"same keyring, called again", a.DeriveKey("account-email-digest"), true},
		{"another purpose", a.DeriveKey("tokens"), false},
		{"purpose differing in case", a.DeriveKey("Account-email-digest"), false},
		{"another master key", b.DeriveKey("account-email-digest"), false},
		{"not the master key itself", key(1), false},
	}
	if len(email) != secrets.DerivedKeySize {
		t.Fatalf("derived key has %d bytes, want %d", len(email), secrets.DerivedKeySize)
	}
	for _, c := range cases {
		if got := bytes.Equal(email, c.other); got != c.same {
			t.Errorf("%s: equal = %v, want %v", c.name, got, c.same)
		}
	}
	// The derivation is RFC 5869 HKDF-SHA-256 with Hanse's salt: pinned,
	// so a refactoring cannot silently change every derived key (which
	// would orphan every stored e-mail digest).
	want, err := hkdf.Key(sha256.New, key(1), []byte("hanse master key derivation v1"), "account-email-digest", 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(email, want) {
		t.Fatalf("DeriveKey = %x, want HKDF-SHA-256 %x", email, want)
	}
}

func TestDeriveKeyNeedsPurpose(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("DeriveKey(\"\") did not panic")
		}
	}()
	mustKeyring(t, key(1)).DeriveKey("")
}
