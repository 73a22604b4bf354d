package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	dmedia "github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
)

// Errors of the post commands (besides the shared ones in contracts.go
// and ErrNotAuthor); HTTP maps them to 404, 410, 409 and 422.
var (
	ErrPostNotFound = errors.New("app: post not found")
	ErrPostDeleted  = errors.New("app: post deleted")
	ErrPostRemoved  = errors.New("app: post removed by a facilitator")
	// ErrPostParentGone: replying to a deleted or removed post.
	ErrPostParentGone = errors.New("app: the post replied to is gone")
	// ErrThreadLocked: replying into a locked thread.
	ErrThreadLocked = errors.New("app: the thread is locked")
	// ErrPostNotInCommunity: removing, pinning or locking a post that
	// belongs to no community.
	ErrPostNotInCommunity = errors.New("app: the post belongs to no community")
	// ErrNotThreadRoot: pinning or locking a reply.
	ErrNotThreadRoot = errors.New("app: only the first post of a thread can be pinned or locked")
	// ErrPostNotShareable: announcing or boosting a followers-only or
	// direct post.
	ErrPostNotShareable = errors.New("app: the post's visibility does not allow sharing")
)

// MentionResolver turns a handle written in a post ("user" for a local
// person, "user@host" for anyone) into the actor IRI it names. The HTTP
// layer resolves the handles post.ExtractMentions finds and passes the
// IRIs in PublishPost.Mentions; handles that do not resolve are plain
// text, as on Mastodon.
type MentionResolver interface {
	Resolve(ctx context.Context, handle string) (iri string, err error)
}

// PublishPost is the command that publishes a local post.
type PublishPost struct {
	Author Acting
	Kind   post.Kind
	// CommunityID is the community posted into ("" for none); a reply
	// goes into its parent's community.
	CommunityID string
	// InReplyTo is a local post id, or the IRI of a post (a local one, or
	// a remote one this server recorded).
	InReplyTo  string
	Visibility post.Visibility
	// ContentMap, NameMap and SummaryMap map language tags (BCP 47, or
	// "und") to plain text.
	ContentMap, NameMap, SummaryMap map[string]string
	// MediaIDs are the author's uploads to attach, Descriptions their alt
	// texts in the same order.
	MediaIDs     []string
	Descriptions []string
	Sensitive    bool
	// Mentions are the actor IRIs the text mentions (resolved by the
	// caller with a MentionResolver).
	Mentions []string
	// IdempotencyKey, when not empty, makes retries of the same request
	// (same author and key) publish one post: the post id derives from
	// them and a retry returns the first publication.
	IdempotencyKey string
}

// RemotePost is a post received from another server, as the inbound
// federation reactor decoded it.
type RemotePost struct {
	ObjectIRI, AuthorIRI, URL string
	Kind                      post.Kind
	// CommunityID is the local community it was posted into ("" for
	// none); InReplyTo the IRI (or local id) of the post it answers.
	CommunityID, InReplyTo string
	// CommunityIRI is the remote community (a Group on another server)
	// the post was posted into, which may remove it here; ignored when
	// the post is in a local community (its own or its thread's).
	CommunityIRI string
	Visibility   post.Visibility
	// ContentMap, NameMap and SummaryMap are HTML, sanitised by the
	// caller.
	ContentMap, NameMap, SummaryMap map[string]string
	Hashtags, Mentions              []string
	Attachments                     []post.Attachment
	Descriptions                    []string
	Sensitive                       bool
	PublishedAt                     time.Time
	// Activity is the Create (or, for EditRemote, the Update) exactly as
	// received.
	Activity string
}

// EditPost is the command that edits a local post's text. The three
// maps replace the post's text wholesale. Nil Mentions and Sensitive keep
// the post's; nil Descriptions keep the alt texts.
type EditPost struct {
	PostID                          string
	By                              Acting
	ContentMap, NameMap, SummaryMap map[string]string
	Mentions                        []string
	Sensitive                       *bool
	Descriptions                    []string
}

// Posts is the application service for posts and likes. Set the fields
// (or use NewPosts) before the first call; nil Clock and NewID default to
// time.Now and events.NewUUID.
type Posts struct {
	Store    events.Store
	Registry *events.Registry
	// Sealer seals what authors write under their data keys.
	Sealer personal.Sealer
	// Gate answers who may post into and moderate communities.
	Gate  CommunityGate
	Clock func() time.Time
	// NewID makes post ids and event ids.
	NewID func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
	// LocalPostID, when set, recognises the IRI of one of this
	// instance's own posts and returns its id (federation/urls knows the
	// scheme); InReplyTo IRIs are then resolved to local posts.
	LocalPostID func(iri string) (id string, ok bool)
	// Audience, when set, tells whether a local account may see a
	// followers-only or direct post of someone else (ActorAudience does,
	// from the event store); without it, Like refuses those posts to
	// everyone but their authors.
	Audience PostAudience
}

