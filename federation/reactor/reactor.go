package reactor

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Received is embedded by a reactor projector: it supplies Handles and
// Setup of projections.Projector and the decoding loop Each.
type Received struct {
	label string
	log   *slog.Logger
	reg   *events.Registry
}

// NewReceived returns the frame of the reactor named label (used in log
// lines and errors). A nil log discards.
func NewReceived(label string, log *slog.Logger) Received {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := events.NewRegistry()
	remote.Register(reg)
	return Received{label: label, log: log, reg: reg}
}

// Handles implements projections.Projector: received activities only.
func (Received) Handles(eventType string) bool { return eventType == remote.TypeActivityReceived }

// Setup implements projections.Projector; a reactor has no tables.
func (Received) Setup(context.Context, *sql.Tx, projections.Tables) error { return nil }

// Each decodes every event of batch and calls handle with the received
// activity, in order. An error for which refused reports true is logged and
// skipped; any other error ends the batch, naming the activity and the
// position.
func (r Received) Each(ctx context.Context, batch []events.Envelope, refused func(error) bool,
	handle func(context.Context, *remote.ActivityReceived) error) error {
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(r.reg, e)
		if err != nil {
			return err
		}
		rec, ok := payload.(*remote.ActivityReceived)
		if !ok {
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err := handle(ctx, rec); err != nil {
			if refused(err) {
				r.log.InfoContext(ctx, r.label+": activity refused", "activity", rec.ActivityID, "type", rec.Type,
					"actor", rec.Actor, "position", e.Position, "reason", err)
				continue
			}
			return fmt.Errorf("%s: %s %s at position %d: %w", r.label, rec.Type, rec.ActivityID, e.Position, err)
		}
	}
	return nil
}
