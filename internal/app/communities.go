package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
)

// Errors of the community commands (besides the shared ones in
// contracts.go); HTTP maps them to 403 and 409.
var (
	// ErrForbiddenRole: the account's role may not create communities
	// (learners may not).
	ErrForbiddenRole = errors.New("app: your role may not create communities")
	// ErrNotInvited: joining an invite-only community without an
	// invitation. It matches ErrNotMember too.
	ErrNotInvited = fmt.Errorf("%w: the community is invite-only and you are not invited", ErrNotMember)
	// ErrAlreadyMember: inviting a member.
	ErrAlreadyMember = errors.New("app: already a member of the community")
	// ErrNotRequested: approving or rejecting without a pending request.
	ErrNotRequested = errors.New("app: no pending join request")
	// ErrNotBanned: unbanning someone who is not banned.
	ErrNotBanned = errors.New("app: not banned from the community")
	// ErrOwnerCannotLeave: an owner must be demoted by another owner
	// before leaving.
	ErrOwnerCannotLeave = errors.New("app: an owner cannot leave; another owner must change your role first")
	// ErrMembershipSelf: removing, banning or changing the role of
	// oneself.
	ErrMembershipSelf = errors.New("app: you cannot do this to yourself")
)

// MembershipState is where a person's membership in a community stands:
// "none", "requested", "invited", "member", "rejected", "left", "removed"
// or "banned".
type MembershipState = community.MembershipState

// MaxGroupSummaryChars is the longest summary of a community's Group actor
// (actor.MaxSummaryLen); longer descriptions are shortened there.
const MaxGroupSummaryChars = actor.MaxSummaryLen

// CreateCommunity is the command that creates a learning community.
type CreateCommunity struct {
	Username, Name, Description string
	Topics, Languages           []string
	Location                    *community.Location
	Policy                      community.Policy
	Visibility                  community.Visibility
	// Owner is the creating account; it becomes the community's owner.
	Owner Acting
	// OwnerRole is the creating account's role: facilitators and admins
	// may create communities, learners may not.
	OwnerRole account.Role
}

// Communities is the application service for learning communities and
// their memberships; it implements CommunityGate. Set the fields (or use
// NewCommunities) before the first call; nil Clock and NewID default to
// time.Now and events.NewUUID.
type Communities struct {
	Store    events.Store
	Registry *events.Registry
	// Actors creates each community's Group actor (and, when it also has
	// UpdateProfile, as *Actors does, keeps the Group's profile in step
	// with the community).
	Actors ActorCommands
	Clock  func() time.Time
	// NewID makes event ids.
	NewID func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
}

var _ CommunityGate = (*Communities)(nil)

// NewCommunities returns the community commands over store, registering
// the actor and community events in registry unless they are already
// registered.
func NewCommunities(store events.Store, registry *events.Registry, actors ActorCommands, origin string) *Communities {
	if !registry.Known(actor.TypeCreated) {
		actor.Register(registry)
	}
	if !registry.Known(community.TypeCreated) {
		community.Register(registry)
	}
	return &Communities{Store: store, Registry: registry, Actors: actors, Clock: time.Now, NewID: events.NewUUID, Origin: origin}
}

// groupProfiles is the optional part of ActorCommands that Update uses to
// keep the Group actor's profile in step (app.Actors has it).
type groupProfiles interface {
	UpdateProfile(ctx context.Context, actorID string, p actor.ProfileUpdated, by string) (events.Position, error)
}

func (c *Communities) id() events.UUID {
	if c.NewID == nil {
		return events.NewUUID()
	}
	return c.NewID()
}

func (c *Communities) meta(by, correlationID string) events.Metadata {
	now := time.Now
	if c.Clock != nil {
		now = c.Clock
	}
	return events.Metadata{Actor: by, CorrelationID: correlationID, OccurredAt: now().UTC(), Origin: c.Origin}
}

// mayCreateCommunity reports whether an account role may create communities.
func mayCreateCommunity(r account.Role) bool {
	return r == account.Facilitator || r == account.InstitutionAdmin || r == account.InstanceAdmin
}

