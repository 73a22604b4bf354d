package webfinger

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/hanse-network/hanse/federation/fetch"
)

// ErrNotFound: the server answered 404 or 410 (no such account).
var ErrNotFound = errors.New("webfinger: resource not found")

// acceptJRD is the Accept header of lookups (what Mastodon sends).
const acceptJRD = "application/jrd+json, application/json"

// maxJRDBytes caps a JRD response.
const maxJRDBytes = 128 << 10

type lookupOptions struct {
	plainHTTP bool
}

// LookupOption modifies a Lookup.
type LookupOption func(*lookupOptions)

// PlainHTTP makes Lookup query the host over http instead of https: for
// peers in a local test federation whose public URL is http://host:port.
func PlainHTTP() LookupOption {
	return func(o *lookupOptions) { o.plainHTTP = true }
}

// Lookup queries <scheme>://<host>/.well-known/webfinger?resource=<r> through
// client (guarded, size-capped, unsigned) and decodes the JRD. The scheme is
// https, or http with PlainHTTP; a URL resource is queried on its own host
// with its own scheme (http with PlainHTTP). The response must be 2xx with
// Content-Type application/jrd+json or, leniently, application/json.
//
// Errors: ErrInvalidResource for an unusable resource; ErrNotFound
// (together with the fetch error) for 404 and 410; ErrInvalidJRD for a
// body that is not a JRD; otherwise the fetch error (errors.Is works for
// fetch's kinds, e.g. fetch.ErrForbiddenAddress).
//
// Lookup does not check that the subject names the resource: a resolver
// must compare the subject with what it asked for, and confirm a subject
// on another host with a second lookup there, as Mastodon does.
func Lookup(ctx context.Context, client *fetch.Client, r Resource, opts ...LookupOption) (JRD, error) {
	var o lookupOptions
	for _, opt := range opts {
		opt(&o)
	}
	if r.Host == "" || r.String() == "" {
		return JRD{}, fmt.Errorf("%w: %+v names neither an account nor a URL", ErrInvalidResource, r)
	}
	scheme := "https"
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil {
			return JRD{}, fmt.Errorf("%w: %v", ErrInvalidResource, err)
		}
		scheme = u.Scheme
	}
	if o.plainHTTP {
		scheme = "http"
	}
	q := url.URL{
		Scheme:   scheme,
		Host:     r.Host,
		Path:     "/.well-known/webfinger",
		RawQuery: url.Values{"resource": {r.String()}}.Encode(),
	}
	body, _, err := client.Get(ctx, q.String(), fetch.GetOptions{
		Accept:            acceptJRD,
		MaxBytes:          maxJRDBytes,
		AcceptContentType: isJRD,
	})
	if err != nil {
		var fe *fetch.Error
		if errors.As(err, &fe) && fe.Kind == fetch.ErrStatus &&
			(fe.StatusCode == http.StatusNotFound || fe.StatusCode == http.StatusGone) {
			return JRD{}, fmt.Errorf("webfinger: lookup %s: %w: %w", r, ErrNotFound, err)
		}
		return JRD{}, fmt.Errorf("webfinger: lookup %s: %w", r, err)
	}
	j, err := DecodeJRD(body)
	if err != nil {
		return JRD{}, fmt.Errorf("webfinger: lookup %s: %w", r, err)
	}
	return j, nil
}

// isJRD accepts application/jrd+json and application/json.
func isJRD(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == MediaTypeJRD || mt == "application/json"
}
