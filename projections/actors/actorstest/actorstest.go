package actorstest

import (
	"context"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections/actors"
)

// Memory is an actors.Reader over a fixed list.
type Memory struct {
	// Actors are the actors the reader knows.
	Actors []actors.Actor
	// Totals is what Counts answers.
	Totals actors.Counts
	// Err, when set, is returned by every method.
	Err error
}

var _ actors.Reader = (*Memory)(nil)

func (m *Memory) find(match func(actors.Actor) bool) (actors.Actor, error) {
	if m.Err != nil {
		return actors.Actor{}, m.Err
	}
	for _, a := range m.Actors {
		if match(a) {
			return a, nil
		}
	}
	return actors.Actor{}, actors.ErrNotFound
}

// ByUsername implements actors.Reader (case-insensitively).
func (m *Memory) ByUsername(_ context.Context, username string) (actors.Actor, error) {
	return m.find(func(a actors.Actor) bool { return strings.EqualFold(a.Username, username) })
}

// ByID implements actors.Reader.
func (m *Memory) ByID(_ context.Context, id string) (actors.Actor, error) {
	return m.find(func(a actors.Actor) bool { return a.ID == id })
}

// InstanceActor implements actors.Reader: the first Application actor.
func (m *Memory) InstanceActor(context.Context) (actors.Actor, error) {
	return m.find(func(a actors.Actor) bool { return a.Kind == actor.KindApplication })
}

// Counts implements actors.Reader.
func (m *Memory) Counts(context.Context) (actors.Counts, error) { return m.Totals, m.Err }
