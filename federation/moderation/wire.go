package moderation

import (
	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/projections"
	readmodel "github.com/hanse-network/hanse/projections/moderation"
)

// Wiring is the moderation slice, built by Wire.
type Wiring struct {
	// Commands are the moderation commands (admin API, processor).
	Commands *app.Moderation
	// Reader queries the moderation read model (admin API).
	Reader readmodel.Reader
	// Policy answers the inbox, the resolver and the delivery workers.
	Policy Policy
}

// Wire builds the moderation commands and queries over store and the
// runner's read-model database db (which must run the moderation
// projector and p), and binds the processor p to them. local finds local
// actors (process.LocalActorDirectory); origin is this instance's host
// (with port), which no domain block may cover.
func Wire(p *Processor, store events.Store, registry *events.Registry, db *projections.DB, local app.LocalActors,
	origin string) (Wiring, error) {
	cmds := app.NewModeration(store, registry, local, origin)
	if err := p.Bind(cmds); err != nil {
		return Wiring{}, err
	}
	q := readmodel.NewReader(db)
	return Wiring{Commands: cmds, Reader: q, Policy: ReadModelPolicy{Reader: q}}, nil
}
