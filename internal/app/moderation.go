package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/moderation"
)

// Errors of the moderation commands. Each also matches the domain error it
// stems from. HTTP maps them to 400, 404 and 422.
var (
	// ErrModerationInvalid: a bad domain, severity or missing field.
	ErrModerationInvalid = errors.New("app: invalid moderation command")
	// ErrModerationNotFound: no such block, allowed domain or report.
	ErrModerationNotFound = errors.New("app: no such moderation record")
	// ErrOwnDomain: a block that would cover this instance's own host.
	ErrOwnDomain = errors.New("app: the rule would cover this instance's own domain")
)

// ModerationResult is the outcome of a moderation command.
type ModerationResult struct {
	// Stream is the stream written (or read, when nothing changed).
	Stream string
	// Position is the write's position, or of the stream's last event
	// when the command changed nothing (0: no event at all).
	Position events.Position
	// Changed reports whether the command appended events.
	Changed bool
}

// DomainResult is the outcome of a domain rule command.
type DomainResult struct {
	ModerationResult
	// Domain is the normalised domain the rule is about.
	Domain string
}

// BlockDomainCommand blocks a domain (or changes its block).
type BlockDomainCommand struct {
	Domain         string
	Severity       moderation.Severity
	PublicComment  string
	PrivateComment string
}

// ReceivedFlag is a report (Flag) taken from the inbox.
type ReceivedFlag struct {
	// ActivityID is the Flag's id; the report id derives from it.
	ActivityID string
	// Actor is the reporting actor.
	Actor string
	// Targets are the reported actors and objects.
	Targets    []string
	Content    string
	ReceivedAt time.Time
}

// ReceivedBlock is a Block of a local actor by a remote one, or the Undo
// of such a Block, taken from the inbox.
type ReceivedBlock struct {
	// ActivityID is the Block's (or the Undo's) id.
	ActivityID string
	// Actor is the remote actor who blocks.
	Actor string
	// Blocked is the local actor's IRI (the Block's object).
	Blocked string
}

// Moderation runs the moderation commands over an event store. Commands
// caused by a received activity derive their event ids (and a report's id)
// from the activity's id, so processing it twice appends nothing new;
// admin commands derive them from the stream and the revision decided on.
type Moderation struct {
	Store    events.Store
	Registry *events.Registry
	// Actors finds the local actors remote Blocks name.
	Actors LocalActors
	// Clock stamps the events; nil means time.Now.
	Clock func() time.Time
	// Origin is this instance's host (with port when it has one); no
	// domain block may cover it.
	Origin string
}

// NewModeration returns the moderation commands over store, registering
// the moderation events in registry unless they are already registered.
func NewModeration(store events.Store, registry *events.Registry, actors LocalActors, origin string) *Moderation {
	if !registry.Known(moderation.TypeDomainBlocked) {
		moderation.Register(registry)
	}
	return &Moderation{Store: store, Registry: registry, Actors: actors, Clock: time.Now, Origin: origin}
}

// ReportID is the id of the report a Flag with id flagActivityID creates.
func ReportID(flagActivityID string) string {
	return events.DerivedUUID("report", flagActivityID).String()
}

// BlockDomain blocks a domain (and its subdomains) with a severity, or
// changes an existing block; an identical block changes nothing.
// ErrOwnDomain when the block would cover this instance.
func (m *Moderation) BlockDomain(ctx context.Context, c BlockDomainCommand, by string) (DomainResult, error) {
	d, err := m.domain(c.Domain)
	if err != nil {
		return DomainResult{}, err
	}
	if m.Origin != "" && moderation.Covers(d, m.Origin) {
		return DomainResult{Domain: d}, fmt.Errorf("%w: %s covers %s", ErrOwnDomain, d, m.Origin)
	}
	return m.policy(ctx, d, by, func(s moderation.InstanceState) ([]any, error) {
		return moderation.BlockDomain(s, d, c.Severity, c.PublicComment, c.PrivateComment)
	})
}

