package communities

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/reactor"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/follows"
)

// InboundName is the inbound reactor's projection name.
const InboundName = "communityinbox"

// InboundVersion is its version; it owns no tables, and a new version
// re-feeds it from position 0, which appends nothing new (every command it
// calls derives its event ids from the received activity).
const InboundVersion = 1

// PostCommands are the post commands the reactors call (*app.Posts).
type PostCommands interface {
	PublishRemote(ctx context.Context, rp app.RemotePost) (string, events.Position, error)
	EditRemote(ctx context.Context, objectIRI, actorIRI string, rp app.RemotePost) (events.Position, error)
	DeleteRemote(ctx context.Context, objectIRI, actorIRI string) (events.Position, error)
	RemoveByCommunity(ctx context.Context, objectIRI, groupIRI, activityID string) (events.Position, error)
	Boost(ctx context.Context, postID, boosterIRI, activityID string) (events.Position, error)
	Unboost(ctx context.Context, postID, boosterIRI, activityID string) (events.Position, error)
	Like(ctx context.Context, postID, liker, activityID string) (events.Position, error)
	Unlike(ctx context.Context, postID, liker string) (events.Position, error)
	Load(ctx context.Context, postID string) (post.State, error)
}

// FollowedActors tells whether local people follow a remote actor
// (follows.Reader implements it).
type FollowedActors interface {
	WithRemote(ctx context.Context, remoteIRI string) ([]follows.Relationship, error)
}

// ObjectFetcher fetches a remote object by IRI with the signed, guarded
// fetch client (Fetcher implements it over fetch.Client).
type ObjectFetcher interface {
	FetchObject(ctx context.Context, iri string) ([]byte, error)
}

// InboundDeps are what the inbound reactor calls. They usually read the
// runner's read-model database, so they are bound after the runner exists
// (Bind).
type InboundDeps struct {
	// Posts are the post commands (*app.Posts).
	Posts PostCommands
	// Local finds local actors by IRI, the communities' Groups among them
	// (process.LocalActorDirectory).
	Local app.LocalActors
	// Following tells whether local people follow an actor (follows.Reader).
	Following FollowedActors
	// Fetch fetches announced objects given by IRI; nil skips those.
	Fetch ObjectFetcher
}

// ErrNotBound: a reactor got events before Bind; the projection stops on
// the event and is retried.
var ErrNotBound = errors.New("communities: reactor used before Bind")

// Inbound is the reactor that turns received posts into post commands:
//
//   - Create{Note|Article|Page} addressed to a local community's Group (to,
//     cc, audience, its followers collection) or mentioning it →
//     PublishRemote into the community (the gate refuses non-members);
//   - Create replying to a local post (or to a received post recorded
//     here) → PublishRemote with InReplyTo;
//   - Create by an actor local people follow → PublishRemote without a
//     community (home and federated timelines);
//   - Announce by a followed actor (of a Create, of a post, or of an IRI,
//     fetched) → PublishRemote + Boost; a post addressed to the announcer
//     (a Group on another server) is recorded as that community's;
//   - Announce{Delete} of a received post by the remote community it was
//     posted into (its moderators removed it, FEP-1b12) →
//     RemoveByCommunity;
//   - Undo{Announce} (embedded, of a post recorded here) by its announcer
//     → Unboost: the post leaves the home timelines of the people who
//     follow only the booster;
//   - Like / Undo{Like} of a post recorded here → Like / Unlike;
//   - Update / Delete of a received post by its author → EditRemote /
//     DeleteRemote.
//
// Refusals (not a member, banned, locked thread, not the author, unknown
// post…) are logged and skipped, not retried.
type Inbound struct {
	reactor.Received
	deps atomic.Pointer[InboundDeps]
	urls urls.Scheme
	log  *slog.Logger
}

var _ projections.Projector = (*Inbound)(nil)

// NewInbound returns an unbound inbound reactor of the instance with URL
// scheme u. A nil log discards.
func NewInbound(u urls.Scheme, log *slog.Logger) *Inbound {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Inbound{Received: reactor.NewReceived("community inbox", log), urls: u, log: log}
}

// Bind sets what the reactor calls; Posts, Local and Following are
// required.
func (r *Inbound) Bind(d InboundDeps) error {
	if d.Posts == nil || d.Local == nil || d.Following == nil {
		return errors.New("communities: the inbound reactor needs Posts, Local and Following")
	}
	r.deps.Store(&d)
	return nil
}

// Name implements projections.Projector.
func (*Inbound) Name() string { return InboundName }

// Version implements projections.Projector.
func (*Inbound) Version() int { return InboundVersion }