// Create creates a community: first its Group actor (through Actors, with
// the community's username, name, description as summary,
// manuallyApprovesFollowers unless the policy is open, discoverable when
// public), whose id becomes the community's id; then community.created on
// the community's stream; then the owner's membership (member_joined as
// owner). Every field is validated before anything is written.
//
// Retry safety: each step's event id is chosen once. If a process dies
// after the Group actor was made, the username is taken by a Group
// without a community; a retried Create of the same username by the same
// owner (the actor.created event's acting actor) adopts that Group and
// completes the community (and likewise a community whose owner
// membership is missing). Anyone else gets ErrUsernameTaken, as does the
// same owner once the community is complete.
func (c *Communities) Create(ctx context.Context, cmd CreateCommunity) (string, events.Position, error) {
	if cmd.Owner.ID == "" {
		return "", 0, &ValidationError{Field: "owner", Reason: "must not be empty"}
	}
	if !cmd.Owner.Admin && !mayCreateCommunity(cmd.OwnerRole) {
		return "", 0, fmt.Errorf("%w (role %q)", ErrForbiddenRole, cmd.OwnerRole)
	}
	// Decide on a placeholder id first: invalid input writes nothing.
	created, err := community.Create(community.State{}, community.NewCommunity{ID: "pending", Username: cmd.Username,
		Name: cmd.Name, Description: cmd.Description, Topics: cmd.Topics, Languages: cmd.Languages, Location: cmd.Location,
		Policy: cmd.Policy, Visibility: cmd.Visibility, OwnerID: cmd.Owner.ID})
	if err != nil {
		return "", 0, communityError("", err)
	}
	correlationID := c.id().String()
	res, err := c.Actors.Create(ctx, CreateActor{Kind: actor.KindGroup, Username: created.Username, Name: created.Name,
		Summary: groupSummary(created.Description), ManuallyApprovesFollowers: created.Policy != community.Open,
		Discoverable: created.Visibility == community.Public, By: cmd.Owner.ID, CorrelationID: correlationID})
	id := res.ActorID
	switch {
	case errors.Is(err, ErrUsernameTaken):
		if id, err = c.adoptGroup(ctx, created.Username, cmd.Owner.ID); err != nil {
			return "", 0, err
		}
	case err != nil:
		return "", 0, err
	}
	created.CommunityID = id
	pos, err := c.appendCreated(ctx, created, c.meta(cmd.Owner.ID, correlationID))
	if err != nil {
		return "", 0, err
	}
	_, ownerPos, _, err := c.runMembership(ctx, id, cmd.Owner.ID, c.meta(cmd.Owner.ID, correlationID), c.fixedIDs(),
		func(s community.State, m community.Membership) ([]any, error) { return community.JoinAsOwner(s, m) })
	if err != nil {
		return "", 0, err
	}
	return id, max(pos, ownerPos, res.Position), nil
}

// groupSummary shortens a description to what a Group actor's summary
// holds.
func groupSummary(description string) string {
	if utf8.RuneCountInString(description) <= MaxGroupSummaryChars {
		return description
	}
	r := []rune(description)
	return strings.TrimSpace(string(r[:MaxGroupSummaryChars-1])) + "…"
}

// adoptGroup returns the id of the Group actor holding username when a
// retried Create by ownerID may complete it (see Create), else
// ErrUsernameTaken.
func (c *Communities) adoptGroup(ctx context.Context, username, ownerID string) (string, error) {
	taken := fmt.Errorf("%w: %q", ErrUsernameTaken, username)
	envs, err := c.Store.ReadStream(ctx, actor.UsernameStream(username), events.ReadStreamOptions{Direction: events.Forwards, Max: 1})
	if err != nil || len(envs) == 0 {
		return "", taken
	}
	p, err := c.Registry.Decode(envs[0])
	r, ok := p.(*actor.UsernameReserved)
	if err != nil || !ok {
		return "", taken
	}
	envs, err = c.Store.ReadStream(ctx, actor.Stream(r.ActorID), events.ReadStreamOptions{Direction: events.Forwards})
	if err != nil || len(envs) == 0 {
		return "", taken
	}
	var a actor.State
	for _, e := range envs {
		p, err := c.Registry.Decode(e)
		if err != nil {
			return "", fmt.Errorf("app: load actor %s: %w", r.ActorID, err)
		}
		if err := a.Apply(p); err != nil {
			return "", fmt.Errorf("app: load actor %s: %w", r.ActorID, err)
		}
	}
	if a.Kind != actor.KindGroup || a.Deleted || envs[0].Metadata.Actor != ownerID {
		return "", taken
	}
	s, _, err := c.loadCommunity(ctx, r.ActorID)
	if err != nil {
		return "", err
	}
	if !s.Exists {
		return r.ActorID, nil
	}
	if s.OwnerID != ownerID {
		return "", taken
	}
	m, _, err := c.loadMembership(ctx, r.ActorID, ownerID)
	if err != nil {
		return "", err
	}
	if m.Status() != community.StateNone {
		return "", taken
	}
	return r.ActorID, nil
}

