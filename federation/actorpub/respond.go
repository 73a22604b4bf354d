package actorpub

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/hanse-network/hanse/projections"
)

// The responses below are shared by the handlers that serve documents at
// local IRIs (this package, federation/notedocs, federation/postdocs).
// Every one carries X-Content-Type-Options: nosniff. Bodies are written for
// HEAD too; net/http drops them and keeps their Content-Length.

// WriteError writes the JSON error body {"error":{"code","message"}} with
// status.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message = code, msg
	b, _ := json.Marshal(e) // strings only: cannot fail
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteMethodNotAllowed answers a request whose method is neither GET nor
// HEAD: 405 with Allow: GET, HEAD.
func WriteMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	WriteError(w, http.StatusMethodNotAllowed, CodeMethod, "method "+r.Method+" not allowed")
}

// WriteDocument writes the AS2 document made by encode with status, as
// MediaTypeActivityJSON. An encoding failure is logged on log and answers
// 500.
func WriteDocument(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, encode func() ([]byte, error)) {
	b, err := encode()
	if err != nil {
		log.ErrorContext(r.Context(), "encode AS2 document", "err", err, "path", r.URL.Path)
		WriteError(w, http.StatusInternalServerError, CodeInternal, "the document could not be encoded")
		return
	}
	h := w.Header()
	h.Set("Content-Type", MediaTypeActivityJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// pageCSP is the Content-Security-Policy of the HTML pages: inline styles
// only.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'"

// WritePage renders the HTML page t with data and writes it with status,
// under a Content-Security-Policy that allows inline styles only. A
// rendering failure is logged on log and answers 500.
func WritePage(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		log.ErrorContext(r.Context(), "render HTML page", "err", err, "path", r.URL.Path, "template", t.Name())
		WriteError(w, http.StatusInternalServerError, CodeInternal, "the page could not be rendered")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// WriteReadError answers err, the failure to look up the noun ("actor",
// "note", "post") a request names: 404 when err is one of notFound, 503
// with Retry-After while the read model is not live (projections.ErrNotLive),
// nothing when the client has gone, else 500 (logged on log).
func WriteReadError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, noun string, notFound ...error) {
	for _, target := range notFound {
		if errors.Is(err, target) {
			WriteError(w, http.StatusNotFound, CodeNotFound, "no such "+noun+" on this server")
			return
		}
	}
	switch {
	case errors.Is(err, projections.ErrNotLive):
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, CodeNotReady, "the "+noun+"s read model is not built yet")
	case r.Context().Err() != nil:
		// The client has gone.
	default:
		log.ErrorContext(r.Context(), "read "+noun, "err", err, "path", r.URL.Path)
		WriteError(w, http.StatusInternalServerError, CodeInternal, "the "+noun+" could not be read")
	}
}
