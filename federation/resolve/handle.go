package resolve

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/webfinger"
	"github.com/hanse-network/hanse/projections/actors"
)

// ResolveHandle returns the actor IRI of a handle ("user@host",
// "@user@host" or "acct:user@host") by WebFinger. A handle of this
// instance is answered from the actors read model. When the JRD's subject
// names another host, that host is asked too and must agree (as Mastodon
// does).
func (r *Resolver) ResolveHandle(ctx context.Context, handle string) (string, error) {
	res, err := webfinger.ParseResource(handle)
	if err != nil {
		return "", err
	}
	if res.User == "" {
		return "", fmt.Errorf("%w: %q names no account", webfinger.ErrInvalidResource, handle)
	}
	if res.Host == r.o.Scheme.Host() {
		if r.o.Local == nil {
			return "", fmt.Errorf("%w: %s (no local directory)", ErrLocal, handle)
		}
		a, err := r.o.Local.ByUsername(ctx, res.User)
		if errors.Is(err, actors.ErrNotFound) {
			return "", fmt.Errorf("%w: %s", ErrNotFound, handle)
		}
		if err != nil {
			return "", err
		}
		if !a.DeletedAt.IsZero() {
			return "", fmt.Errorf("%w: %s", ErrGone, handle)
		}
		return r.o.Scheme.Actor(a.Kind, a.Username), nil
	}
	iri, subject, err := r.lookup(ctx, res)
	if err != nil {
		return "", err
	}
	if subject.Host != "" && subject.Host != res.Host {
		confirmed, _, err := r.lookup(ctx, subject)
		if err != nil {
			return "", fmt.Errorf("resolve: confirming %s at %s: %w", handle, subject.Host, err)
		}
		if confirmed != iri {
			return "", fmt.Errorf("%w: %s and %s disagree about %s", ErrInvalidDocument, res.Host, subject.Host, handle)
		}
	}
	return iri, nil
}

// lookup queries WebFinger for res and returns the rel=self ActivityPub
// link and the parsed subject.
func (r *Resolver) lookup(ctx context.Context, res webfinger.Resource) (string, webfinger.Resource, error) {
	var opts []webfinger.LookupOption
	if r.o.PlainHTTPPeers && strings.HasPrefix(r.o.Scheme.Base(), "http://") && hasPort(res.Host) {
		opts = append(opts, webfinger.PlainHTTP())
	}
	jrd, err := webfinger.Lookup(ctx, r.o.Client, res, opts...)
	if errors.Is(err, webfinger.ErrNotFound) {
		return "", webfinger.Resource{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return "", webfinger.Resource{}, err
	}
	var subject webfinger.Resource
	if jrd.Subject != "" {
		if subject, err = webfinger.ParseResource(jrd.Subject); err != nil {
			return "", webfinger.Resource{}, fmt.Errorf("%w: subject %q: %w", ErrInvalidDocument, jrd.Subject, err)
		}
	}
	for _, l := range jrd.Links {
		if l.Rel == webfinger.RelSelf && l.Href != "" && isActivityType(l.Type) {
			return l.Href, subject, nil
		}
	}
	return "", webfinger.Resource{}, fmt.Errorf("%w: no ActivityPub self link for %s@%s", ErrNotFound, res.User, res.Host)
}

func isActivityType(t string) bool {
	if t == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(t)
	return err == nil && (mt == fetch.ContentTypeActivityJSON || mt == "application/ld+json")
}

// hasPort reports whether host ("name", "name:port", "[v6]:port") carries
// a port.
func hasPort(host string) bool {
	if strings.HasPrefix(host, "[") {
		return strings.Contains(host, "]:")
	}
	return strings.Contains(host, ":")
}