// NewPosts returns the post commands over store, registering the post
// and media events in registry unless they are already registered.
func NewPosts(store events.Store, registry *events.Registry, sealer personal.Sealer, gate CommunityGate, origin string) *Posts {
	registerPostEvents(registry)
	return &Posts{Store: store, Registry: registry, Sealer: sealer, Gate: gate, Clock: time.Now, NewID: events.NewUUID, Origin: origin}
}

func registerPostEvents(registry *events.Registry) {
	if !registry.Known(post.TypePublished) {
		post.Register(registry)
	}
	if !registry.Known(dmedia.TypeUploaded) {
		dmedia.Register(registry)
	}
}

// PostIDForIRI is the local id of the remote post objectIRI: a remote
// object always maps to the same id, so recording it is idempotent.
func PostIDForIRI(objectIRI string) string { return events.DerivedUUID("post", objectIRI).String() }

func (p *Posts) id() events.UUID {
	if p.NewID == nil {
		return events.NewUUID()
	}
	return p.NewID()
}

func (p *Posts) now() time.Time {
	if p.Clock == nil {
		return time.Now().UTC()
	}
	return p.Clock().UTC()
}

// localMeta is the metadata of a local person's command.
func (p *Posts) localMeta(by string) events.Metadata {
	return events.Metadata{Actor: by, CorrelationID: p.id().String(), OccurredAt: p.now(), Origin: p.Origin}
}

// remoteMeta is the metadata of what the remote actor actorIRI did,
// correlated with the activity that carried it.
func (p *Posts) remoteMeta(actorIRI, activityID string) events.Metadata {
	origin := p.Origin
	if u, err := url.Parse(actorIRI); err == nil && u.Host != "" {
		origin = u.Host
	}
	return events.Metadata{Actor: actorIRI, CorrelationID: activityID, OccurredAt: p.now(), Origin: origin}
}

// loadedPost is a post stream folded into its state.
type loadedPost struct {
	state    post.State
	revision uint64
	position events.Position // of the last event
	first    events.Position // of post.published
	// ids maps the stream's event ids to their positions (replays).
	ids map[events.UUID]events.Position
}

// readFold reads stream and applies its events to apply; a missing stream
// (or an impossible stream name, which cannot exist) gives no events.
func readFold(ctx context.Context, store events.Store, registry *events.Registry, stream string, apply func(events.Envelope, any) error) error {
	envs, err := store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("app: read %s: %w", stream, err)
	}
	for _, e := range envs {
		payload, err := registry.Decode(e)
		if err != nil {
			return fmt.Errorf("app: read %s: %w", stream, err)
		}
		if err := apply(e, payload); err != nil {
			return fmt.Errorf("app: %s at revision %d: %w", stream, e.Revision, err)
		}
	}
	return nil
}

func (p *Posts) load(ctx context.Context, id string) (loadedPost, error) {
	l := loadedPost{ids: map[events.UUID]events.Position{}}
	err := readFold(ctx, p.Store, p.Registry, post.Stream(id), func(e events.Envelope, payload any) error {
		if err := l.state.Apply(payload); err != nil {
			return err
		}
		if e.Revision == 0 {
			l.first = e.Position
		}
		l.revision, l.position = e.Revision, e.Position
		l.ids[e.ID] = e.Position
		return nil
	})
	return l, err
}

// Load returns the state of post postID; ErrPostNotFound when there is
// none.
func (p *Posts) Load(ctx context.Context, postID string) (post.State, error) {
	l, err := p.load(ctx, postID)
	if err != nil {
		return post.State{}, err
	}
	if !l.state.Exists {
		return post.State{}, fmt.Errorf("%w: %s", ErrPostNotFound, postID)
	}
	return l.state, nil
}

// postIDOf maps what a post names as its parent to a local post id: a
// local id as it is, an IRI of this instance through LocalPostID, any
// other IRI through PostIDForIRI.
func (p *Posts) postIDOf(ref string) string {
	if !strings.Contains(ref, "://") {
		return ref
	}
	if p.LocalPostID != nil {
		if id, ok := p.LocalPostID(ref); ok {
			return id
		}
	}
	return PostIDForIRI(ref)
}

