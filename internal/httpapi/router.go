package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// ReadyTimeout bounds one readiness check.
const ReadyTimeout = 2 * time.Second

// Deps is everything the router needs. Only Logger is required.
type Deps struct {
	// Logger receives access logs and panics.
	Logger *slog.Logger
	// Ready reports whether the instance can serve traffic (the event store
	// answers Head). Nil means always ready.
	Ready func(context.Context) error
	// Metrics, when non-nil, is mounted at GET /metrics behind the admin
	// token.
	Metrics http.Handler
	// AdminToken is the bearer token of /metrics and /api/admin. Empty
	// disables both (403), so nothing administrative is open by default.
	AdminToken string
	// Admin, when non-nil, adds routes under /api/admin; they get all
	// middleware and the admin-token check.
	Admin func(chi.Router)
	// Mount, when non-nil, adds feature routes to the router after the
	// built-in ones; they get all middleware.
	Mount func(chi.Router)
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	// Routes whose handler is wrapped in BodyLimit set their own cap.
	MaxBodyBytes int64
	// Auth, when non-nil, authenticates every request before the routes
	// (BearerAuth): /metrics, the admin routes and the mounted routes see
	// its Principal.
	Auth func(http.Handler) http.Handler
}

// methods probed to build the Allow header of a 405 response.
var allowProbe = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// NewRouter builds the HTTP handler: middleware (request id, access log,
// panic recovery, body cap, HEAD served by GET routes), GET /livez, GET /readyz, optional /metrics,
// the routes added by deps.Mount, and JSON 404 and 405 responses.
func NewRouter(deps Deps) http.Handler {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := deps.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}

	r := chi.NewRouter()
	// Routes wrapped in BodyLimit cap their own bodies; they are known
	// once every route is mounted (below), before the first request.
	var ownLimits map[string]int64
	exempt := func(req *http.Request) bool { return ownBodyLimit(r, ownLimits, req) }
	r.Use(requestIDMiddleware, accessLog(log), recoverer(log), bodyLimit(limit, exempt), middleware.GetHead)
	if deps.Auth != nil {
		r.Use(deps.Auth)
	}

	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		WriteError(w, req, http.StatusNotFound, CodeNotFound, "no such resource: "+req.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range allowProbe {
			if r.Match(chi.NewRouteContext(), m, req.URL.Path) ||
				m == http.MethodHead && r.Match(chi.NewRouteContext(), http.MethodGet, req.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		WriteError(w, req, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"method "+req.Method+" not allowed on "+req.URL.Path)
	})

	r.Get("/livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", readyHandler(deps.Ready, log))
	r.Get(OpenAPIPath, openAPIHandler)
	admin := requireAdminToken(deps.AdminToken)
	if deps.Metrics != nil {
		r.With(admin).Method(http.MethodGet, MetricsPath, deps.Metrics)
	}
	if deps.Admin != nil {
		r.Route(AdminPrefix, func(ar chi.Router) {
			ar.Use(admin)
			deps.Admin(ar)
		})
	}
	if deps.Mount != nil {
		deps.Mount(r)
	}
	ownLimits = routeBodyLimits(r)
	return r
}

func readyHandler(ready func(context.Context) error, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			err := ready(ctx)
			cancel()
			if err != nil {
				log.LogAttrs(r.Context(), slog.LevelWarn, "not ready",
					slog.String("error", err.Error()), slog.String("request_id", RequestID(r.Context())))
				WriteError(w, r, http.StatusServiceUnavailable, CodeNotReady, "not ready: "+err.Error())
				return
			}
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}