// appendCreated writes community.created; a community already on the
// stream is accepted only when it is this owner's under this username (a
// concurrent retry completed it).
func (c *Communities) appendCreated(ctx context.Context, created community.Created, meta events.Metadata) (events.Position, error) {
	ev, err := c.Registry.NewEvent(c.id(), created, meta)
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	res, err := c.Store.Append(ctx, community.Stream(created.CommunityID), events.NoStream, ev)
	if errors.Is(err, events.ErrWrongExpectedRevision) {
		s, l, err := c.loadCommunity(ctx, created.CommunityID)
		if err != nil {
			return 0, err
		}
		if s.OwnerID != created.OwnerID || s.Username != created.Username {
			return 0, fmt.Errorf("%w: %q", ErrUsernameTaken, created.Username)
		}
		return l.position, nil
	}
	if err != nil {
		return 0, fmt.Errorf("app: create community %s: %w", created.CommunityID, err)
	}
	return res.Position, nil
}

// Update changes the community's fields upd carries (nil: unchanged; see
// community.Update) on behalf of an owner or admin (ErrNotOwner
// otherwise), and brings the Group actor's name, summary,
// manuallyApprovesFollowers and discoverable in line. A change to the
// current values appends nothing and returns the position of the last
// event.
func (c *Communities) Update(ctx context.Context, id string, upd community.Updated, by Acting) (events.Position, error) {
	s, _, err := c.loadCommunity(ctx, id)
	if err != nil {
		return 0, err
	}
	if !s.Exists {
		return 0, fmt.Errorf("%w: %s", ErrCommunityNotFound, id)
	}
	auth, err := c.authority(ctx, id, by)
	if err != nil {
		return 0, err
	}
	if auth < community.AsOwner {
		return 0, fmt.Errorf("%w: %s", ErrNotOwner, id)
	}
	eventID, correlationID := c.id(), c.id().String()
	pos, err := retryConflicts("community "+id, func() (events.Position, error) {
		s, l, err := c.loadCommunity(ctx, id)
		if err != nil {
			return 0, err
		}
		ev, changed, err := community.Update(s, upd)
		if err != nil {
			return 0, communityError(id, err)
		}
		if !changed {
			return l.position, nil
		}
		data, err := c.Registry.NewEvent(eventID, ev, c.meta(by.ID, correlationID))
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := c.Store.Append(ctx, community.Stream(id), l.rev.expected(), data)
		return appended(res, err, "update community "+id)
	})
	if err != nil {
		return 0, err
	}
	actorPos, err := c.syncGroup(ctx, id, by.ID)
	if err != nil {
		return 0, err
	}
	return max(pos, actorPos), nil
}

// syncGroup makes the Group actor's profile match the community (a no-op
// when it does, or when Actors cannot update profiles). Running it after
// every Update, changed or not, heals a previous Update that died between
// the two writes.
func (c *Communities) syncGroup(ctx context.Context, id, by string) (events.Position, error) {
	profiles, ok := c.Actors.(groupProfiles)
	if !ok {
		return 0, nil
	}
	s, _, err := c.loadCommunity(ctx, id)
	if err != nil {
		return 0, err
	}
	summary := groupSummary(s.Description)
	manual, discoverable := s.Policy != community.Open, s.Visibility == community.Public
	pos, err := profiles.UpdateProfile(ctx, id, actor.ProfileUpdated{Name: &s.Name, Summary: &summary,
		ManuallyApprovesFollowers: &manual, Discoverable: &discoverable}, by)
	if errors.Is(err, ErrActorDeleted) || errors.Is(err, ErrActorNotFound) {
		return 0, nil // an administrator deleted the Group actor: nothing to keep in step
	}
	if err != nil {
		return 0, fmt.Errorf("app: update the Group actor of community %s: %w", id, err)
	}
	return pos, nil
}

