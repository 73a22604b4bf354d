package communities_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/follows"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// calls records the commands the reactors called, one line each.
type calls struct {
	mu    sync.Mutex
	lines []string
}

func (c *calls) add(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
}

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.lines
	c.lines = nil
	return out
}

// fakePosts is the post commands: it records calls, knows the posts in
// known, and answers the errors in fail (by object IRI or post id).
type fakePosts struct {
	*calls
	mu    sync.Mutex
	known map[string]post.State
	fail  map[string]error
	last  app.RemotePost
}

func newFakePosts(c *calls) *fakePosts {
	return &fakePosts{calls: c, known: map[string]post.State{}, fail: map[string]error{}}
}

func (p *fakePosts) PublishRemote(_ context.Context, rp app.RemotePost) (string, events.Position, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = rp
	if err := p.fail[rp.ObjectIRI]; err != nil {
		return "", 0, err
	}
	id := app.PostIDForIRI(rp.ObjectIRI)
	p.add("publish %s by %s community=%q reply=%q %s", rp.ObjectIRI, rp.AuthorIRI, rp.CommunityID, rp.InReplyTo, rp.Visibility)
	p.known[id] = post.State{Exists: true, ID: id, AuthorIRI: rp.AuthorIRI, ObjectIRI: rp.ObjectIRI}
	return id, 1, nil
}

func (p *fakePosts) EditRemote(_ context.Context, objectIRI, actorIRI string, rp app.RemotePost) (events.Position, error) {
	p.add("edit %s by %s", objectIRI, actorIRI)
	return 1, nil
}

func (p *fakePosts) DeleteRemote(_ context.Context, objectIRI, actorIRI string) (events.Position, error) {
	p.add("delete %s by %s", objectIRI, actorIRI)
	return 1, nil
}

func (p *fakePosts) RemoveByCommunity(_ context.Context, objectIRI, groupIRI, activityID string) (events.Position, error) {
	p.mu.Lock()
	err := p.fail["remove "+objectIRI]
	p.mu.Unlock()
	if err != nil {
		return 0, err
	}
	p.add("remove %s by community %s (%s)", objectIRI, groupIRI, activityID)
	return 1, nil
}

func (p *fakePosts) Boost(_ context.Context, postID, boosterIRI, activityID string) (events.Position, error) {
	p.add("boost %s by %s (%s)", postID, boosterIRI, activityID)
	return 1, nil
}

func (p *fakePosts) Unboost(_ context.Context, postID, boosterIRI, activityID string) (events.Position, error) {
	p.add("unboost %s by %s (%s)", postID, boosterIRI, activityID)
	return 1, nil
}

func (p *fakePosts) Like(_ context.Context, postID, liker, activityID string) (events.Position, error) {
	p.add("like %s by %s (%s)", postID, liker, activityID)
	return 1, nil
}

func (p *fakePosts) Unlike(_ context.Context, postID, liker string) (events.Position, error) {
	p.add("unlike %s by %s", postID, liker)
	return 1, nil
}

func (p *fakePosts) Load(_ context.Context, postID string) (post.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.known[postID]
	if !ok {
		return post.State{}, fmt.Errorf("%w: %s", app.ErrPostNotFound, postID)
	}
	return s, nil
}

func (p *fakePosts) Announce(_ context.Context, postID string) (events.Position, error) {
	p.mu.Lock()
	err := p.fail[postID]
	p.mu.Unlock()
	if err != nil {
		return 0, err
	}
	p.add("announce %s", postID)
	return 1, nil
}

// directory is the local actors: alice (a1), the Groups lernen (g1) and
// closed (g2).
type directory struct{}

var localActors = []app.LocalActor{
	{ID: "a1", IRI: scheme.Actor(actor.KindPerson, "alice")},
	{ID: "g1", IRI: scheme.Actor(actor.KindGroup, "lernen")},
	{ID: "g2", IRI: scheme.Actor(actor.KindGroup, "closed"), ManuallyApprovesFollowers: true},
}

func (directory) ByIRI(_ context.Context, iri string) (app.LocalActor, error) {
	for _, a := range localActors {
		if a.IRI == iri {
			return a, nil
		}
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, iri)
}

func (directory) ByID(_ context.Context, id string) (app.LocalActor, error) {
	for _, a := range localActors {
		if a.ID == id {
			return a, nil
		}
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, id)
}

// following says which remote actors alice follows.
type following struct{ iris map[string]bool }

func (f following) WithRemote(_ context.Context, iri string) ([]follows.Relationship, error) {
	if !f.iris[iri] {
		return nil, nil
	}
	return []follows.Relationship{{FollowerIRI: aliceIRI, FolloweeIRI: iri, Direction: follow.Outbound, LocalActorID: "a1",
		RemoteIRI: iri, State: follow.StatusAccepted}}, nil
}

// fetcher answers fetches from a map of documents.
type fetcher struct {
	*calls
	docs map[string]string
}

func (f fetcher) FetchObject(_ context.Context, iri string) ([]byte, error) {
	f.add("fetch %s", iri)
	if d, ok := f.docs[iri]; ok {
		return []byte(d), nil
	}
	return nil, errors.New("fetch: 404")
}

// harness is an event store and a runner with the projectors under test.
type harness struct {
	t      *testing.T
	env    *projectiontest.Env
	runner *projections.Runner
}

func newHarness(t *testing.T, ps ...projections.Projector) *harness {
	t.Helper()
	env := projectiontest.Open(t)
	remote.Register(env.Registry)
	follow.Register(env.Registry)
	community.Register(env.Registry)
	post.Register(env.Registry)
	return &harness{t: t, env: env, runner: env.Runner("read.db", ps...)}
}

// record appends payload to stream and waits until every projector has
// applied it (or, for a projector that fails, returns the wait's error).
func (h *harness) record(stream string, payload any) error {
	h.t.Helper()
	pos := h.env.Record(stream, payload, events.Metadata{OccurredAt: time.Now()})
	for _, name := range h.runner.Names() {
		if err := projectiontest.Await(h.runner, name, pos); err != nil {
			return err
		}
	}
	return nil
}

// receive records a received activity (raw JSON by actor) and waits.
func (h *harness) receive(actorIRI string, raw []byte) error {
	h.t.Helper()
	a, err := as2.Decode(raw)
	if err != nil {
		h.t.Fatal(err)
	}
	// Each call gets a stream of its own: fixtures share activity ids.
	return h.record(remote.ActivityStream(events.NewUUID().String()), remote.ActivityReceived{ActivityID: a.ID, Type: a.Type,
		Actor: actorIRI, Raw: raw, ReceivedAt: time.Now()})
}
