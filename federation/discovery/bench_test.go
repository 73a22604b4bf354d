package discovery

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hanse-network/hanse/federation/urls"
)

// BenchmarkWebFinger answers one acct: query from a fake read model.
func BenchmarkWebFinger(b *testing.B) {
	h := New(urls.MustNew(base), sampleReader(), "1", Options{})
	req := httptest.NewRequest(http.MethodGet, urls.WebFingerPath+"?resource=acct:alice@127.0.0.1:8080", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.WebFinger(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
