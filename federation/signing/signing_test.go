package signing_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/signing"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections/actors"
)

// xorOpener "unseals" by checking the additional data, to keep the test
// about key selection rather than cryptography (internal/secrets has its
// own tests).
type xorOpener struct{ opened int }

func (o *xorOpener) Open(sealed, ad []byte) ([]byte, error) {
	o.opened++
	prefix := string(ad) + "|"
	if !strings.HasPrefix(string(sealed), prefix) {
		return nil, errors.New("wrong additional data")
	}
	return sealed[len(prefix):], nil
}

type directory map[string]actors.Actor

func (d directory) ByUsername(context.Context, string) (actors.Actor, error) {
	return actors.Actor{}, actors.ErrNotFound
}
func (d directory) ByID(_ context.Context, id string) (actors.Actor, error) {
	a, ok := d[id]
	if !ok {
		return a, actors.ErrNotFound
	}
	return a, nil
}
func (d directory) InstanceActor(ctx context.Context) (actors.Actor, error) {
	return d.ByID(ctx, "instance")
}
func (d directory) Counts(context.Context) (actors.Counts, error) { return actors.Counts{}, nil }

func sealedKey(t *testing.T, id string) (sealed []byte, pub *rsa.PublicKey) {
	t.Helper()
	key, err := httpsig.GenerateRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := httpsig.EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(id + "|" + pemText), &key.PublicKey
}

func TestSignerForFollowsTheCurrentKey(t *testing.T) {
	scheme, err := urls.New("https://hanse.example")
	if err != nil {
		t.Fatal(err)
	}
	sealed1, pub1 := sealedKey(t, "c1")
	sealedInstance, _ := sealedKey(t, "instance")
	dir := directory{
		"c1":       {ID: "c1", Kind: actor.KindGroup, Username: "bees", SealedPrivateKey: sealed1, KeyGeneration: 1},
		"instance": {ID: "instance", Kind: actor.KindApplication, Username: "hanse.example", SealedPrivateKey: sealedInstance, KeyGeneration: 1},
		"gone":     {ID: "gone", Kind: actor.KindPerson, Username: "old", SealedPrivateKey: sealed1, DeletedAt: time.Now()},
		"moved":    {ID: "moved", Kind: actor.KindPerson, Username: "m", SealedPrivateKey: sealed1, KeyGeneration: 1},
	}
	opener := &xorOpener{}
	keys := signing.New(dir, opener, scheme)
	ctx := context.Background()

	s, err := keys.SignerFor(ctx, "c1")
	if err != nil || s.KeyID != "https://hanse.example/communities/bees#main-key" {
		t.Fatalf("SignerFor: %+v, %v", s, err)
	}
	if pk := s.Key.Public().(*rsa.PublicKey); !pk.Equal(pub1) {
		t.Fatal("signer holds another key")
	}
	if _, err := keys.SignerFor(ctx, "c1"); err != nil || opener.opened != 1 {
		t.Fatalf("second SignerFor opened the key again (%d opens), %v", opener.opened, err)
	}

	// A rotation (new generation in the read model) takes effect at once.
	sealed2, pub2 := sealedKey(t, "c1")
	a := dir["c1"]
	a.SealedPrivateKey, a.KeyGeneration = sealed2, 2
	dir["c1"] = a
	s, err = keys.SignerFor(ctx, "c1")
	if err != nil || s.KeyID != "https://hanse.example/communities/bees#key-2" || !s.Key.Public().(*rsa.PublicKey).Equal(pub2) {
		t.Fatalf("after rotation: %+v, %v", s, err)
	}

	// The signature verifies against the public key.
	req, _ := http.NewRequest(http.MethodPost, "https://remote.example/inbox", strings.NewReader("{}"))
	if err := s.SignRequest(req, []byte("{}")); err != nil || !strings.Contains(req.Header.Get("Signature"), "key-2") {
		t.Fatalf("SignRequest: %v, %q", err, req.Header.Get("Signature"))
	}

	if s, err := keys.InstanceSigner(ctx); err != nil || s.KeyID != "https://hanse.example/actor#main-key" {
		t.Fatalf("InstanceSigner: %+v, %v", s, err)
	}
	if _, err := keys.SignerFor(ctx, "gone"); err == nil {
		t.Error("a deleted actor got a signer")
	}
	if _, err := keys.SignerFor(ctx, "nobody"); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("unknown actor: %v, want ErrNotFound", err)
	}
	m := dir["moved"]
	m.SealedPrivateKey = []byte("someone-else|" + string(sealed1[len("c1|"):]))
	dir["moved"] = m
	if _, err := keys.SignerFor(ctx, "moved"); err == nil {
		t.Error("a key sealed for another actor was accepted")
	}
}

func TestFarewellSignerSignsForDeletedActors(t *testing.T) {
	scheme := urls.MustNew("https://hanse.example")
	sealed, pub := sealedKey(t, "gone")
	dir := directory{"gone": {ID: "gone", Kind: actor.KindPerson, Username: "old", SealedPrivateKey: sealed, KeyGeneration: 1,
		DeletedAt: time.Now()}}
	keys := signing.New(dir, &xorOpener{}, scheme)
	ctx := context.Background()
	if _, err := keys.SignerFor(ctx, "gone"); err == nil {
		t.Fatal("a deleted actor got a signer")
	}
	s, err := keys.FarewellSignerFor(ctx, "gone")
	if err != nil || s.KeyID != "https://hanse.example/users/old#main-key" || !s.Key.Public().(*rsa.PublicKey).Equal(pub) {
		t.Fatalf("FarewellSignerFor: %+v, %v", s, err)
	}
	if _, err := keys.FarewellSignerFor(ctx, "nobody"); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("unknown actor: %v", err)
	}
}
