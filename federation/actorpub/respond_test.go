package actorpub

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/projections"
)

func TestWriteReadError(t *testing.T) {
	errMissing := errors.New("missing")
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name       string
		err        error
		ctx        context.Context
		status     int
		code, body string
		retryAfter string
	}{
		{"not found", fmt.Errorf("wrapped: %w", errMissing), context.Background(), 404, CodeNotFound, "no such note on this server", ""},
		{"not live", projections.ErrNotLive, context.Background(), 503, CodeNotReady, "the notes read model is not built yet", "1"},
		{"internal", errors.New("disk on fire"), context.Background(), 500, CodeInternal, "the note could not be read", ""},
		{"client gone", errors.New("canceled"), gone, 200, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/users/a/notes/1", nil).WithContext(tc.ctx)
			WriteReadError(rec, r, slog.New(slog.DiscardHandler), tc.err, "note", errMissing)
			if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d Retry-After %q, want %d %q", rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retryAfter)
			}
			if tc.code == "" {
				if rec.Body.Len() != 0 {
					t.Fatalf("body %q for a client that has gone", rec.Body)
				}
				return
			}
			want := `{"error":{"code":"` + tc.code + `","message":"` + tc.body + `"}}` + "\n"
			if rec.Body.String() != want || rec.Header().Get("Content-Type") != jsonContentType ||
				rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("body %q, headers %v; want %q", rec.Body, rec.Header(), want)
			}
		})
	}
}

func TestWriteDocumentAndPage(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	tmpl := template.Must(template.New("t").Parse(`<p>{{.}}</p>`))
	bad := template.Must(template.New("bad").Parse(`{{.Missing}}`))
	for _, tc := range []struct {
		name        string
		write       func(http.ResponseWriter)
		status      int
		contentType string
		body        string
	}{
		{"document", func(w http.ResponseWriter) {
			WriteDocument(w, r, log, http.StatusGone, func() ([]byte, error) { return []byte(`{"a":1}`), nil })
		}, 410, MediaTypeActivityJSON, `{"a":1}`},
		{"document fails", func(w http.ResponseWriter) {
			WriteDocument(w, r, log, http.StatusOK, func() ([]byte, error) { return nil, errors.New("no") })
		}, 500, jsonContentType, CodeInternal},
		{"page", func(w http.ResponseWriter) { WritePage(w, r, log, http.StatusOK, tmpl, "<b>") }, 200,
			"text/html; charset=utf-8", "<p>&lt;b&gt;</p>"},
		{"page fails", func(w http.ResponseWriter) { WritePage(w, r, log, http.StatusOK, bad, 42) }, 500,
			jsonContentType, CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.contentType ||
				rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(rec.Body.String(), tc.body) {
				t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); (tc.name == "page") != (csp == pageCSP) {
				t.Fatalf("Content-Security-Policy %q", csp)
			}
		})
	}
}
