package communities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/projections"
)

// MembershipName is the membership reactor's projection name.
const MembershipName = "communitymembers"

// MembershipVersion is its version (no tables; see InboundVersion).
const MembershipVersion = 1

// RemovedBecauseDeleted is the reason app.Follows.RemoveRemoteActor
// records when a remote actor was deleted (outbound.RemovedBecauseDeleted).
const RemovedBecauseDeleted = "remote actor deleted"

// MembershipCommands are the community commands the membership reactor
// calls (*app.Communities).
type MembershipCommands interface {
	RemoteFollow(ctx context.Context, communityID, memberIRI, followActivityID string) (app.MembershipState, events.Position, error)
	Leave(ctx context.Context, communityID, member string) (events.Position, error)
}

// FollowCommands are the follow commands it calls (*app.Follows).
type FollowCommands interface {
	Relationship(ctx context.Context, followerIRI, followeeIRI string) (follow.State, error)
	Approve(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
	Reject(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
	RemoveFollower(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
}

// MembershipDeps are what the membership reactor calls; bind them after
// the runner exists.
type MembershipDeps struct {
	// Communities are the community commands (*app.Communities).
	Communities MembershipCommands
	// Follows are the follow commands (*app.Follows).
	Follows FollowCommands
	// Local finds the communities' Group actors by id
	// (process.LocalActorDirectory).
	Local app.LocalActors
}

// Membership keeps a remote person's membership of a community and their
// follow of its Group in step:
//
//   - follow.requested of a Group (a remote Follow) → Communities.RemoteFollow:
//     a member's follow is accepted (unless the Group accepted it already:
//     open communities' Groups accept follows themselves), a join request
//     leaves it pending, a refusal (not invited, banned) rejects it (or,
//     when it was accepted, removes the follower, which sends a Reject);
//   - community.member_joined of a remote member with a Follow (an
//     approved request) → the follow is accepted;
//   - community.join_rejected / member_removed / member_banned of a remote
//     member → the follow is rejected (pending) or the follower removed;
//   - follow.undone of a Group (an Undo{Follow}), or follow.removed because
//     the remote actor was deleted → Communities.Leave.
type Membership struct {
	deps atomic.Pointer[MembershipDeps]
	urls urls.Scheme
	reg  *events.Registry
	log  *slog.Logger
}

var _ projections.Projector = (*Membership)(nil)

// NewMembership returns an unbound membership reactor of the instance
// with URL scheme u. A nil log discards.
func NewMembership(u urls.Scheme, log *slog.Logger) *Membership {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := events.NewRegistry()
	follow.Register(reg)
	community.Register(reg)
	return &Membership{urls: u, reg: reg, log: log}
}

// Bind sets what the reactor calls; every field is required.
func (m *Membership) Bind(d MembershipDeps) error {
	if d.Communities == nil || d.Follows == nil || d.Local == nil {
		return errors.New("communities: the membership reactor needs Communities, Follows and Local")
	}
	m.deps.Store(&d)
	return nil
}

// Name implements projections.Projector.
func (*Membership) Name() string { return MembershipName }

// Version implements projections.Projector.
func (*Membership) Version() int { return MembershipVersion }

// Handles implements projections.Projector.
func (*Membership) Handles(t string) bool {
	switch t {
	case follow.TypeRequested, follow.TypeUndone, follow.TypeRemoved,
		community.TypeMemberJoined, community.TypeJoinRejected, community.TypeMemberRemoved, community.TypeMemberBanned:
		return true
	}
	return false
}

// Setup implements projections.Projector: one table remembers the follows
// of Groups (stream → community and follower), since the events that end
// a follow name only its stream.
func (*Membership) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s (
		stream       TEXT NOT NULL PRIMARY KEY,
		community_id TEXT NOT NULL,
		follower_iri TEXT NOT NULL
	) WITHOUT ROWID`, t.Name("follows")))
	return err
}

// Apply implements projections.Projector.
func (m *Membership) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	d := m.deps.Load()
	if d == nil {
		return ErrNotBound
	}
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(m.reg, e)
		if err != nil {
			return err
		}
		if err := m.apply(ctx, d, tx, t, e, payload); err != nil {
			if Refused(err) {
				m.log.InfoContext(ctx, "community members: refused", "type", e.Type, "stream", e.StreamID,
					"position", e.Position, "reason", err)
				continue
			}
			return fmt.Errorf("community members: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}

func (m *Membership) apply(ctx context.Context, d *MembershipDeps, tx *sql.Tx, t projections.Tables, e events.Envelope, payload any) error {
	switch ev := payload.(type) {
	case *follow.Requested:
		if ev.Direction != follow.Inbound || !groupKind(m.urls, ev.FolloweeIRI) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT OR REPLACE INTO %s (stream, community_id, follower_iri)
			VALUES (?, ?, ?)`, t.Name("follows")), e.StreamID, ev.LocalActorID, ev.FollowerIRI); err != nil {
			return err
		}
		state, _, err := d.Communities.RemoteFollow(ctx, ev.LocalActorID, ev.FollowerIRI, ev.FollowActivityID)
		switch {
		case errors.Is(err, app.ErrBanned), errors.Is(err, app.ErrNotMember):
			m.log.InfoContext(ctx, "community members: follow refused", "community", ev.LocalActorID,
				"follower", ev.FollowerIRI, "reason", err)
			return m.endFollow(ctx, d, ev.LocalActorID, ev.FollowerIRI, ev.FolloweeIRI, ev.FollowActivityID)
		case err != nil:
			return err
		case state == community.StateMember:
			return m.acceptFollow(ctx, d, ev.LocalActorID, ev.FollowerIRI, ev.FolloweeIRI, ev.FollowActivityID)
		}
		return nil // requested: a facilitator decides
	case *follow.Undone, *follow.Removed:
		if r, ok := payload.(*follow.Removed); ok && r.Reason != RemovedBecauseDeleted {
			return nil // the community's own decision, or a block
		}
		var communityID, follower string
		err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT community_id, follower_iri FROM %s WHERE stream = ?`,
			t.Name("follows")), e.StreamID).Scan(&communityID, &follower)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // not a follow of a Group
		}
		if err != nil {
			return err
		}
		_, err = d.Communities.Leave(ctx, communityID, follower)
		return err
	case *community.MemberJoined:
		if !remoteMember(ev.Member) || ev.FollowActivityID == "" {
			return nil
		}
		groupIRI, err := m.groupIRI(ctx, d, ev.CommunityID)
		if err != nil {
			return err
		}
		return m.acceptFollow(ctx, d, ev.CommunityID, ev.Member, groupIRI, ev.FollowActivityID)
	case *community.JoinRejected:
		return m.ended(ctx, d, ev.CommunityID, ev.Member)
	case *community.MemberRemoved:
		return m.ended(ctx, d, ev.CommunityID, ev.Member)
	case *community.MemberBanned:
		return m.ended(ctx, d, ev.CommunityID, ev.Member)
	}
	return fmt.Errorf("unexpected payload %T", payload)
}

func remoteMember(member string) bool { return strings.Contains(member, "://") }

func (m *Membership) groupIRI(ctx context.Context, d *MembershipDeps, communityID string) (string, error) {
	g, err := d.Local.ByID(ctx, communityID)
	if err != nil {
		return "", err
	}
	return g.IRI, nil
}

// acceptFollow accepts the pending follow of the Group by follower when
// it is the Follow the membership names (a later Follow was answered by
// its own event).
func (m *Membership) acceptFollow(ctx context.Context, d *MembershipDeps, groupID, follower, groupIRI, followID string) error {
	s, err := d.Follows.Relationship(ctx, follower, groupIRI)
	if err != nil {
		return err
	}
	if s.Status != follow.StatusPending || s.FollowActivityID != followID {
		return nil // accepted by the Group already, or another Follow
	}
	_, err = d.Follows.Approve(ctx, groupID, follower, groupID)
	return err
}

// endFollow refuses or ends the follow of the Group by follower (a
// pending one is rejected, an accepted one removed: both send a Reject).
func (m *Membership) endFollow(ctx context.Context, d *MembershipDeps, groupID, follower, groupIRI, followID string) error {
	s, err := d.Follows.Relationship(ctx, follower, groupIRI)
	if err != nil {
		return err
	}
	if followID != "" && s.FollowActivityID != followID {
		return nil // a later Follow decides for itself
	}
	switch s.Status {
	case follow.StatusPending:
		_, err = d.Follows.Reject(ctx, groupID, follower, groupID)
	case follow.StatusAccepted:
		_, err = d.Follows.RemoveFollower(ctx, groupID, follower, groupID)
	}
	return err
}

// ended ends a remote member's follow after a rejection, removal or ban.
func (m *Membership) ended(ctx context.Context, d *MembershipDeps, communityID, member string) error {
	if !remoteMember(member) {
		return nil
	}
	groupIRI, err := m.groupIRI(ctx, d, communityID)
	if err != nil {
		return err
	}
	return m.endFollow(ctx, d, communityID, member, groupIRI, "")
}