// thread loads the parent named by inReplyTo and its thread's root.
func (p *Posts) thread(ctx context.Context, inReplyTo string) (post.Thread, error) {
	if inReplyTo == "" {
		return post.Thread{}, nil
	}
	t := post.Thread{InReplyTo: inReplyTo}
	parent, err := p.load(ctx, p.postIDOf(inReplyTo))
	if err != nil {
		return post.Thread{}, err
	}
	t.Parent = parent.state
	if parent.state.Exists && parent.state.RootID != "" && parent.state.RootID != parent.state.ID {
		root, err := p.load(ctx, parent.state.RootID)
		if err != nil {
			return post.Thread{}, err
		}
		t.Root = root.state
	}
	return t, nil
}

// community checks that author may post into communityID now and
// returns the community's visibility.
func (p *Posts) community(ctx context.Context, communityID, author string) (community.Visibility, error) {
	if communityID == "" {
		return "", nil
	}
	if p.Gate == nil {
		return "", fmt.Errorf("%w: %s (no community gate configured)", ErrCommunityNotFound, communityID)
	}
	if err := p.Gate.CanPost(ctx, communityID, author); err != nil {
		return "", err
	}
	return p.Gate.Visibility(ctx, communityID)
}

// attachments checks that every media id is a live upload of owner and
// returns the attachments in order.
func (p *Posts) attachments(ctx context.Context, owner string, ids []string) ([]post.Attachment, error) {
	if len(ids) > post.MaxAttachments {
		return nil, &ValidationError{Field: "media_ids", Reason: fmt.Sprintf("must have at most %d attachments", post.MaxAttachments)}
	}
	var out []post.Attachment
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, &ValidationError{Field: "media_ids", Reason: "names " + id + " twice"}
		}
		seen[id] = true
		var s dmedia.State
		if err := readFold(ctx, p.Store, p.Registry, dmedia.Stream(id), func(_ events.Envelope, payload any) error {
			return s.Apply(payload)
		}); err != nil {
			return nil, err
		}
		if s.Live() != nil || s.OwnerID != owner {
			return nil, fmt.Errorf("%w: %s", ErrMediaNotFound, id)
		}
		out = append(out, post.Attachment{MediaID: id, MediaType: s.MediaType, Size: s.Size})
	}
	return out, nil
}

// Publish publishes a local post and returns its id and the write's
// position. A post into a community (or a reply within one) needs the
// community gate's consent; media must be the author's live uploads; the
// parent must exist and its thread must not be locked. The text is sealed
// under the author's data key.
func (p *Posts) Publish(ctx context.Context, cmd PublishPost) (string, events.Position, error) {
	if cmd.Author.ID == "" {
		return "", 0, &ValidationError{Field: "author", Reason: "must not be empty"}
	}
	postID, eventID := p.id().String(), p.id()
	if cmd.IdempotencyKey != "" {
		postID = events.DerivedUUID("post", cmd.Author.ID, cmd.IdempotencyKey).String()
		eventID = events.DerivedUUID(post.TypePublished, postID)
		if l, err := p.load(ctx, postID); err != nil {
			return "", 0, err
		} else if l.state.Exists {
			return postID, l.first, nil
		}
	}
	thread, err := p.thread(ctx, cmd.InReplyTo)
	if err != nil {
		return "", 0, err
	}
	communityID, err := post.ReplyCommunity(thread.Parent, cmd.CommunityID)
	if err != nil {
		return "", 0, postError(postID, err)
	}
	cv, err := p.community(ctx, communityID, cmd.Author.ID)
	if err != nil {
		return "", 0, err
	}
	attachments, err := p.attachments(ctx, cmd.Author.ID, cmd.MediaIDs)
	if err != nil {
		return "", 0, err
	}
	ev, err := post.Publish(post.State{}, post.NewPost{ID: postID, AuthorID: cmd.Author.ID, Kind: cmd.Kind,
		CommunityID: communityID, CommunityVisibility: cv, Thread: thread, Visibility: cmd.Visibility,
		Texts:    post.Texts{ContentMap: cmd.ContentMap, NameMap: cmd.NameMap, SummaryMap: cmd.SummaryMap},
		Mentions: cmd.Mentions, Attachments: attachments, Descriptions: cmd.Descriptions, Sensitive: cmd.Sensitive}, p.Sealer)
	if err != nil {
		return "", 0, postError(postID, err)
	}
	pos, err := p.appendNew(ctx, postID, eventID, ev, p.localMeta(cmd.Author.ID))
	if err != nil {
		return "", 0, err
	}
	return postID, pos, nil
}

