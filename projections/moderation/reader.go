package moderation

import (
	"context"
	"errors"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/moderation"
)

// Name is the projection's name.
const Name = "moderation"

// Limits of the queries.
const (
	// MaxPageSize caps the limit of Reports.
	MaxPageSize = 200
	// MaxList caps DomainBlocks, AllowedDomains and ActorBlocks.
	MaxList = 10000
)

// Errors of the Reader.
var (
	// ErrNotFound: no such report.
	ErrNotFound = errors.New("moderation: not found")
	// ErrBadCursor: a cursor the Reader did not issue.
	ErrBadCursor = errors.New("moderation: invalid cursor")
)

// DomainBlock is one domain block.
type DomainBlock struct {
	Domain         string
	Severity       moderation.Severity
	PublicComment  string
	PrivateComment string
	// BlockedAt is when the block was last set or changed.
	BlockedAt time.Time
	// Position is the position of that event.
	Position events.Position
}

// AllowedDomain is one domain on the allow-list.
type AllowedDomain struct {
	Domain    string
	AllowedAt time.Time
	Position  events.Position
}

// Report is one report received from another server.
type Report struct {
	ID             string
	ReporterIRI    string
	TargetIRIs     []string
	Content        string
	FlagActivityID string
	ReceivedAt     time.Time
	// Position is the position of moderation.report_received; reports are
	// listed by it, newest first.
	Position   events.Position
	Resolved   bool
	ResolvedBy string
	Note       string
	ResolvedAt time.Time
}

// ReportPage is one page of reports.
type ReportPage struct {
	Items []Report
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// ActorBlock is a live block of a local actor by a remote actor.
type ActorBlock struct {
	RemoteActorIRI  string
	LocalActorID    string
	LocalActorIRI   string
	BlockActivityID string
	BlockedAt       time.Time
	Position        events.Position
}

// Reader is the read-only query interface of the moderation read model.
type Reader interface {
	// Policy decides about host (a host name, with or without port) as
	// moderation.Rules.Decide does over the current rules.
	Policy(ctx context.Context, host string) (moderation.Decision, error)
	// AllowlistMode reports whether the allow-list-only mode is on.
	AllowlistMode(ctx context.Context) (bool, error)
	// DomainBlocks lists the domain blocks by domain (at most MaxList).
	DomainBlocks(ctx context.Context) ([]DomainBlock, error)
	// AllowedDomains lists the allow-list by domain (at most MaxList).
	AllowedDomains(ctx context.Context) ([]AllowedDomain, error)
	// Reports lists reports newest first, only the open ones when
	// openOnly: at most limit (1..MaxPageSize) from cursor ("" first).
	Reports(ctx context.Context, openOnly bool, cursor string, limit int) (ReportPage, error)
	// Report returns one report; ErrNotFound when there is none.
	Report(ctx context.Context, id string) (Report, error)
	// ActorBlocks lists the live blocks of local actor localActorID by
	// remote actors ("" for every local actor), newest first (at most
	// MaxList).
	ActorBlocks(ctx context.Context, localActorID string) ([]ActorBlock, error)
}
