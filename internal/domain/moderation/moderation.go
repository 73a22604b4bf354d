package moderation

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/hanse-network/hanse/events"
)

// Event type names; never rename them.
const (
	TypeDomainBlocked    = "moderation.domain_blocked"
	TypeDomainUnblocked  = "moderation.domain_unblocked"
	TypeAllowlistModeSet = "moderation.allowlist_mode_set"
	TypeDomainAllowed    = "moderation.domain_allowed"
	TypeDomainDisallowed = "moderation.domain_disallowed"
	TypeReportReceived   = "moderation.report_received"
	TypeReportResolved   = "moderation.report_resolved"
	TypeActorBlockedUs   = "moderation.actor_blocked_us"
	TypeActorUnblockedUs = "moderation.actor_unblocked_us"
)

// InstanceStream is the one stream of the instance's federation policy.
const InstanceStream = "instance-moderation"

// ReportStream is the stream of one report.
func ReportStream(reportID string) string { return "report-" + reportID }

// ActorBlockStream is the stream of the blocks of one local actor by one
// remote actor, keyed by the pair.
func ActorBlockStream(remoteActorIRI, localActorID string) string {
	h := sha256.Sum256([]byte(remoteActorIRI + "\n" + localActorID))
	return "actorblock-" + hex.EncodeToString(h[:16])
}

// Severity is how hard a domain block bites.
type Severity string

const (
	// SeverityReject refuses everything from the domain and delivers
	// nothing to it (Mastodon's "suspend").
	SeverityReject Severity = "reject"
	// SeveritySilence accepts the domain's activities but does not let
	// them create relationships (Mastodon's "limit"; see the federation
	// moderation package for what it means in Hanse).
	SeveritySilence Severity = "silence"
)

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s == SeverityReject || s == SeveritySilence }

// DomainBlocked records a block of a domain, or a change of an existing
// block's severity or comments.
type DomainBlocked struct {
	Domain   string   `json:"domain"`
	Severity Severity `json:"severity"`
	// PublicComment may be shown to anyone; PrivateComment only to admins.
	PublicComment  string `json:"publicComment,omitempty"`
	PrivateComment string `json:"privateComment,omitempty"`
}

// DomainUnblocked records that a domain block was lifted.
type DomainUnblocked struct {
	Domain string `json:"domain"`
}

// AllowlistModeSet records that the allow-list-only mode was switched on
// or off.
type AllowlistModeSet struct {
	Enabled bool `json:"enabled"`
}

// DomainAllowed adds a domain to the allow-list.
type DomainAllowed struct {
	Domain string `json:"domain"`
}

// DomainDisallowed removes a domain from the allow-list.
type DomainDisallowed struct {
	Domain string `json:"domain"`
}

// ReportReceived records a report (Flag) received from another server.
type ReportReceived struct {
	ReportID string `json:"reportId"`
	// ReporterIRI is the Flag's actor (often the remote instance actor).
	ReporterIRI string `json:"reporterIri"`
	// TargetIRIs are the reported actors and objects.
	TargetIRIs []string `json:"targetIris"`
	// Content is the reporter's comment.
	Content        string    `json:"content,omitempty"`
	FlagActivityID string    `json:"flagActivityId"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// ReportResolved records that an admin dealt with a report.
type ReportResolved struct {
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
}

// ActorBlockedUs records that a remote actor blocked a local actor.
type ActorBlockedUs struct {
	RemoteActorIRI  string `json:"remoteActorIri"`
	LocalActorID    string `json:"localActorId"`
	LocalActorIRI   string `json:"localActorIri,omitempty"`
	BlockActivityID string `json:"blockActivityId"`
}

// ActorUnblockedUs records that the remote actor undid its block.
type ActorUnblockedUs struct {
	UndoActivityID string `json:"undoActivityId"`
}

// Register declares the moderation events in r.
func Register(r *events.Registry) {
	events.Register[DomainBlocked](r, TypeDomainBlocked, 1, nil)
	events.Register[DomainUnblocked](r, TypeDomainUnblocked, 1, nil)
	events.Register[AllowlistModeSet](r, TypeAllowlistModeSet, 1, nil)
	events.Register[DomainAllowed](r, TypeDomainAllowed, 1, nil)
	events.Register[DomainDisallowed](r, TypeDomainDisallowed, 1, nil)
	events.Register[ReportReceived](r, TypeReportReceived, 1, nil)
	events.Register[ReportResolved](r, TypeReportResolved, 1, nil)
	events.Register[ActorBlockedUs](r, TypeActorBlockedUs, 1, nil)
	events.Register[ActorUnblockedUs](r, TypeActorUnblockedUs, 1, nil)
}
