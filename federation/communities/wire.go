package communities

import (
	"log/slog"

	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/follows"
)

// The app services satisfy the reactors' interfaces.
var (
	_ PostCommands       = (*app.Posts)(nil)
	_ PostAnnouncer      = (*app.Posts)(nil)
	_ MembershipCommands = (*app.Communities)(nil)
	_ FollowCommands     = (*app.Follows)(nil)
	_ FollowedActors     = follows.Reader(nil)
)

// Reactors are the package's three projectors. Register Projectors with
// the projections runner (serve only, like the inbox processor), then
// Wire them once the runner's database exists.
type Reactors struct {
	Inbound    *Inbound
	Membership *Membership
	Announcer  *Announcer
}

// New returns the unbound reactors of the instance with URL scheme u. A
// nil log discards.
func New(u urls.Scheme, log *slog.Logger) Reactors {
	return Reactors{Inbound: NewInbound(u, log), Membership: NewMembership(u, log), Announcer: NewAnnouncer(log)}
}

// Projectors returns the reactors as projectors, for projections.New.
func (r Reactors) Projectors() []projections.Projector {
	return []projections.Projector{r.Inbound, r.Membership, r.Announcer}
}

// Posts is what the reactors ask of the post commands (*app.Posts).
type Posts interface {
	PostCommands
	PostAnnouncer
}

// WireDeps are the services the reactors call.
type WireDeps struct {
	// Posts are the post commands (*app.Posts; set its LocalPostID to
	// urls.Scheme.PostID so that replies to local IRIs join their threads).
	Posts Posts
	// Communities are the community commands (*app.Communities).
	Communities MembershipCommands
	// Follows are the follow commands (process.Wiring.Commands).
	Follows FollowCommands
	// Local is the local actor directory (process.Wiring.Directory).
	Local app.LocalActors
	// Following is the follows read model (process.Wiring.Follows).
	Following FollowedActors
	// Fetch fetches announced objects given by IRI (a Fetcher); nil skips
	// them.
	Fetch ObjectFetcher
}

// Wire binds the three reactors to d.
func Wire(r Reactors, d WireDeps) error {
	if err := r.Inbound.Bind(InboundDeps{Posts: d.Posts, Local: d.Local, Following: d.Following, Fetch: d.Fetch}); err != nil {
		return err
	}
	if err := r.Membership.Bind(MembershipDeps{Communities: d.Communities, Follows: d.Follows, Local: d.Local}); err != nil {
		return err
	}
	return r.Announcer.Bind(d.Posts)
}
