package moderation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	domain "github.com/hanse-network/hanse/internal/domain/moderation"
	readmodel "github.com/hanse-network/hanse/projections/moderation"
)

// Decision is what the policy says about a host.
type Decision = domain.Decision

// The decisions.
const (
	Allow   = domain.Allow
	Silence = domain.Silence
	Reject  = domain.Reject
)

// ErrDomainBlocked: the host is rejected by the instance's policy. Its
// text, "domain blocked", is what a refused delivery records.
var ErrDomainBlocked = errors.New("domain blocked")

// Policy decides about hosts. Host is a URL's host with its port
// ("example.com", "example.com:8443"); case and a trailing dot do not
// matter.
type Policy interface {
	Allowed(ctx context.Context, host string) (Decision, error)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, host string) (Decision, error)

// Allowed implements Policy.
func (f PolicyFunc) Allowed(ctx context.Context, host string) (Decision, error) { return f(ctx, host) }

// ReadModelPolicy answers from the moderation read model: one indexed
// query per call (a few tens of microseconds), so no cache is needed, and
// a change is in force as soon as the projection has applied it.
type ReadModelPolicy struct {
	Reader readmodel.Reader
}

// Allowed implements Policy.
func (p ReadModelPolicy) Allowed(ctx context.Context, host string) (Decision, error) {
	return p.Reader.Policy(ctx, host)
}

// HostOf returns the lower-case host (with port) of an absolute URL, ""
// when it has none.
func HostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// Decide asks p about host; a nil p allows everything.
func Decide(ctx context.Context, p Policy, host string) (Decision, error) {
	if p == nil {
		return Allow, nil
	}
	d, err := p.Allowed(ctx, host)
	if err != nil {
		return "", fmt.Errorf("moderation: policy for %s: %w", host, err)
	}
	return d, nil
}

// Rejects reports whether p rejects host (an error only when the policy
// could not be read). The inbox answers 202 and drops the request when it
// does.
func Rejects(ctx context.Context, p Policy, host string) (bool, error) {
	d, err := Decide(ctx, p, host)
	return d == Reject, err
}

// RefuseURL returns an error matching ErrDomainBlocked when p rejects the
// host of rawURL, the policy's error when it could not be read, and nil
// otherwise. The resolver calls it before every fetch, the delivery
// workers before every POST.
func RefuseURL(ctx context.Context, p Policy, rawURL string) error {
	if p == nil {
		return nil
	}
	host := HostOf(rawURL)
	d, err := Decide(ctx, p, host)
	if err != nil {
		return err
	}
	if d == Reject {
		return fmt.Errorf("%w: %s", ErrDomainBlocked, host)
	}
	return nil
}

// Silenced reports whether p silences (or rejects) the host of actorIRI:
// the inbox processor then creates no relationship from its activities.
func Silenced(ctx context.Context, p Policy, actorIRI string) (bool, error) {
	d, err := Decide(ctx, p, HostOf(actorIRI))
	return d == Silence || d == Reject, err
}
