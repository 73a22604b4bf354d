// Package httpapi owns Hanse's HTTP surface: the chi router, its middleware
// (request ids, panic recovery, access log, request body cap), the JSON
// error format every handler shares, the health endpoints, and the
// http.Server settings (timeouts).
//
// Handlers are thin: they decode, call one application service or query,
// and encode. Business logic lives in internal/app and the projections.
// Features add their routes through Deps.Mount.
//
// Authentication is OAuth 2.0 as Mastodon speaks it (oauth*.go: client
// registration, the sign-in and consent page, the token and revocation
// endpoints, metadata, personal access tokens); BearerAuth (auth.go) turns
// a bearer token into the request's Principal, which RequireScope,
// RequireUser and RequireRole check, and refuses an invalid one (401
// invalid_token) on every route but those that judge credentials
// themselves (the admin routes, the OAuth endpoints). ratelimit.go has the keyed token-bucket
// limiter and its middleware.
//
// Client addresses are taken from the connection (r.RemoteAddr) only;
// X-Forwarded-For and X-Real-IP are not trusted.
package httpapi
