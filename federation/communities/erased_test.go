package communities_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/datakeys"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/secrets"
)

// TestPostsOfErasedActorsAreRefused: once a remote actor's data key is
// destroyed (it deleted itself), its posts cannot be sealed any more.
// PublishRemote fails with personal.ErrErased and records nothing, and
// the inbound reactor skips such a post as a refusal instead of stopping.
func TestPostsOfErasedActorsAreRefused(t *testing.T) {
	ring, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := datakeys.Open(filepath.Join(t.TempDir(), datakeys.FileName), ring)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	if err := keys.Destroy(context.Background(), felix); err != nil {
		t.Fatal(err)
	}

	r := communities.NewInbound(scheme, nil)
	e := &inboundEnv{calls: &calls{}}
	e.harness = newHarness(t, r)
	cmds := app.NewPosts(e.env.Store, e.env.Registry, keys, nil, "hanse.example")
	if err := r.Bind(communities.InboundDeps{Posts: cmds, Local: directory{}, Following: following{iris: map[string]bool{felix: true, admin: true}}}); err != nil {
		t.Fatal(err)
	}

	// The command: a clean refusal, nothing recorded.
	note := "https://mastodon.madrid/users/felix/statuses/107224289116410645"
	_, _, err = cmds.PublishRemote(context.Background(), app.RemotePost{ObjectIRI: note, AuthorIRI: felix, Kind: post.Note,
		Visibility: post.Public, ContentMap: map[string]string{"en": "<p>hello</p>"}, Activity: "{}"})
	if !errors.Is(err, personal.ErrErased) || !communities.Refused(err) {
		t.Fatalf("PublishRemote by an erased actor: %v; want a refusal wrapping personal.ErrErased", err)
	}
	noPost := func(what string) {
		t.Helper()
		if _, err := e.env.Store.ReadStream(context.Background(), post.Stream(app.PostIDForIRI(note)), events.ReadStreamOptions{}); !errors.Is(err, events.ErrStreamNotFound) {
			t.Fatalf("%s: the erased actor's post was recorded (%v)", what, err)
		}
	}
	noPost("command")

	// The reactor: the erased actor's Create is skipped, and the next
	// activity (by someone else) is processed.
	e.mustReceive(felix, fixture(t, "mastodon/create_note.json"))
	noPost("reactor")
	other := fixture(t, "mastodon/create_note.json", "https://mastodon.madrid/users/felix", "http://mastodon.example.org/users/admin",
		"mastodon.madrid", "mastodon.example.org")
	e.mustReceive(admin, other)
	if s, err := cmds.Load(context.Background(), app.PostIDForIRI("http://mastodon.example.org/users/admin/statuses/107224289116410645")); err != nil || !s.Exists || s.AuthorIRI != admin {
		t.Fatalf("the next author's post: %+v, %v", s, err)
	}

	// Wrapped the way the post domain wraps a sealing failure.
	if !communities.Refused(fmt.Errorf("post: seal content: %w", fmt.Errorf("%w: %q", personal.ErrErased, felix))) {
		t.Fatal("a sealing refusal for an erased subject is not a refusal")
	}
}
