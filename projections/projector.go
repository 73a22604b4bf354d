package projections

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"

	"github.com/hanse-network/hanse/events"
)

// Projector builds one read model from the log of all events.
//
// Implementations must be deterministic: applying the same events to empty
// tables must always give the same rows, so that a rebuild reproduces the
// read model exactly (see Checksum).
type Projector interface {
	// Name is the projector's stable identity: 1 to 32 lower-case ASCII
	// letters and digits, starting with a letter.
	Name() string
	// Version declares the shape of the projector's tables (≥ 1). A new
	// version is built from position 0 beside the live one (blue/green).
	Version() int
	// Handles reports whether the projector wants events of this type.
	// Other events are skipped by declaration; they never reach Apply.
	Handles(eventType string) bool
	// Setup creates the build's tables (and indexes), named with t.Name. It
	// runs once per build, in the transaction that registers the build.
	// Tables may only be created here, never in Apply.
	Setup(ctx context.Context, tx *sql.Tx, t Tables) error
	// Apply applies a batch of handled events, in global order, inside the
	// transaction that also stores the checkpoint. An error (or a panic)
	// rolls the whole batch back; the runner then applies the batch event
	// by event to find the failing event, and stops there. Apply must keep
	// no state outside the transaction, and the batch is valid only during
	// the call.
	Apply(ctx context.Context, tx *sql.Tx, t Tables, batch []events.Envelope) error
}

var (
	projectorNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)
	tableSuffixPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// ValidateName checks a projector name: 1 to 32 lower-case ASCII letters and
// digits, starting with a letter. Underscores are excluded so that table
// prefixes of different projectors can never overlap.
func ValidateName(name string) error {
	if !projectorNamePattern.MatchString(name) {
		return fmt.Errorf("%w: %q (want 1-32 of a-z, 0-9, starting with a letter)", ErrInvalidProjector, name)
	}
	return nil
}

func validateProjector(p Projector) error {
	if p == nil {
		return fmt.Errorf("%w: nil projector", ErrInvalidProjector)
	}
	if err := ValidateName(p.Name()); err != nil {
		return err
	}
	if p.Version() < 1 {
		return fmt.Errorf("%w: %s has version %d, want ≥ 1", ErrInvalidProjector, p.Name(), p.Version())
	}
	return nil
}

// Tables names the tables of one build of a projector. Every table of a
// build starts with the build's Prefix, so builds of different versions or
// generations live side by side in one database.
type Tables struct {
	projection string
	version    int
	generation int
}

// NewTables returns the table namespace of a build. Projectors receive it
// from the runner; tests of query code may build one directly.
func NewTables(projection string, version, generation int) Tables {
	return Tables{projection: projection, version: version, generation: generation}
}

// Projection is the projector name.
func (t Tables) Projection() string { return t.projection }

// Version is the projector version of the build.
func (t Tables) Version() int { return t.version }

// Generation counts the builds of the same version: 0 for the first,
// incremented by every explicit rebuild.
func (t Tables) Generation() int { return t.generation }

// Prefix is the common prefix of the build's table names, for example
// "activity_v2_" (generation 0) or "activity_v2r3_" (generation 3).
func (t Tables) Prefix() string {
	if t.generation == 0 {
		return fmt.Sprintf("%s_v%d_", t.projection, t.version)
	}
	return fmt.Sprintf("%s_v%dr%d_", t.projection, t.version, t.generation)
}

// Name returns the full name of the build's table with the given suffix,
// for example Name("entries") → "activity_v2_entries". The suffix must be
// 1-63 of a-z, 0-9 and '_', starting with a letter; Setup fails on tables
// whose names break this rule, so the result is safe to splice into SQL.
func (t Tables) Name(suffix string) string { return t.Prefix() + suffix }

// String renders the build for logs, e.g. "activity v2 (generation 0)".
func (t Tables) String() string {
	return fmt.Sprintf("%s v%d (generation %d)", t.projection, t.version, t.generation)
}