// UnblockDomain lifts the block of exactly domain.
func (m *Moderation) UnblockDomain(ctx context.Context, domain, by string) (DomainResult, error) {
	d, err := m.domain(domain)
	if err != nil {
		return DomainResult{}, err
	}
	return m.policy(ctx, d, by, func(s moderation.InstanceState) ([]any, error) { return moderation.UnblockDomain(s, d) })
}

// AllowDomain puts domain (and its subdomains) on the allow-list.
func (m *Moderation) AllowDomain(ctx context.Context, domain, by string) (DomainResult, error) {
	d, err := m.domain(domain)
	if err != nil {
		return DomainResult{}, err
	}
	return m.policy(ctx, d, by, func(s moderation.InstanceState) ([]any, error) { return moderation.AllowDomain(s, d) })
}

// DisallowDomain takes domain off the allow-list.
func (m *Moderation) DisallowDomain(ctx context.Context, domain, by string) (DomainResult, error) {
	d, err := m.domain(domain)
	if err != nil {
		return DomainResult{}, err
	}
	return m.policy(ctx, d, by, func(s moderation.InstanceState) ([]any, error) { return moderation.DisallowDomain(s, d) })
}

// SetAllowlistMode switches the allow-list-only mode on or off.
func (m *Moderation) SetAllowlistMode(ctx context.Context, enabled bool, by string) (ModerationResult, error) {
	res, err := m.policy(ctx, "", by, func(s moderation.InstanceState) ([]any, error) {
		return moderation.SetAllowlistMode(s, enabled)
	})
	return res.ModerationResult, err
}

// InstancePolicy loads the instance's policy from the event store.
func (m *Moderation) InstancePolicy(ctx context.Context) (moderation.InstanceState, error) {
	var s moderation.InstanceState
	_, err := m.load(ctx, moderation.InstanceStream, &s)
	if s.Blocks == nil {
		s.Blocks, s.Allowed = map[string]moderation.Block{}, map[string]bool{}
	}
	return s, err
}

// ReceiveReport records a received Flag as a report with id
// ReportID(f.ActivityID).
func (m *Moderation) ReceiveReport(ctx context.Context, f ReceivedFlag) (ModerationResult, string, error) {
	if f.ActivityID == "" {
		return ModerationResult{}, "", fmt.Errorf("%w: %w: a Flag needs its id", ErrModerationInvalid, moderation.ErrInvalid)
	}
	id := ReportID(f.ActivityID)
	if f.ReceivedAt.IsZero() {
		f.ReceivedAt = m.now()
	}
	var s moderation.ReportState
	res, err := m.run(ctx, moderation.ReportStream(id), m.received(f.ActivityID, f.Actor), &s, func() ([]any, string, error) {
		evs, err := moderation.ReceiveReport(s, moderation.ReportReceived{ReportID: id, ReporterIRI: f.Actor, TargetIRIs: f.Targets,
			Content: f.Content, FlagActivityID: f.ActivityID, ReceivedAt: f.ReceivedAt})
		return evs, "receive-flag\n" + f.ActivityID, err
	})
	return res, id, err
}

// ResolveReport marks report id resolved; resolving it again changes
// nothing.
func (m *Moderation) ResolveReport(ctx context.Context, id, note, by string) (ModerationResult, error) {
	if u, err := events.ParseUUID(id); err != nil || u.String() != id {
		// Report ids are the UUIDs ReportID makes.
		return ModerationResult{}, fmt.Errorf("%w: %w: report %q", ErrModerationNotFound, moderation.ErrNotFound, id)
	}
	stream := moderation.ReportStream(id)
	var s moderation.ReportState
	return m.run(ctx, stream, m.local(by), &s, func() ([]any, string, error) {
		evs, err := moderation.ResolveReport(s, by, note)
		return evs, "resolve-report\n" + stream, err
	})
}

// Report loads report id from the event store (Exists false when there is
// none).
func (m *Moderation) Report(ctx context.Context, id string) (moderation.ReportState, error) {
	var s moderation.ReportState
	_, err := m.load(ctx, moderation.ReportStream(id), &s)
	return s, err
}

