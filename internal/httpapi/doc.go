// Package httpapi owns Hanse's HTTP surface: the chi router, its middleware
// (request ids, panic recovery, access log, request body cap), the JSON
// error format every handler shares, the health endpoints, and the
// http.Server settings (timeouts).
//
// Handlers are thin: they decode, call one application service or query,
// and encode. Business logic lives in internal/app and the projections.
// Features add their routes through Deps.Mount.
//
// Client addresses are taken from the connection (r.RemoteAddr) only;
// X-Forwarded-For and X-Real-IP are not trusted.
package httpapi