// Join makes member (a local account id, or a remote actor IRI) join the
// community: open → member, approval → requested, invite-only → member if
// invited (else ErrNotInvited), banned → ErrBanned. Joining again as a
// member is a no-op that succeeds. It returns the state afterwards.
func (c *Communities) Join(ctx context.Context, communityID, member string) (MembershipState, events.Position, error) {
	if member == "" {
		return "", 0, &ValidationError{Field: "member", Reason: "must not be empty"}
	}
	m, pos, _, err := c.runMembership(ctx, communityID, member, c.meta(member, c.id().String()), c.fixedIDs(),
		func(s community.State, m community.Membership) ([]any, error) {
			return community.Join(s, m, member, "")
		})
	if errors.Is(err, ErrAlreadyMember) {
		return community.StateMember, pos, nil
	}
	if err != nil {
		return "", 0, err
	}
	return m.Status(), pos, nil
}

// RemoteFollow handles a remote actor's Follow of the community's Group:
// open → member, approval → requested (the Follow's id is kept for the
// Accept), invite-only → member if invited, else ErrNotInvited (which
// matches ErrNotMember); banned → ErrBanned. It is idempotent: the event
// ids derive from the Follow, and a member's repeated Follow succeeds with
// "member".
func (c *Communities) RemoteFollow(ctx context.Context, communityID, memberIRI, followActivityID string) (MembershipState, events.Position, error) {
	if err := checkMemberIRI("member", memberIRI); err != nil {
		return "", 0, err
	}
	if followActivityID == "" {
		return "", 0, &ValidationError{Field: "followActivityId", Reason: "must not be empty"}
	}
	meta := c.meta(memberIRI, followActivityID)
	meta.CausationID = followActivityID
	ids := func(i int, typ string) events.UUID {
		return events.DerivedUUID("community.remote_follow", communityID, memberIRI, followActivityID, typ, strconv.Itoa(i))
	}
	m, pos, _, err := c.runMembership(ctx, communityID, memberIRI, meta, ids,
		func(s community.State, m community.Membership) ([]any, error) {
			return community.Join(s, m, memberIRI, followActivityID)
		})
	if errors.Is(err, ErrAlreadyMember) {
		return community.StateMember, pos, nil
	}
	if err != nil {
		return "", 0, err
	}
	return m.Status(), pos, nil
}

// Leave takes member out of the community (or withdraws their request, or
// declines their invitation). Owners cannot leave (ErrOwnerCannotLeave);
// someone who is none of these gets ErrNotMember.
func (c *Communities) Leave(ctx context.Context, communityID, member string) (events.Position, error) {
	_, pos, _, err := c.runMembership(ctx, communityID, member, c.meta(member, c.id().String()), c.fixedIDs(),
		func(s community.State, m community.Membership) ([]any, error) { return community.Leave(s, m, member) })
	return pos, err
}

// Approve accepts member's pending join request (facilitators, owners,
// admins).
func (c *Communities) Approve(ctx context.Context, communityID, member string, by Acting) (events.Position, error) {
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Approve(s, m, member, a)
	})
}

// Reject turns down member's pending join request (facilitators, owners,
// admins).
func (c *Communities) Reject(ctx context.Context, communityID, member string, by Acting) (events.Position, error) {
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Reject(s, m, member, a)
	})
}

// Invite invites member (a live local account id, or a remote actor IRI)
// on behalf of a facilitator, owner or admin; a pending request is
// approved instead. Inviting a member gives ErrAlreadyMember, a banned
// person ErrBanned.
func (c *Communities) Invite(ctx context.Context, communityID, member string, by Acting) (events.Position, error) {
	if err := c.checkMember(ctx, member); err != nil {
		return 0, err
	}
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Invite(s, m, member, a)
	})
}

// Remove removes member from the community (or revokes their
// invitation). Facilitators remove members; facilitators and owners are
// removed by owners and admins only.
func (c *Communities) Remove(ctx context.Context, communityID, member string, by Acting, reason string) (events.Position, error) {
	if err := checkMembershipReason(reason); err != nil {
		return 0, err
	}
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Remove(s, m, member, a, reason)
	})
}

// Ban bans member (whatever their state; a member is removed), with the
// authority rules of Remove. Banning the banned again is a no-op.
func (c *Communities) Ban(ctx context.Context, communityID, member string, by Acting, reason string) (events.Position, error) {
	if err := checkMembershipReason(reason); err != nil {
		return 0, err
	}
	if err := c.checkMember(ctx, member); err != nil {
		return 0, err
	}
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Ban(s, m, member, a, reason)
	})
}