// ReceiveBlock records that a remote actor blocked a local one. It fails
// with ErrActorNotFound when b.Blocked is no local actor.
func (m *Moderation) ReceiveBlock(ctx context.Context, b ReceivedBlock) (ModerationResult, error) {
	local, err := m.localActor(ctx, b.Blocked)
	if err != nil {
		return ModerationResult{}, err
	}
	var s moderation.ActorBlockState
	return m.run(ctx, moderation.ActorBlockStream(b.Actor, local.ID), m.received(b.ActivityID, b.Actor), &s, func() ([]any, string, error) {
		evs, err := moderation.ReceiveBlock(s, moderation.ActorBlockedUs{RemoteActorIRI: b.Actor, LocalActorID: local.ID,
			LocalActorIRI: local.IRI, BlockActivityID: b.ActivityID})
		return evs, "receive-block\n" + b.ActivityID, err
	})
}

// ReceiveUndoBlock records that a remote actor undid its block of a local
// one; b.ActivityID is the Undo's id. Without a block it changes nothing.
func (m *Moderation) ReceiveUndoBlock(ctx context.Context, b ReceivedBlock) (ModerationResult, error) {
	local, err := m.localActor(ctx, b.Blocked)
	if err != nil {
		return ModerationResult{}, err
	}
	var s moderation.ActorBlockState
	return m.run(ctx, moderation.ActorBlockStream(b.Actor, local.ID), m.received(b.ActivityID, b.Actor), &s, func() ([]any, string, error) {
		evs, err := moderation.ReceiveUndoBlock(s, b.ActivityID)
		return evs, "receive-undo-block\n" + b.ActivityID, err
	})
}

// ActorBlock loads the block of local actor localActorID by remoteIRI.
func (m *Moderation) ActorBlock(ctx context.Context, remoteIRI, localActorID string) (moderation.ActorBlockState, error) {
	var s moderation.ActorBlockState
	_, err := m.load(ctx, moderation.ActorBlockStream(remoteIRI, localActorID), &s)
	return s, err
}

func (m *Moderation) localActor(ctx context.Context, iri string) (LocalActor, error) {
	if m.Actors == nil {
		return LocalActor{}, errors.New("app: moderation: no local actor directory")
	}
	a, err := m.Actors.ByIRI(ctx, iri)
	if err != nil {
		return LocalActor{}, err
	}
	if a.ID == "" {
		return LocalActor{}, fmt.Errorf("%w: %s", ErrActorNotFound, iri)
	}
	return a, nil
}

// domain normalises a domain, mapping failures to ErrModerationInvalid.
func (m *Moderation) domain(s string) (string, error) {
	d, err := moderation.NormalizeDomain(s)
	if err != nil {
		return "", fmt.Errorf("%w: %w: %w", ErrModerationInvalid, moderation.ErrInvalid, err)
	}
	return d, nil
}

// policy runs a decision on the instance stream.
func (m *Moderation) policy(ctx context.Context, domain, by string, decide func(moderation.InstanceState) ([]any, error)) (DomainResult, error) {
	var s moderation.InstanceState
	var rev revision
	res, err := m.runRev(ctx, moderation.InstanceStream, m.local(by), &s, &rev, func() ([]any, string, error) {
		if s.Blocks == nil {
			s.Blocks, s.Allowed = map[string]moderation.Block{}, map[string]bool{}
		}
		evs, err := decide(s)
		return evs, "policy\n" + rev.String(), err
	})
	return DomainResult{ModerationResult: res, Domain: domain}, err
}

func (m *Moderation) now() time.Time {
	if m.Clock == nil {
		return time.Now().UTC()
	}
	return m.Clock().UTC()
}

// received is the metadata of events caused by a received activity.
func (m *Moderation) received(activityID, actorIRI string) events.Metadata {
	origin := ""
	if u, err := url.Parse(actorIRI); err == nil {
		origin = u.Host
	}
	return events.Metadata{Actor: actorIRI, CausationID: activityID, CorrelationID: activityID, OccurredAt: m.now(), Origin: origin}
}

