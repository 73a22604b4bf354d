package actorpub

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkActorDocument serves one actor document (lookup in a fake read
// model, AS2 encoding, negotiation) without the network.
func BenchmarkActorDocument(b *testing.B) {
	h := New(scheme, sampleActors(b), Options{})
	req := httptest.NewRequest(http.MethodGet, "/users/alice", nil)
	req.Header.Set("Accept", acceptAS)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkProfilePage renders the HTML profile page.
func BenchmarkProfilePage(b *testing.B) {
	h := New(scheme, sampleActors(b), Options{})
	req := httptest.NewRequest(http.MethodGet, "/@alice", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
