package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestBodyLimitPerRoute: a route wrapped in BodyLimit takes bodies up to
// its own cap (above the router's), every other route keeps the router's
// cap, and the wrapped route enforces its cap itself.
func TestBodyLimitPerRoute(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, err.Error())
			return
		}
		WriteJSON(w, http.StatusOK, map[string]int{"read": len(b)})
	})
	pass := func(next http.Handler) http.Handler { return next }
	env := newTestServer(t, Deps{MaxBodyBytes: 100, Mount: func(r chi.Router) {
		r.Method(http.MethodPost, "/small", echo)
		r.With(pass).Method(http.MethodPost, "/large/{id}", BodyLimit(1000, echo))
		r.Route("/sub", func(sr chi.Router) { sr.Method(http.MethodPut, "/large", BodyLimit(300, echo)) })
	}})
	tests := []struct {
		name, method, path string
		size               int
		chunked            bool
		want               int
	}{
		{"default cap, within", "POST", "/small", 100, false, 200},
		{"default cap, declared above", "POST", "/small", 101, false, 413},
		{"default cap, chunked above", "POST", "/small", 500, true, 413},
		{"own cap above the default", "POST", "/large/x", 1000, false, 200},
		{"own cap, declared above", "POST", "/large/x", 1001, false, 413},
		{"own cap, chunked above", "POST", "/large/x", 5000, true, 413},
		{"own cap in a subrouter", "PUT", "/sub/large", 300, false, 200},
		{"own cap in a subrouter, above", "PUT", "/sub/large", 301, false, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(strings.Repeat("x", tt.size))
			if tt.chunked {
				body = io.MultiReader(body) // no length: sent chunked
			}
			res := env.do(t, tt.method, tt.path, body, nil)
			if res.status != tt.want {
				t.Fatalf("%s %s with %d bytes = %d %s, want %d", tt.method, tt.path, tt.size, res.status, res.body, tt.want)
			}
		})
	}
}