// appendNew appends post.published to a new stream; a retry that finds
// its own event there (same id) returns that event's position.
func (p *Posts) appendNew(ctx context.Context, postID string, eventID events.UUID, ev post.Published, meta events.Metadata) (events.Position, error) {
	data, err := p.Registry.NewEvent(eventID, ev, meta)
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	res, err := p.Store.Append(ctx, post.Stream(postID), events.NoStream, data)
	if errors.Is(err, events.ErrWrongExpectedRevision) {
		l, lerr := p.load(ctx, postID)
		if lerr != nil {
			return 0, lerr
		}
		if pos, ok := l.ids[eventID]; ok {
			return pos, nil
		}
		return 0, fmt.Errorf("%w: post %s exists", ErrConflict, postID)
	}
	if errors.Is(err, events.ErrEventTooLarge) {
		return 0, &ValidationError{Field: "content", Reason: "is too long altogether"}
	}
	if err != nil {
		return 0, fmt.Errorf("app: publish post %s: %w", postID, err)
	}
	return res.Position, nil
}

// PublishRemote records a post received from another server and returns
// its local id (PostIDForIRI) and the write's position. It is idempotent:
// a post recorded before returns its id and the position of its
// publication. A post into a community passes the community gate (for the
// remote author); a reply to a post recorded here joins its thread (and
// is refused when the thread is locked), a reply to an unknown post starts
// a thread of its own.
func (p *Posts) PublishRemote(ctx context.Context, rp RemotePost) (string, events.Position, error) {
	postID := PostIDForIRI(rp.ObjectIRI)
	l, err := p.load(ctx, postID)
	if err != nil {
		return "", 0, err
	}
	if l.state.Exists {
		return postID, l.first, nil
	}
	thread, err := p.thread(ctx, rp.InReplyTo)
	if err != nil {
		return "", 0, err
	}
	communityID, err := post.ReplyCommunity(thread.Parent, rp.CommunityID)
	if err != nil {
		return "", 0, postError(postID, err)
	}
	cv, err := p.community(ctx, communityID, rp.AuthorIRI)
	if err != nil {
		return "", 0, err
	}
	publishedAt := ""
	if !rp.PublishedAt.IsZero() {
		publishedAt = rp.PublishedAt.UTC().Format(time.RFC3339Nano)
	}
	ev, err := post.PublishRemote(post.State{}, post.NewRemotePost{ID: postID, ObjectIRI: rp.ObjectIRI,
		AuthorIRI: rp.AuthorIRI, URL: rp.URL, Kind: rp.Kind, CommunityID: communityID, CommunityVisibility: cv,
		CommunityIRI: rp.CommunityIRI, Thread: thread, Visibility: rp.Visibility,
		Texts:    post.Texts{ContentMap: rp.ContentMap, NameMap: rp.NameMap, SummaryMap: rp.SummaryMap},
		Hashtags: rp.Hashtags, Mentions: rp.Mentions, Attachments: rp.Attachments, Descriptions: rp.Descriptions,
		Sensitive: rp.Sensitive, PublishedAt: publishedAt, Activity: rp.Activity}, p.Sealer)
	if err != nil {
		return "", 0, postError(postID, err)
	}
	pos, err := p.appendNew(ctx, postID, events.DerivedUUID(post.TypePublished, rp.ObjectIRI), ev, p.remoteMeta(rp.AuthorIRI, rp.ObjectIRI))
	if err != nil {
		return "", 0, err
	}
	return postID, pos, nil
}

// change runs one decision on an existing post: load, decide, append
// with the expected revision, retrying on conflicts. An event id already
// in the stream (a replay of the same cause) returns its position without
// deciding again. decide returns nil for a no-op; the position of the
// stream's last event is returned then.
func (p *Posts) change(ctx context.Context, postID string, eventID events.UUID, meta events.Metadata, decide func(post.State) (any, error)) (events.Position, error) {
	return retryConflicts("post "+postID, func() (events.Position, error) {
		l, err := p.load(ctx, postID)
		if err != nil {
			return 0, err
		}
		if pos, ok := l.ids[eventID]; ok {
			return pos, nil
		}
		if !l.state.Exists {
			return 0, fmt.Errorf("%w: %s", ErrPostNotFound, postID)
		}
		payload, err := decide(l.state)
		if err != nil {
			return 0, postError(postID, err)
		}
		if payload == nil {
			return l.position, nil
		}
		data, err := p.Registry.NewEvent(eventID, payload, meta)
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := p.Store.Append(ctx, post.Stream(postID), events.Exact(l.revision), data)
		if errors.Is(err, events.ErrEventTooLarge) {
			return 0, &ValidationError{Field: "content", Reason: "is too long altogether"}
		}
		return appended(res, err, "append to post "+postID)
	})
}

