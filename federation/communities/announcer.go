package communities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// AnnouncerName is the announcer's projection name.
const AnnouncerName = "communityannouncer"

// AnnouncerVersion is its version (no tables; see InboundVersion).
const AnnouncerVersion = 1

// PostAnnouncer is the command the announcer calls (*app.Posts).
type PostAnnouncer interface {
	// Announce records that the post's community shared it; an announced
	// post gives (0, nil).
	Announce(ctx context.Context, postID string) (events.Position, error)
}

// Announcer is the reactor by which a community's Group shares every post
// published into the community (FEP-1b12): post.published with a
// community and a shareable visibility (public, unlisted, members) →
// Posts.Announce. The announcement's event id derives from the post, so
// replays append nothing; federation/outbound turns post.announced into
// the Group's Announce activities.
type Announcer struct {
	posts atomic.Pointer[PostAnnouncer]
	reg   *events.Registry
	log   *slog.Logger
}

var _ projections.Projector = (*Announcer)(nil)

// NewAnnouncer returns an unbound announcer. A nil log discards.
func NewAnnouncer(log *slog.Logger) *Announcer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := events.NewRegistry()
	post.Register(reg)
	return &Announcer{reg: reg, log: log}
}

// Bind sets the command the announcer calls.
func (a *Announcer) Bind(p PostAnnouncer) error {
	if p == nil {
		return errors.New("communities: the announcer needs the post commands")
	}
	a.posts.Store(&p)
	return nil
}

// Name implements projections.Projector.
func (*Announcer) Name() string { return AnnouncerName }

// Version implements projections.Projector.
func (*Announcer) Version() int { return AnnouncerVersion }

// Handles implements projections.Projector.
func (*Announcer) Handles(t string) bool { return t == post.TypePublished }

// Setup implements projections.Projector; the announcer has no tables.
func (*Announcer) Setup(context.Context, *sql.Tx, projections.Tables) error { return nil }

// Apply implements projections.Projector.
func (a *Announcer) Apply(ctx context.Context, _ *sql.Tx, _ projections.Tables, batch []events.Envelope) error {
	p := a.posts.Load()
	if p == nil {
		return ErrNotBound
	}
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(a.reg, e)
		if err != nil {
			return err
		}
		ev, ok := payload.(*post.Published)
		if !ok || ev.CommunityID == "" || !post.Shareable(ev.Visibility) {
			continue
		}
		if _, err := (*p).Announce(ctx, ev.PostID); err != nil {
			if Refused(err) {
				a.log.InfoContext(ctx, "community announcer: not announced", "post", ev.PostID, "reason", err)
				continue
			}
			return fmt.Errorf("community announcer: post %s at position %d: %w", ev.PostID, e.Position, err)
		}
	}
	return nil
}
