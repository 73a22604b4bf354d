package reactor

import (
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// Skip is a refusal a reactor finds itself (not one of a command): an
// activity it will never act on. A reactor's refused function reports it
// (IsSkip), so that Each logs and skips the activity rather than retrying.
type Skip struct{ Reason string }

// Error implements error.
func (s *Skip) Error() string { return s.Reason }

// Skipf returns a *Skip with the formatted reason.
func Skipf(format string, args ...any) error { return &Skip{Reason: fmt.Sprintf(format, args...)} }

// IsSkip reports whether err is (or wraps) a *Skip.
func IsSkip(err error) bool {
	var s *Skip
	return errors.As(err, &s)
}

// Decode decodes a received activity and checks that it is by its
// verified actor and that this actor is remote (local reports the IRIs of
// this instance): a *Skip otherwise.
func Decode(rec *remote.ActivityReceived, local func(iri string) bool) (*as2.Object, error) {
	act, err := as2.Decode(rec.Raw)
	if err != nil {
		return nil, Skipf("undecodable activity: %v", err)
	}
	if act.ActorID() != rec.Actor {
		return nil, Skipf("activity actor %q is not the verified actor %q", act.ActorID(), rec.Actor)
	}
	if local(rec.Actor) {
		return nil, Skipf("activity by a local actor %s", rec.Actor)
	}
	return act, nil
}
