package actorpub

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/actors/actorstest"
)

// fakeReader is an in-memory actors.Reader.
type fakeReader = actorstest.Memory

const base = "http://127.0.0.1:8080"

var (
	t0     = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	scheme = urls.MustNew(base)
)

// testPEM is a fixed RSA-2048 public key (golden files depend on it).
func testPEM(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/public.pem")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sampleActors(t testing.TB) *fakeReader {
	pem := testPEM(t)
	return &fakeReader{Actors: []actors.Actor{
		{ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Alice Müller",
			Summary: "Lernbegleiterin in Bremen.\nMag <Bücher> & Kaffee.", Discoverable: true,
			PublicKeyPEM: pem, KeyGeneration: 1, CreatedAt: t0, UpdatedAt: t0},
		{ID: "g1", Kind: actor.KindGroup, Username: "lernen", Name: "Lernen in Bremen",
			ManuallyApprovesFollowers: true, Discoverable: true, PublicKeyPEM: pem, KeyGeneration: 3, CreatedAt: t0},
		{ID: "o1", Kind: actor.KindOrganization, Username: "vhs", Name: "Volkshochschule",
			PublicKeyPEM: pem, KeyGeneration: 1, CreatedAt: t0},
		{ID: "i1", Kind: actor.KindApplication, Username: "127.0.0.1", ManuallyApprovesFollowers: true,
			PublicKeyPEM: pem, KeyGeneration: 1, CreatedAt: t0},
		{ID: "d1", Kind: actor.KindPerson, Username: "gone", Name: "Gone", PublicKeyPEM: pem, KeyGeneration: 1,
			CreatedAt: t0, DeletedAt: t0.Add(48 * time.Hour)},
		{ID: "x1", Kind: actor.KindPerson, Username: "xss", Name: `<script>alert("x")</script>`,
			Summary: `"><img src=x onerror=alert(1)>`, PublicKeyPEM: pem, KeyGeneration: 1, CreatedAt: t0},
	}}
}

// serve mounts h on a chi router, as the server does, on loopback.
func serve(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	h.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

const acceptAS = "application/activity+json"

func fetch(t *testing.T, method, u, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