// Unban lifts member's ban; they are not a member afterwards.
func (c *Communities) Unban(ctx context.Context, communityID, member string, by Acting) (events.Position, error) {
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.Unban(s, m, member, a)
	})
}

// ChangeRole gives member another role (owners and admins only; owners do
// not change their own role).
func (c *Communities) ChangeRole(ctx context.Context, communityID, member string, role community.Role, by Acting) (events.Position, error) {
	return c.moderate(ctx, communityID, member, by, func(s community.State, m community.Membership, a community.Actor) ([]any, error) {
		return community.ChangeRole(s, m, member, role, a)
	})
}

// CanPost implements CommunityGate: nil for a member, or for anyone not
// banned in an open community; ErrCommunityNotFound, ErrBanned or
// ErrNotMember otherwise.
func (c *Communities) CanPost(ctx context.Context, communityID, author string) error {
	s, _, err := c.loadCommunity(ctx, communityID)
	if err != nil {
		return err
	}
	if !s.Exists {
		return fmt.Errorf("%w: %s", ErrCommunityNotFound, communityID)
	}
	m, _, err := c.loadMembership(ctx, communityID, author)
	if err != nil {
		return err
	}
	switch {
	case m.Status() == community.StateBanned:
		return fmt.Errorf("%w: %s", ErrBanned, communityID)
	case m.Status() == community.StateMember, s.Policy == community.Open:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotMember, communityID)
}

// CanModerate implements CommunityGate: nil for the community's
// facilitators and owners and for admins; ErrCommunityNotFound or
// ErrNotFacilitator otherwise.
func (c *Communities) CanModerate(ctx context.Context, communityID string, by Acting) error {
	s, _, err := c.loadCommunity(ctx, communityID)
	if err != nil {
		return err
	}
	if !s.Exists {
		return fmt.Errorf("%w: %s", ErrCommunityNotFound, communityID)
	}
	auth, err := c.authority(ctx, communityID, by)
	if err != nil {
		return err
	}
	if auth < community.AsFacilitator {
		return fmt.Errorf("%w: %s", ErrNotFacilitator, communityID)
	}
	return nil
}

// Visibility implements CommunityGate.
func (c *Communities) Visibility(ctx context.Context, communityID string) (community.Visibility, error) {
	s, err := c.Load(ctx, communityID)
	if err != nil {
		return "", err
	}
	return s.Visibility, nil
}

// Load returns the community's state from its stream;
// ErrCommunityNotFound when there is none.
func (c *Communities) Load(ctx context.Context, communityID string) (community.State, error) {
	s, _, err := c.loadCommunity(ctx, communityID)
	if err != nil {
		return community.State{}, err
	}
	if !s.Exists {
		return community.State{}, fmt.Errorf("%w: %s", ErrCommunityNotFound, communityID)
	}
	return s, nil
}

// Membership returns member's membership state in the community
// ("none" when they never joined); ErrCommunityNotFound when there is no
// such community.
func (c *Communities) Membership(ctx context.Context, communityID, member string) (community.MembershipState, error) {
	m, err := c.MembershipOf(ctx, communityID, member)
	return m.Status(), err
}

// MembershipOf returns member's whole membership (state and role).
func (c *Communities) MembershipOf(ctx context.Context, communityID, member string) (community.Membership, error) {
	if _, err := c.Load(ctx, communityID); err != nil {
		return community.Membership{}, err
	}
	m, _, err := c.loadMembership(ctx, communityID, member)
	return m, err
}

// Authority returns what by may do in the community (see
// community.AuthorityOf).
func (c *Communities) Authority(ctx context.Context, communityID string, by Acting) (community.Authority, error) {
	if _, err := c.Load(ctx, communityID); err != nil {
		return community.NoAuthority, err
	}
	return c.authority(ctx, communityID, by)
}

// authority computes by's authority from their own membership.
func (c *Communities) authority(ctx context.Context, communityID string, by Acting) (community.Authority, error) {
	if by.Admin {
		return community.AsAdmin, nil
	}
	if by.ID == "" {
		return community.NoAuthority, nil
	}
	m, _, err := c.loadMembership(ctx, communityID, by.ID)
	if err != nil {
		return community.NoAuthority, err
	}
	return community.AuthorityOf(m, false), nil
}

