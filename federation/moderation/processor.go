package moderation

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
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Name is the processor's projection name.
const Name = "moderationprocessor"

// typeBlock is the ActivityStreams Block type (federation/as2 has no
// constant for it).
const typeBlock = "Block"

// Version is the processor's version. It owns no tables; a new version
// re-feeds it from position 0, which appends nothing new.
const Version = 1

// Commands are the moderation commands the processor calls
// (*app.Moderation implements them).
type Commands interface {
	ReceiveReport(ctx context.Context, f app.ReceivedFlag) (app.ModerationResult, string, error)
	ReceiveBlock(ctx context.Context, b app.ReceivedBlock) (app.ModerationResult, error)
	ReceiveUndoBlock(ctx context.Context, b app.ReceivedBlock) (app.ModerationResult, error)
}

var _ Commands = (*app.Moderation)(nil)

// ErrNotBound: the processor got events before Bind; the projection stops
// on the event and is retried.
var ErrNotBound = errors.New("moderation: processor used before Bind")

// Processor is the moderation reactor (see the package doc). Build it with
// NewProcessor, register it with the projection runner, and Bind its
// commands before the runner starts.
type Processor struct {
	reactor.Received
	cmds atomic.Pointer[Commands]
	urls urls.Scheme
	log  *slog.Logger
}

// NewProcessor returns an unbound processor for the instance with URL
// scheme u. A nil log discards.
func NewProcessor(u urls.Scheme, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processor{Received: reactor.NewReceived("moderation processor", log), urls: u, log: log}
}

// Bind sets the commands the processor calls.
func (p *Processor) Bind(c Commands) error {
	if c == nil {
		return errors.New("moderation: Bind needs the commands")
	}
	p.cmds.Store(&c)
	return nil
}

var _ projections.Projector = (*Processor)(nil)

// Name implements projections.Projector.
func (*Processor) Name() string { return Name }

// Version implements projections.Projector.
func (*Processor) Version() int { return Version }

// Apply implements projections.Projector: it processes each received
// Flag, Block and Undo{Block} in order. Refusals are logged and skipped;
// other errors stop the batch.
func (p *Processor) Apply(ctx context.Context, _ *sql.Tx, _ projections.Tables, batch []events.Envelope) error {
	c := p.cmds.Load()
	if c == nil {
		return ErrNotBound
	}
	return p.Each(ctx, batch, refused, func(ctx context.Context, rec *remote.ActivityReceived) error {
		if !interesting(rec) {
			return nil
		}
		return p.process(ctx, *c, rec)
	})
}

// interesting: only Flag, Block and Undo are decoded.
func interesting(rec *remote.ActivityReceived) bool {
	switch rec.Type {
	case as2.TypeFlag, typeBlock, as2.TypeUndo:
		return true
	}
	return false
}

func refused(err error) bool {
	return reactor.IsSkip(err) || errors.Is(err, app.ErrModerationInvalid) || errors.Is(err, app.ErrModerationNotFound) ||
		errors.Is(err, app.ErrActorNotFound) || errors.Is(err, app.ErrActorDeleted)
}

func (p *Processor) process(ctx context.Context, c Commands, rec *remote.ActivityReceived) error {
	act, err := reactor.Decode(rec, p.isLocal)
	if err != nil {
		return err
	}
	switch act.Type {
	case as2.TypeFlag:
		var targets []string
		for _, id := range act.Object.IDs() {
			if p.isLocal(id) {
				targets = append(targets, id)
			}
		}
		if len(targets) == 0 {
			return reactor.Skipf("Flag names nothing of this instance")
		}
		content := act.ContentIn()
		if content == "" {
			content = act.SummaryIn()
		}
		_, _, err := c.ReceiveReport(ctx, app.ReceivedFlag{ActivityID: rec.ActivityID, Actor: rec.Actor, Targets: targets,
			Content: content, ReceivedAt: rec.ReceivedAt})
		return err
	case typeBlock:
		if len(act.Target) > 0 {
			return nil // a ban from a remote community (Lemmy), not a block of us
		}
		object := act.ObjectID()
		if !p.isLocal(object) {
			return nil
		}
		_, err := c.ReceiveBlock(ctx, app.ReceivedBlock{ActivityID: rec.ActivityID, Actor: rec.Actor, Blocked: object})
		return err
	case as2.TypeUndo:
		inner := act.Object.First()
		if inner.Object == nil || inner.Object.Type != typeBlock {
			return nil // an Undo of something else, or of a Block by IRI only (see the report's gaps)
		}
		if a := inner.Object.ActorID(); a != "" && a != rec.Actor {
			return reactor.Skipf("Undo by %s of a Block by %s", rec.Actor, a)
		}
		object := inner.Object.ObjectID()
		if !p.isLocal(object) || len(inner.Object.Target) > 0 {
			return nil
		}
		_, err := c.ReceiveUndoBlock(ctx, app.ReceivedBlock{ActivityID: rec.ActivityID, Actor: rec.Actor, Blocked: object})
		return err
	}
	return nil
}

// isLocal reports whether iri is a URL of this instance.
func (p *Processor) isLocal(iri string) bool {
	if _, ok := p.urls.Parse(iri); ok {
		return true
	}
	return strings.HasPrefix(iri, p.urls.Base()+"/")
}