// Apply implements projections.Projector.
func (r *Inbound) Apply(ctx context.Context, _ *sql.Tx, _ projections.Tables, batch []events.Envelope) error {
	d := r.deps.Load()
	if d == nil {
		return ErrNotBound
	}
	w := inbound{Inbound: r, InboundDeps: d}
	return r.Each(ctx, batch, Refused, w.process)
}

// Refused reports whether err is a refusal to log and skip rather than a
// failure to retry: the commands' domain refusals and the reactors' own.
// A post or edit by a remote actor that was erased (its data key
// destroyed, so nothing of it can be sealed: personal.ErrErased) is a
// refusal too: that person is forgotten, and stays so.
func Refused(err error) bool {
	var v *app.ValidationError
	if reactor.IsSkip(err) || errors.As(err, &v) {
		return true
	}
	for _, target := range []error{app.ErrCommunityNotFound, app.ErrNotMember, app.ErrBanned, app.ErrNotFacilitator,
		app.ErrNotOwner, app.ErrThreadLocked, app.ErrPostParentGone, app.ErrPostNotFound, app.ErrPostDeleted,
		app.ErrPostRemoved, app.ErrNotAuthor, app.ErrPostNotShareable, app.ErrPostNotInCommunity,
		app.ErrFollowNotFound, app.ErrFollowNotPending, app.ErrFollowForbidden, app.ErrFollowInvalid,
		app.ErrActorNotFound, app.ErrActorDeleted, app.ErrConflict, personal.ErrErased} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// inbound is the reactor with its dependencies, for one batch.
type inbound struct {
	*Inbound
	*InboundDeps
}

// isLocal reports whether iri names an actor or object of this instance.
func (r *Inbound) isLocal(iri string) bool {
	_, local := r.urls.Parse(iri)
	return local
}

func (r inbound) process(ctx context.Context, rec *remote.ActivityReceived) error {
	act, err := reactor.Decode(rec, r.isLocal)
	if err != nil {
		return err
	}
	switch act.Type {
	case as2.TypeCreate:
		obj := act.InlineObject()
		if obj == nil || !IsPostType(obj.Type) {
			return nil // a Create of something else, or by IRI
		}
		_, err := r.create(ctx, rec.Actor, act, obj, rec.Raw, "")
		return err
	case as2.TypeUpdate:
		obj := act.InlineObject()
		if obj == nil || !IsPostType(obj.Type) {
			return nil // an actor's profile, a poll…
		}
		return r.update(ctx, rec, act, obj)
	case as2.TypeDelete:
		return r.delete(ctx, rec, act.ObjectID())
	case as2.TypeLike:
		postID, ok, err := r.knownPost(ctx, act.ObjectID())
		if err != nil || !ok {
			return err
		}
		_, err = r.Posts.Like(ctx, postID, rec.Actor, rec.ActivityID)
		return err
	case as2.TypeUndo:
		inner := act.InlineObject()
		if inner != nil && inner.Type == as2.TypeAnnounce {
			return r.unboost(ctx, rec, inner)
		}
		if inner == nil || inner.Type != as2.TypeLike {
			return nil // Undo{Follow} is the inbox processor's; a Like or Announce by IRI cannot be told apart
		}
		if inner.ActorID() != rec.Actor {
			return reactor.Skipf("Undo by %s of a Like by %s", rec.Actor, inner.ActorID())
		}
		postID, ok, err := r.knownPost(ctx, inner.ObjectID())
		if err != nil || !ok {
			return err
		}
		_, err = r.Posts.Unlike(ctx, postID, rec.Actor)
		return err
	case as2.TypeAnnounce:
		return r.announce(ctx, rec, act)
	}
	return nil
}

// followed reports whether a local actor follows iri (accepted).
func (r inbound) followed(ctx context.Context, iri string) (bool, error) {
	rels, err := r.Following.WithRemote(ctx, iri)
	if err != nil {
		return false, err
	}
	for _, rel := range rels {
		if rel.Direction == follow.Outbound && rel.State == follow.StatusAccepted {
			return true, nil
		}
	}
	return false, nil
}

// knownPost maps an object IRI to the id of a post recorded here: a local
// post's IRI (its author must match), or a received post's IRI. ok is
// false for anything else.
func (r inbound) knownPost(ctx context.Context, iri string) (string, bool, error) {
	if iri == "" {
		return "", false, nil
	}
	if p, isLocal := r.urls.ParsePost(iri); isLocal {
		if p.Activity {
			return "", false, nil
		}
		s, err := r.Posts.Load(ctx, p.ID)
		if errors.Is(err, app.ErrPostNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		author, err := r.Local.ByIRI(ctx, r.urls.Actor(p.Author.Kind, p.Author.Username))
		if errors.Is(err, app.ErrActorNotFound) || (err == nil && (s.AuthorID == "" || author.ID != s.AuthorID)) {
			return "", false, nil
		}
		return p.ID, err == nil, err
	}
	if _, local := r.urls.Parse(iri); local {
		return "", false, nil
	}
	id := app.PostIDForIRI(iri)
	if _, err := r.Posts.Load(ctx, id); errors.Is(err, app.ErrPostNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	return id, true, nil
}

// create handles a received post (from a Create, or announced by the
// followed actor booster when that is not empty). It returns the post's
// local id, "" when the post is not for this server.
func (r inbound) create(ctx context.Context, actorIRI string, act, obj *as2.Object, raw []byte, booster string) (string, error) {
	boosted := booster != ""
	author := obj.AttributedTo.First().ID
	switch {
	case author != actorIRI:
		return "", reactor.Skipf("post %s is attributed to %q, not to its Create's actor %s", obj.ID, author, actorIRI)
	case !validIRI(obj.ID) || !sameHost(obj.ID, author):
		return "", reactor.Skipf("post id %q is not on its author's server", obj.ID)
	}
	rp, ok := RemotePost(obj, raw)
	if !ok {
		return "", nil
	}
	if groupIRI := GroupAddressed(r.urls, obj, act); groupIRI != "" {
		g, err := r.Local.ByIRI(ctx, groupIRI)
		if errors.Is(err, app.ErrActorNotFound) {
			return "", reactor.Skipf("no community at %s", groupIRI)
		}
		if err != nil {
			return "", err
		}
		rp.CommunityID = g.ID
	} else {
		rp.CommunityIRI = RemoteGroup(r.urls, obj, act, booster)
	}
	if parent := obj.InReplyTo.First().ID; parent != "" {
		id, known, err := r.knownPost(ctx, parent)
		if err != nil {
			return "", err
		}
		rp.InReplyTo = parent
		if known {
			if _, isLocal := r.urls.ParsePost(parent); isLocal {
				rp.InReplyTo = id
			}
		} else if rp.CommunityID == "" && !boosted {
			// A reply to something this server never saw, not to a
			// community: only wanted when its author is followed.
			if ok, err := r.followed(ctx, author); err != nil || !ok {
				return "", err
			}
		}
	} else if rp.CommunityID == "" && !boosted {
		if ok, err := r.followed(ctx, author); err != nil || !ok {
			return "", err
		}
	}
	rp.Visibility = Visibility(obj, act, rp.CommunityID != "")
	id, _, err := r.Posts.PublishRemote(ctx, rp)
	return id, err
}

// update applies a received Update of a post by its author.
func (r inbound) update(ctx context.Context, rec *remote.ActivityReceived, act, obj *as2.Object) error {
	if obj.AttributedTo.First().ID != rec.Actor {
		return reactor.Skipf("Update by %s of a post attributed to %q", rec.Actor, obj.AttributedTo.First().ID)
	}
	if _, known, err := r.knownPost(ctx, obj.ID); err != nil || !known {
		return err
	}
	rp, ok := RemotePost(obj, rec.Raw)
	if !ok {
		return nil
	}
	rp.Visibility = Visibility(obj, act, false)
	_, err := r.Posts.EditRemote(ctx, obj.ID, rec.Actor, rp)
	return err
}

// delete applies a received Delete of a received post by its author.
func (r inbound) delete(ctx context.Context, rec *remote.ActivityReceived, objectIRI string) error {
	if objectIRI == "" || objectIRI == rec.Actor {
		return nil // an actor deleting itself is the inbox processor's
	}
	if _, local := r.urls.Parse(objectIRI); local {
		return nil
	}
	if _, known, err := r.knownPost(ctx, objectIRI); err != nil || !known {
		return err
	}
	_, err := r.Posts.DeleteRemote(ctx, objectIRI, rec.Actor)
	return err
}

// announce handles an Announce by an actor local people follow: the
// announced post (embedded in a Create, embedded, or by IRI and fetched)
// is recorded and boosted. Embedded objects from another server than the
// announcer's are fetched from their origin rather than trusted.
func (r inbound) announce(ctx context.Context, rec *remote.ActivityReceived, act *as2.Object) error {
	ref := act.Object.First()
	if ref.Object != nil && ref.Object.Type == as2.TypeDelete {
		return r.removal(ctx, rec, ref.Object)
	}
	if ok, err := r.followed(ctx, rec.Actor); err != nil || !ok {
		return err
	}
	if ref.ID != "" {
		if id, known, err := r.knownPost(ctx, ref.ID); err != nil {
			return err
		} else if known {
			_, err := r.Posts.Boost(ctx, id, rec.Actor, rec.ActivityID)
			return err
		}
	}
	var create, obj *as2.Object
	if o := ref.Object; o != nil {
		switch {
		case o.Type == as2.TypeCreate && o.InlineObject() != nil && IsPostType(o.InlineObject().Type):
			create, obj = o, o.InlineObject()
		case IsPostType(o.Type):
			obj = o
		default:
			return nil // Announce{Like}, Announce{Update}… of a remote community: not ours
		}
		if !sameHost(obj.ID, rec.Actor) || (create != nil && !sameHost(create.ActorID(), rec.Actor)) {
			// Not the announcer's own: verify at the origin.
			create, obj = nil, nil
		}
	}
	if obj == nil {
		iri := ref.ID
		if ref.Object != nil {
			iri = ref.Object.ID
			if ref.Object.Type == as2.TypeCreate {
				iri = ref.Object.ObjectID()
			}
		}
		fetched, err := r.fetch(ctx, iri)
		if err != nil {
			return err
		}
		obj = fetched
	}
	if obj.ID != "" {
		if id, known, err := r.knownPost(ctx, obj.ID); err != nil {
			return err
		} else if known {
			_, err := r.Posts.Boost(ctx, id, rec.Actor, rec.ActivityID)
			return err
		}
	}
	var raw []byte
	actorIRI := obj.AttributedTo.First().ID
	if create != nil {
		raw, actorIRI = create.Raw, create.ActorID()
	}
	id, err := r.create(ctx, actorIRI, create, obj, raw, rec.Actor)
	if err != nil || id == "" {
		return err
	}
	_, err = r.Posts.Boost(ctx, id, rec.Actor, rec.ActivityID)
	return err
}

// unboost applies a received Undo{Announce}: the actor withdraws its
// boost of a post recorded here (the post leaves the timelines the boost
// had brought it into). The Announce must be the Undo's actor's own; its
// object may be the post's IRI, the post, or the Create of it (FEP-1b12).
// Whether the actor had boosted the post is the command's decision (a
// withdrawal of no boost changes nothing). Local people need not follow
// the actor any more: a boost recorded while they did is withdrawn too.
func (r inbound) unboost(ctx context.Context, rec *remote.ActivityReceived, announce *as2.Object) error {
	if announce.ActorID() != rec.Actor {
		return reactor.Skipf("Undo by %s of an Announce by %q", rec.Actor, announce.ActorID())
	}
	ref := announce.Object.First()
	iri := ref.ID
	if o := ref.Object; o != nil {
		switch {
		case o.Type == as2.TypeCreate:
			iri = o.ObjectID()
		case IsPostType(o.Type):
			iri = o.ID
		default:
			return nil // an Announce{Delete}, Announce{Like}… undone: nothing was boosted
		}
	}
	postID, known, err := r.knownPost(ctx, iri)
	if err != nil || !known {
		return err
	}
	_, err = r.Posts.Unboost(ctx, postID, rec.Actor, rec.ActivityID)
	return err
}

// removal applies a Group's Announce{Delete} of a post (FEP-1b12: the
// community's moderators removed it, or its author deleted it): a received
// post of that community is removed here. Whether the announcer is the
// post's community is the command's decision (a refusal otherwise); the
// Group vouches for the Delete, so it is not fetched.
func (r inbound) removal(ctx context.Context, rec *remote.ActivityReceived, del *as2.Object) error {
	iri := del.ObjectID()
	if _, local := r.urls.ParsePost(iri); local || iri == "" {
		return nil // a local post: only its author and its community here decide
	}
	if _, known, err := r.knownPost(ctx, iri); err != nil || !known {
		return err
	}
	_, err := r.Posts.RemoveByCommunity(ctx, iri, rec.Actor, rec.ActivityID)
	return err
}

// fetch gets an announced post by IRI from its origin: the document must
// be a post (or a Create of one) whose id is the IRI asked for.
func (r inbound) fetch(ctx context.Context, iri string) (*as2.Object, error) {
	if r.Fetch == nil || !validIRI(iri) {
		return nil, reactor.Skipf("cannot fetch the announced object %q", iri)
	}
	if _, local := r.urls.Parse(iri); local {
		return nil, reactor.Skipf("announced local object %s is unknown", iri)
	}
	body, err := r.Fetch.FetchObject(ctx, iri)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, reactor.Skipf("fetch the announced object %s: %v", iri, err)
	}
	o, err := as2.Decode(body)
	if err != nil {
		return nil, reactor.Skipf("the announced object %s does not decode: %v", iri, err)
	}
	if o.Type == as2.TypeCreate && o.InlineObject() != nil {
		o = o.InlineObject()
	}
	if !IsPostType(o.Type) || o.ID != iri {
		return nil, reactor.Skipf("the announced object %s is a %s with id %q", iri, o.Type, o.ID)
	}
	return o, nil
}

// groupKind reports whether iri is a local Group actor's IRI.
func groupKind(s urls.Scheme, iri string) bool {
	t, ok := s.Parse(iri)
	return ok && t.Kind == actor.KindGroup && t.Collection == "" && !t.Profile && !strings.ContainsAny(iri, "?#")
}