// moderate runs a decision taken by someone else than the member, with
// the authority by holds.
func (c *Communities) moderate(ctx context.Context, communityID, member string, by Acting,
	decide func(community.State, community.Membership, community.Actor) ([]any, error)) (events.Position, error) {
	if member == "" {
		return 0, &ValidationError{Field: "member", Reason: "must not be empty"}
	}
	auth, err := c.authority(ctx, communityID, by)
	if err != nil {
		return 0, err
	}
	a := community.Actor{ID: by.ID, Authority: auth}
	_, pos, _, err := c.runMembership(ctx, communityID, member, c.meta(by.ID, c.id().String()), c.fixedIDs(),
		func(s community.State, m community.Membership) ([]any, error) { return decide(s, m, a) })
	return pos, err
}

// checkMember accepts a remote actor IRI or the id of a live local Person
// actor (an account) as the member someone else names.
func (c *Communities) checkMember(ctx context.Context, member string) error {
	if strings.Contains(member, "://") {
		return checkMemberIRI("member", member)
	}
	if member == "" {
		return &ValidationError{Field: "member", Reason: "must not be empty"}
	}
	envs, err := c.Store.ReadStream(ctx, actor.Stream(member), events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return &ValidationError{Field: "member", Reason: "no such local account"}
	}
	if err != nil {
		return fmt.Errorf("app: load actor %s: %w", member, err)
	}
	var a actor.State
	for _, e := range envs {
		p, err := c.Registry.Decode(e)
		if err != nil {
			return fmt.Errorf("app: load actor %s: %w", member, err)
		}
		if err := a.Apply(p); err != nil {
			return fmt.Errorf("app: load actor %s: %w", member, err)
		}
	}
	if !a.Exists || a.Deleted || a.Kind != actor.KindPerson {
		return &ValidationError{Field: "member", Reason: "no such local account"}
	}
	return nil
}