// noop turns the "already in that state" errors into no-ops.
func noop[T any](ev T, err error, already ...error) (any, error) {
	for _, a := range already {
		if errors.Is(err, a) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// Edit replaces the text of a local post; only its author may.
func (p *Posts) Edit(ctx context.Context, postID string, by Acting, contentMap, nameMap, summaryMap map[string]string) (events.Position, error) {
	return p.EditPost(ctx, EditPost{PostID: postID, By: by, ContentMap: contentMap, NameMap: nameMap, SummaryMap: summaryMap})
}

// EditPost is Edit with mentions, sensitivity and alt texts.
func (p *Posts) EditPost(ctx context.Context, cmd EditPost) (events.Position, error) {
	return p.change(ctx, cmd.PostID, p.id(), p.localMeta(cmd.By.ID), func(s post.State) (any, error) {
		if s.AuthorID == "" {
			return nil, fmt.Errorf("%w: %s is a remote post", post.ErrNotAuthor, s.ID)
		}
		return post.Edit(s, cmd.By.ID, post.Revision{Texts: post.Texts{ContentMap: cmd.ContentMap, NameMap: cmd.NameMap,
			SummaryMap: cmd.SummaryMap}, Mentions: cmd.Mentions, Sensitive: cmd.Sensitive, Descriptions: cmd.Descriptions}, p.Sealer)
	})
}

// EditRemote applies a received Update of objectIRI by actorIRI, who must
// be the post's author. Replaying the same Update appends nothing.
func (p *Posts) EditRemote(ctx context.Context, objectIRI, actorIRI string, rp RemotePost) (events.Position, error) {
	cause := rp.Activity
	if cause == "" {
		cause = fmt.Sprint(rp.ContentMap, rp.NameMap, rp.SummaryMap, rp.Hashtags, rp.Mentions, rp.Sensitive)
	}
	eventID := events.DerivedUUID(post.TypeEdited, objectIRI, actorIRI, cause)
	sensitive := rp.Sensitive
	return p.change(ctx, PostIDForIRI(objectIRI), eventID, p.remoteMeta(actorIRI, objectIRI), func(s post.State) (any, error) {
		return post.Edit(s, actorIRI, post.Revision{Texts: post.Texts{ContentMap: rp.ContentMap, NameMap: rp.NameMap,
			SummaryMap: rp.SummaryMap}, Hashtags: rp.Hashtags, Mentions: rp.Mentions, Sensitive: &sensitive,
			Descriptions: rp.Descriptions, Activity: rp.Activity}, p.Sealer)
	})
}

// Delete deletes a post on behalf of its author, or of an admin.
func (p *Posts) Delete(ctx context.Context, postID string, by Acting) (events.Position, error) {
	return p.change(ctx, postID, p.id(), p.localMeta(by.ID), func(s post.State) (any, error) {
		return post.Delete(s, by.ID, by.Admin)
	})
}

// DeleteRemote applies a received Delete of objectIRI by actorIRI, who
// must be the post's author. Deleting a deleted post is a no-op.
func (p *Posts) DeleteRemote(ctx context.Context, objectIRI, actorIRI string) (events.Position, error) {
	eventID := events.DerivedUUID(post.TypeDeleted, objectIRI, actorIRI)
	return p.change(ctx, PostIDForIRI(objectIRI), eventID, p.remoteMeta(actorIRI, objectIRI), func(s post.State) (any, error) {
		ev, err := post.Delete(s, actorIRI, false)
		return noop(ev, err, post.ErrDeleted)
	})
}

// moderate runs a decision that needs a facilitator of the post's
// community (or an admin).
func (p *Posts) moderate(ctx context.Context, postID string, by Acting, decide func(post.State) (any, error)) (events.Position, error) {
	return p.change(ctx, postID, p.id(), p.localMeta(by.ID), func(s post.State) (any, error) {
		if s.CommunityID != "" {
			if p.Gate == nil {
				return nil, ErrNotFacilitator
			}
			if err := p.Gate.CanModerate(ctx, s.CommunityID, by); err != nil {
				return nil, err
			}
		}
		return decide(s)
	})
}

// Remove removes a community's post; only the community's facilitators
// (or an admin) may.
func (p *Posts) Remove(ctx context.Context, postID string, by Acting, reason string) (events.Position, error) {
	return p.moderate(ctx, postID, by, func(s post.State) (any, error) { return post.Remove(s, by.ID, reason) })
}

// RemoveByCommunity applies a remote community's removal of a received
// post: groupIRI's Group sent an Announce{Delete} of objectIRI (activity
// activityID), and must be the community the post was posted into.
// Removing a post that is already gone is a no-op.
func (p *Posts) RemoveByCommunity(ctx context.Context, objectIRI, groupIRI, activityID string) (events.Position, error) {
	eventID := events.DerivedUUID(post.TypeRemoved, objectIRI, groupIRI)
	return p.change(ctx, PostIDForIRI(objectIRI), eventID, p.remoteMeta(groupIRI, activityID), func(s post.State) (any, error) {
		ev, err := post.RemoveByCommunity(s, groupIRI)
		return noop(ev, err, post.ErrRemoved, post.ErrDeleted)
	})
}

// LockThread makes the thread rooted at rootID refuse new replies
// (facilitators only; locking a locked thread is a no-op).
func (p *Posts) LockThread(ctx context.Context, rootID string, by Acting) (events.Position, error) {
	return p.moderate(ctx, rootID, by, func(s post.State) (any, error) {
		ev, err := post.LockThread(s, by.ID)
		return noop(ev, err, post.ErrAlreadyLocked)
	})
}

// UnlockThread lifts a thread's lock (a no-op on an open thread).
func (p *Posts) UnlockThread(ctx context.Context, rootID string, by Acting) (events.Position, error) {
	return p.moderate(ctx, rootID, by, func(s post.State) (any, error) {
		ev, err := post.UnlockThread(s, by.ID)
		return noop(ev, err, post.ErrNotLocked)
	})
}

// Pin features a thread's first post in its community (facilitators
// only; pinning a pinned post is a no-op).
func (p *Posts) Pin(ctx context.Context, postID string, by Acting) (events.Position, error) {
	return p.moderate(ctx, postID, by, func(s post.State) (any, error) {
		ev, err := post.Pin(s, by.ID)
		return noop(ev, err, post.ErrAlreadyPinned)
	})
}

// Unpin stops featuring a post (a no-op when it is not pinned).
func (p *Posts) Unpin(ctx context.Context, postID string, by Acting) (events.Position, error) {
	return p.moderate(ctx, postID, by, func(s post.State) (any, error) {
		ev, err := post.Unpin(s, by.ID)
		return noop(ev, err, post.ErrNotPinned)
	})
}

// Announce records that the post's community shared it (the announcer
// reactor calls it for every community post). The event id derives from
// the post, so a replay appends nothing; an announced post gives (0, nil).
func (p *Posts) Announce(ctx context.Context, postID string) (events.Position, error) {
	if l, err := p.load(ctx, postID); err != nil {
		return 0, err
	} else if l.state.Announced {
		return 0, nil
	}
	return p.react(ctx, postID, events.DerivedUUID(post.TypeAnnounced, postID), p.localMeta(""), post.ErrAlreadyAnnounced,
		func(s post.State) (any, error) { return post.Announce(s) })
}

// react is change for the reactors' commands: a decision refused with
// already (the post is in that state) is nothing to do and gives (0, nil)
// rather than the position change gives a no-op.
func (p *Posts) react(ctx context.Context, postID string, eventID events.UUID, meta events.Metadata, already error,
	decide func(post.State) (any, error)) (events.Position, error) {
	pos, err := p.change(ctx, postID, eventID, meta, func(s post.State) (any, error) {
		ev, err := decide(s)
		if errors.Is(err, already) {
			return nil, errAlreadyDone
		}
		return ev, err
	})
	if errors.Is(err, errAlreadyDone) {
		return 0, nil
	}
	return pos, err
}

// errAlreadyDone marks a reactor's no-op inside change.
var errAlreadyDone = errors.New("app: already done")

// Boost records that the remote actor boosterIRI announced the post
// (activity activityID). Replays and second boosts by the same actor give
// (0, nil). Without an activity id the event id is new each time (a
// derived one would swallow a boost after an Unboost).
func (p *Posts) Boost(ctx context.Context, postID, boosterIRI, activityID string) (events.Position, error) {
	eventID := events.DerivedUUID(post.TypeBoosted, postID, boosterIRI, activityID)
	if activityID == "" {
		eventID = p.id()
	}
	return p.react(ctx, postID, eventID, p.remoteMeta(boosterIRI, activityID), post.ErrAlreadyBoosted,
		func(s post.State) (any, error) { return post.Boost(s, boosterIRI, activityID) })
}

// Unboost records that the remote actor boosterIRI withdrew its boost of
// the post (a received Undo{Announce}, activity activityID): the post
// leaves the timelines the boost had brought it into. Replays of the same
// activity return the first position; withdrawing a boost that is not
// there (never boosted, withdrawn already) gives (0, nil).
func (p *Posts) Unboost(ctx context.Context, postID, boosterIRI, activityID string) (events.Position, error) {
	eventID := p.id()
	if activityID != "" {
		eventID = events.DerivedUUID(post.TypeUnboosted, postID, boosterIRI, activityID)
	}
	return p.react(ctx, postID, eventID, p.remoteMeta(boosterIRI, activityID), post.ErrNotBoosted,
		func(s post.State) (any, error) { return post.Unboost(s, boosterIRI, activityID) })
}

// loadedLike is a like stream folded into its state.
type loadedLike struct {
	state    post.LikeState
	exists   bool
	revision uint64
	position events.Position
	ids      map[events.UUID]events.Position
}

func (p *Posts) loadLike(ctx context.Context, postID, liker string) (loadedLike, error) {
	l := loadedLike{ids: map[events.UUID]events.Position{}}
	err := readFold(ctx, p.Store, p.Registry, post.LikeStream(postID, liker), func(e events.Envelope, payload any) error {
		if err := l.state.Apply(payload); err != nil {
			return err
		}
		l.exists, l.revision, l.position = true, e.Revision, e.Position
		l.ids[e.ID] = e.Position
		return nil
	})
	return l, err
}

// likeChange runs one decision on the like stream of (postID, liker).
func (p *Posts) likeChange(ctx context.Context, postID, liker string, eventID events.UUID, meta events.Metadata, decide func(loadedLike) (any, error)) (events.Position, error) {
	for attempt := 0; ; attempt++ {
		l, err := p.loadLike(ctx, postID, liker)
		if err != nil {
			return 0, err
		}
		if pos, ok := l.ids[eventID]; ok {
			return pos, nil
		}
		payload, err := decide(l)
		if err != nil {
			return 0, postError(postID, err)
		}
		if payload == nil {
			return l.position, nil
		}
		data, err := p.Registry.NewEvent(eventID, payload, meta)
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		expected := events.NoStream
		if l.exists {
			expected = events.Exact(l.revision)
		}
		res, err := p.Store.Append(ctx, post.LikeStream(postID, liker), expected, data)
		if errors.Is(err, events.ErrWrongExpectedRevision) {
			if attempt < MaxConflictRetries {
				continue
			}
			return 0, fmt.Errorf("%w: like of %s after %d attempts: %w", ErrConflict, postID, attempt+1, err)
		}
		if err != nil {
			return 0, fmt.Errorf("app: like %s: %w", postID, err)
		}
		return res.Position, nil
	}
}

// Like records that liker (a local account id or a remote actor IRI)
// likes the post; activityID is a remote Like's id (its replays append
// nothing). Liking twice is a no-op. A post that does not exist, or that
// a local liker may not see (see Visible), is ErrPostNotFound; a deleted
// or removed one ErrPostDeleted or ErrPostRemoved. Remote likers are not
// checked here: the inbox accepts Likes of the posts it knows.
func (p *Posts) Like(ctx context.Context, postID, liker, activityID string) (events.Position, error) {
	eventID := p.id()
	meta := p.localMeta(liker)
	if activityID != "" {
		eventID = events.DerivedUUID(post.TypeLiked, activityID)
		meta = p.remoteMeta(liker, activityID)
	}
	return p.likeChange(ctx, postID, liker, eventID, meta, func(l loadedLike) (any, error) {
		target, err := p.load(ctx, postID)
		if err != nil {
			return nil, err
		}
		if target.state.Exists && !isRemote(liker) {
			if err := p.Visible(ctx, target.state, liker); err != nil {
				return nil, err
			}
		}
		ev, err := post.Like(target.state, l.state, liker, activityID)
		return noop(ev, err, post.ErrAlreadyLiked)
	})
}

// Unlike withdraws liker's like of the post. A post that does not exist
// is ErrPostNotFound. Without a like there is nothing to do (a no-op),
// unless a local liker may not see the post: that is ErrPostNotFound too,
// as for Like. A like given is always withdrawn, even when its liker may
// no longer see the post (or it was deleted since).
func (p *Posts) Unlike(ctx context.Context, postID, liker string) (events.Position, error) {
	meta := p.localMeta(liker)
	if isRemote(liker) {
		meta = p.remoteMeta(liker, "")
	}
	return p.likeChange(ctx, postID, liker, p.id(), meta, func(l loadedLike) (any, error) {
		target, err := p.load(ctx, postID)
		if err != nil {
			return nil, err
		}
		if !target.state.Exists {
			return nil, post.ErrNotFound
		}
		ev, err := post.Unlike(l.state, postID, liker)
		if errors.Is(err, post.ErrNotLiked) && !isRemote(liker) {
			return nil, p.Visible(ctx, target.state, liker)
		}
		return noop(ev, err, post.ErrNotLiked)
	})
}

// isRemote reports whether an actor is a remote actor's IRI rather than
// a local account id.
func isRemote(actor string) bool { return strings.Contains(actor, "://") }

// Visible returns nil when the local account accountID may see the post
// s, and ErrPostNotFound otherwise. It is the read model's rule
// (projections/posts, visibility.go), decided from the event store so
// that it holds while the read model lags behind:
//
//   - public and unlisted posts: everyone;
//   - the author sees their own posts;
//   - members-only posts: the community's members (Gate.Membership);
//   - followers-only and direct posts: their audience (Audience: the
//     author's accepted followers, the mentioned actors); nobody else
//     without an Audience.
//
// Deleted and removed posts are judged by their visibility too, so that
// "gone" (410) is only told to those who could see them.
func (p *Posts) Visible(ctx context.Context, s post.State, accountID string) error {
	hidden := fmt.Errorf("%w: %s", ErrPostNotFound, s.ID)
	switch {
	case !s.Exists || accountID == "":
		return hidden
	case s.Visibility == post.Public, s.Visibility == post.Unlisted, s.AuthorID == accountID:
		return nil
	case s.Visibility == post.Members:
		if p.Gate == nil || s.CommunityID == "" {
			return hidden
		}
		m, err := p.Gate.Membership(ctx, s.CommunityID, accountID)
		switch {
		case errors.Is(err, ErrCommunityNotFound):
			return hidden
		case err != nil:
			return err
		case m == community.StateMember:
			return nil
		}
	case s.Visibility == post.Followers, s.Visibility == post.Direct:
		if p.Audience == nil {
			return hidden
		}
		ok, err := p.Audience.InAudience(ctx, s, accountID)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return hidden
}

// PostAudience tells whether a local account is in the audience of a
// followers-only or direct post it did not write.
type PostAudience interface {
	InAudience(ctx context.Context, s post.State, accountID string) (bool, error)
}

// ActorAudience is the PostAudience of the posts read model's rule, from
// the event store: a direct post's audience are the actors it mentions, a
// followers-only post's the local actors whose follow of its author was
// accepted. Set both fields (cmd/hanse wires the follow commands and
// their local actor directory).
type ActorAudience struct {
	// Actors finds the local account's actor (and a local author's).
	Actors LocalActors
	// Follows loads follow relationships.
	Follows *Follows
}

var _ PostAudience = ActorAudience{}

// InAudience implements PostAudience.
func (a ActorAudience) InAudience(ctx context.Context, s post.State, accountID string) (bool, error) {
	if a.Actors == nil {
		return false, nil
	}
	iri := func(id string) (string, error) {
		actor, err := a.Actors.ByID(ctx, id)
		if errors.Is(err, ErrActorNotFound) || err == nil && actor.Deleted {
			return "", nil
		}
		return actor.IRI, err
	}
	me, err := iri(accountID)
	if err != nil || me == "" {
		return false, err
	}
	switch s.Visibility {
	case post.Direct:
		return slices.Contains(s.Mentions, me), nil
	case post.Followers:
		author := s.AuthorIRI
		if author == "" && s.AuthorID != "" {
			if author, err = iri(s.AuthorID); err != nil {
				return false, err
			}
		}
		if a.Follows == nil || author == "" {
			return false, nil
		}
		rel, err := a.Follows.Relationship(ctx, me, author)
		return rel.Status == follow.StatusAccepted, err
	}
	return false, nil
}

// postError maps the post domain's errors to the application's.
func postError(postID string, err error) error {
	var fe *post.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, post.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrPostNotFound, postID)
	case errors.Is(err, post.ErrDeleted):
		return fmt.Errorf("%w: %s", ErrPostDeleted, postID)
	case errors.Is(err, post.ErrRemoved):
		return fmt.Errorf("%w: %s", ErrPostRemoved, postID)
	case errors.Is(err, post.ErrNotAuthor):
		return fmt.Errorf("%w: %s", ErrNotAuthor, postID)
	case errors.Is(err, post.ErrParentGone):
		return fmt.Errorf("%w: %w", ErrPostParentGone, err)
	case errors.Is(err, post.ErrThreadLocked):
		return fmt.Errorf("%w: %w", ErrThreadLocked, err)
	case errors.Is(err, post.ErrNotInCommunity):
		return fmt.Errorf("%w: %s", ErrPostNotInCommunity, postID)
	case errors.Is(err, post.ErrNotRoot):
		return fmt.Errorf("%w: %s", ErrNotThreadRoot, postID)
	case errors.Is(err, post.ErrNotShareable):
		return fmt.Errorf("%w: %w", ErrPostNotShareable, err)
	case errors.Is(err, post.ErrAlreadyExists):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}
