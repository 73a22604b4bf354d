package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
)

// RequestIDHeader carries the request id in requests and responses.
const RequestIDHeader = "X-Request-Id"

// DefaultMaxBodyBytes is the request body cap when Deps.MaxBodyBytes is 0.
const DefaultMaxBodyBytes int64 = 1 << 20

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the id of the request that ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// validRequestID accepts a client-supplied id only if it is short and made
// of safe characters, so that it cannot forge log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestIDMiddleware keeps a well-formed incoming X-Request-Id or makes a
// new one, stores it in the context and echoes it in the response.
func requestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs one line per request after it completes.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr),
				slog.String("request_id", RequestID(r.Context())),
			)
		})
	}
}

// recoverer turns a panic in a handler into a logged 500 JSON error. The
// deliberate http.ErrAbortHandler is passed on so the server aborts the
// response as asked.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.LogAttrs(r.Context(), slog.LevelError, "handler panic",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("request_id", RequestID(r.Context())),
					slog.String("stack", string(debug.Stack())),
				)
				if rec.status != 0 {
					// The response has started and its status line cannot be
					// changed: abort it, so the client cannot mistake a
					// truncated body for a complete one.
					panic(http.ErrAbortHandler)
				}
				WriteError(rec, r, http.StatusInternalServerError, CodeInternal, "internal server error")
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// BodyLimit marks h as taking request bodies of up to max bytes instead
// of the router's cap (Deps.MaxBodyBytes): NewRouter finds such handlers
// among its routes (also behind r.With middleware) and leaves their
// bodies to them, and h enforces max itself the same way the router does
// (413 for a declared larger body, *http.MaxBytesError when reading past
// it). Use it for the few routes that take large uploads; everything
// else keeps the default cap.
func BodyLimit(max int64, h http.Handler) http.Handler {
	return &bodyLimited{max: max, next: bodyLimit(max, nil)(h)}
}

// bodyLimited is a handler with its own body cap.
type bodyLimited struct {
	max  int64
	next http.Handler
}

func (b *bodyLimited) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.next.ServeHTTP(w, r) }

// routeBodyLimits lists the routes of mux whose handlers were wrapped in
// BodyLimit, as "METHOD pattern".
func routeBodyLimits(mux chi.Routes) map[string]int64 {
	limits := map[string]int64{}
	_ = chi.Walk(mux, func(method, route string, h http.Handler, _ ...func(http.Handler) http.Handler) error {
		if b, ok := h.(*bodyLimited); ok {
			limits[method+" "+route] = b.max
		}
		return nil
	})
	return limits
}

// ownBodyLimit reports whether the route that will serve r sets its own
// body cap (BodyLimit).
func ownBodyLimit(mux *chi.Mux, limits map[string]int64, r *http.Request) bool {
	if len(limits) == 0 {
		return false
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	pattern := mux.Find(chi.NewRouteContext(), r.Method, path)
	_, ok := limits[r.Method+" "+pattern]
	return ok
}

// bodyLimit refuses bodies declared larger than limit with 413 and caps the
// rest with http.MaxBytesReader, so a handler reading too much gets an
// *http.MaxBytesError (ReadJSON maps it to 413). Requests for which exempt
// reports true pass untouched (their route caps its own body).
func bodyLimit(limit int64, exempt func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt != nil && exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
				WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
					fmt.Sprintf("request body exceeds %d bytes", limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}