// checkMemberIRI accepts an absolute http(s) URL.
func checkMemberIRI(field, iri string) error {
	u, err := url.Parse(iri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(iri) > 2048 {
		return &ValidationError{Field: field, Reason: "must be a local account id or an http(s) actor IRI"}
	}
	return nil
}

// MaxMembershipReasonChars bounds the reason of a removal or a ban.
const MaxMembershipReasonChars = 500

func checkMembershipReason(reason string) error {
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxMembershipReasonChars {
		return &ValidationError{Field: "reason", Reason: fmt.Sprintf("must be at most %d characters of UTF-8", MaxMembershipReasonChars)}
	}
	return nil
}

// membershipIDs gives the id of the i-th event of a decision of type typ.
type membershipIDs func(i int, typ string) events.UUID

// fixedIDs makes new ids on first use and gives the same ones on every
// retry of the same command.
func (c *Communities) fixedIDs() membershipIDs {
	var ids []events.UUID
	return func(i int, _ string) events.UUID {
		for len(ids) <= i {
			ids = append(ids, c.id())
		}
		return ids[i]
	}
}

// runMembership loads the community and member's membership, decides,
// and appends to the membership stream with the expected revision; on a
// conflict it reloads and decides again, up to MaxConflictRetries times.
// It returns the membership afterwards and the position of the write (or
// of the stream's last event when nothing was decided, including when the
// decision fails).
func (c *Communities) runMembership(ctx context.Context, communityID, member string, meta events.Metadata, ids membershipIDs,
	decide func(community.State, community.Membership) ([]any, error)) (community.Membership, events.Position, bool, error) {
	stream := community.MembershipStream(communityID, member)
	for attempt := 0; ; attempt++ {
		s, _, err := c.loadCommunity(ctx, communityID)
		if err != nil {
			return community.Membership{}, 0, false, err
		}
		if !s.Exists {
			return community.Membership{}, 0, false, fmt.Errorf("%w: %s", ErrCommunityNotFound, communityID)
		}
		m, l, err := c.loadMembership(ctx, communityID, member)
		if err != nil {
			return community.Membership{}, 0, false, err
		}
		payloads, err := decide(s, m)
		if err != nil {
			return m, l.position, false, communityError(communityID, err)
		}
		if len(payloads) == 0 {
			return m, l.position, false, nil
		}
		evs := make([]events.EventData, 0, len(payloads))
		next := m
		for i, p := range payloads {
			ed, err := c.Registry.NewEvent(events.UUID{}, p, meta)
			if err != nil {
				return community.Membership{}, 0, false, fmt.Errorf("app: %w", err)
			}
			ed.ID = ids(i, ed.Type)
			evs = append(evs, ed)
			if err := next.Apply(p); err != nil {
				return community.Membership{}, 0, false, fmt.Errorf("app: %s: decided event does not apply: %w", stream, err)
			}
		}
		res, err := c.Store.Append(ctx, stream, l.rev.expected(), evs...)
		switch {
		case errors.Is(err, events.ErrWrongExpectedRevision):
			if attempt < MaxConflictRetries {
				continue
			}
			return community.Membership{}, 0, false, fmt.Errorf("%w: %s after %d attempts: %w", ErrConflict, stream, attempt+1, err)
		case errors.Is(err, events.ErrIdempotencyConflict):
			// These event ids are already in the log with another payload:
			// a replayed remote Follow that was decided differently before.
			return m, l.position, false, nil
		case err != nil:
			return community.Membership{}, 0, false, fmt.Errorf("app: append to %s: %w", stream, err)
		case res.Position <= l.position:
			// The store recognised the event ids of an earlier write (a
			// replayed remote Follow): nothing new was written.
			return m, l.position, false, nil
		}
		return next, res.Position, true, nil
	}
}

// communityLoad is a stream's revision and position after a load.
type communityLoad struct {
	rev      revision
	position events.Position
}

// loadCommunity folds the community's stream (a zero state when there is
// none).
func (c *Communities) loadCommunity(ctx context.Context, id string) (community.State, communityLoad, error) {
	var s community.State
	l, err := c.fold(ctx, community.Stream(id), &s)
	if err != nil {
		return community.State{}, communityLoad{}, err
	}
	return s, l, nil
}

// loadMembership folds member's membership stream in the community.
func (c *Communities) loadMembership(ctx context.Context, communityID, member string) (community.Membership, communityLoad, error) {
	var m community.Membership
	l, err := c.fold(ctx, community.MembershipStream(communityID, member), &m)
	if err != nil {
		return community.Membership{}, communityLoad{}, err
	}
	return m, l, nil
}

func (c *Communities) fold(ctx context.Context, stream string, state interface{ Apply(any) error }) (communityLoad, error) {
	envs, err := c.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return communityLoad{}, nil
	}
	if err != nil {
		return communityLoad{}, fmt.Errorf("app: load %s: %w", stream, err)
	}
	var l communityLoad
	for _, e := range envs {
		p, err := c.Registry.Decode(e)
		if err != nil {
			return communityLoad{}, fmt.Errorf("app: load %s: %w", stream, err)
		}
		if err := state.Apply(p); err != nil {
			return communityLoad{}, fmt.Errorf("app: load %s at revision %d: %w", stream, e.Revision, err)
		}
		l.rev, l.position = revision{exists: true, last: e.Revision}, e.Position
	}
	return l, nil
}

// communityError maps the community domain's refusals to the
// application's errors.
func communityError(communityID string, err error) error {
	var fe *community.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, community.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrCommunityNotFound, communityID)
	case errors.Is(err, community.ErrBanned):
		return fmt.Errorf("%w: %s", ErrBanned, communityID)
	case errors.Is(err, community.ErrNotInvited):
		return fmt.Errorf("%w: %s", ErrNotInvited, communityID)
	case errors.Is(err, community.ErrNotMember):
		return fmt.Errorf("%w: %s", ErrNotMember, communityID)
	case errors.Is(err, community.ErrAlreadyMember):
		return fmt.Errorf("%w: %s", ErrAlreadyMember, communityID)
	case errors.Is(err, community.ErrNotRequested):
		return fmt.Errorf("%w: %s", ErrNotRequested, communityID)
	case errors.Is(err, community.ErrNotBanned):
		return fmt.Errorf("%w: %s", ErrNotBanned, communityID)
	case errors.Is(err, community.ErrOwnerCannotLeave):
		return fmt.Errorf("%w: %s", ErrOwnerCannotLeave, communityID)
	case errors.Is(err, community.ErrSelf):
		return fmt.Errorf("%w: %s", ErrMembershipSelf, communityID)
	case errors.Is(err, community.ErrNotFacilitator):
		return fmt.Errorf("%w: %s", ErrNotFacilitator, communityID)
	case errors.Is(err, community.ErrNotOwner):
		return fmt.Errorf("%w: %s", ErrNotOwner, communityID)
	}
	return err
}