// local is the metadata of an admin decision by by.
func (m *Moderation) local(by string) events.Metadata {
	return events.Metadata{Actor: by, OccurredAt: m.now(), Origin: m.Origin}
}

// applier is a state folded from a stream.
type applier interface{ Apply(payload any) error }

// load folds stream into state (which must be zero) and returns the
// revision and position of its last event.
func (m *Moderation) load(ctx context.Context, stream string, state applier) (loadedRevision, error) {
	envs, err := m.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) {
		return loadedRevision{}, nil
	}
	if err != nil {
		return loadedRevision{}, fmt.Errorf("app: load %s: %w", stream, err)
	}
	var l loadedRevision
	for _, e := range envs {
		payload, err := m.Registry.Decode(e)
		if err != nil {
			return loadedRevision{}, fmt.Errorf("app: load %s: %w", stream, err)
		}
		if err := state.Apply(payload); err != nil {
			return loadedRevision{}, fmt.Errorf("app: load %s at revision %d: %w", stream, e.Revision, err)
		}
		l.rev, l.position = revision{exists: true, last: e.Revision}, e.Position
	}
	return l, nil
}

type loadedRevision struct {
	rev      revision
	position events.Position
}

func (m *Moderation) run(ctx context.Context, stream string, meta events.Metadata, state applier, decide func() ([]any, string, error)) (ModerationResult, error) {
	var rev revision
	return m.runRev(ctx, stream, meta, state, &rev, decide)
}

// runRev loads stream into *state (a pointer to a zero state, reset before
// every attempt), sets *rev, decides, and appends with the expected
// revision; each event's id is DerivedUUID(cause, type, payload JSON). On
// a conflict it reloads and decides again, up to MaxConflictRetries times.
func (m *Moderation) runRev(ctx context.Context, stream string, meta events.Metadata, state applier, rev *revision,
	decide func() ([]any, string, error)) (ModerationResult, error) {
	for attempt := 0; ; attempt++ {
		resetState(state)
		l, err := m.load(ctx, stream, state)
		if err != nil {
			return ModerationResult{}, err
		}
		*rev = l.rev
		payloads, cause, err := decide()
		if err != nil {
			return ModerationResult{Stream: stream, Position: l.position}, moderationError(err)
		}
		if len(payloads) == 0 {
			return ModerationResult{Stream: stream, Position: l.position}, nil
		}
		evs := make([]events.EventData, 0, len(payloads))
		for _, p := range payloads {
			ed, err := m.Registry.NewEvent(events.UUID{}, p, meta)
			if err != nil {
				return ModerationResult{}, fmt.Errorf("app: %w", err)
			}
			// The payload is part of the id: the store recognises a repeat
			// by event id alone, so two different decisions made on the same
			// revision must not share one.
			ed.ID = events.DerivedUUID(cause, ed.Type, string(ed.Data))
			evs = append(evs, ed)
		}
		res, err := m.Store.Append(ctx, stream, l.rev.expected(), evs...)
		switch {
		case errors.Is(err, events.ErrWrongExpectedRevision) || errors.Is(err, events.ErrIdempotencyConflict):
			if attempt < MaxConflictRetries {
				continue
			}
			return ModerationResult{}, fmt.Errorf("%w: %s after %d attempts: %w", ErrConflict, stream, attempt+1, err)
		case err != nil:
			return ModerationResult{}, fmt.Errorf("app: append to %s: %w", stream, err)
		}
		return ModerationResult{Stream: stream, Position: res.Position, Changed: true}, nil
	}
}

// resetState zeroes the states runRev folds.
func resetState(state applier) {
	switch s := state.(type) {
	case *moderation.InstanceState:
		*s = moderation.InstanceState{}
	case *moderation.ReportState:
		*s = moderation.ReportState{}
	case *moderation.ActorBlockState:
		*s = moderation.ActorBlockState{}
	}
}

// moderationError maps the domain's refusals to the application's errors.
func moderationError(err error) error {
	switch {
	case errors.Is(err, moderation.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrModerationNotFound, err)
	case errors.Is(err, moderation.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrModerationInvalid, err)
	}
	return err
}
