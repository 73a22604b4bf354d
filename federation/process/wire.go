package process

import (
	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/follows"
)

// Wiring is the follows slice, built by Wire.
type Wiring struct {
	// Commands are the follow commands (admin API, processor).
	Commands *app.Follows
	// Directory finds local actors for the commands.
	Directory LocalActorDirectory
	// Follows queries the follows read model.
	Follows follows.Reader
	// Followers and Following are the actor collections for
	// actorpub.Options.Collections.
	Followers, Following actorpub.Page
}

// Wire builds the follow commands and queries over store and the runner's
// read-model database db (which must run the actors and follows
// projectors, and p), and binds the processor p to them. keys destroys the
// data keys of remote actors that delete themselves (the instance's
// internal/datakeys.Store). origin is this instance's host.
func Wire(p *Processor, store events.Store, registry *events.Registry, db *projections.DB, u urls.Scheme,
	remoteActors RemoteActors, keys KeyDestroyer, origin string) (Wiring, error) {
	dir := LocalActorDirectory{Actors: actors.NewReader(db), URLs: u}
	cmds := app.NewFollows(store, registry, dir, origin)
	q := follows.NewReader(db)
	if err := p.Bind(Deps{Commands: cmds, Remote: remoteActors, Relationships: q, Local: dir,
		Keys: keys, Erasures: NewErasureLog(store, registry)}); err != nil {
		return Wiring{}, err
	}
	return Wiring{Commands: cmds, Directory: dir, Follows: q, Followers: FollowersPage(q), Following: FollowingPage(q)}, nil
}
