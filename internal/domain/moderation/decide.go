package moderation

import (
	"errors"
	"fmt"
	"github.com/hanse-network/hanse/internal/domain/fold"
	"unicode/utf8"
)

// Errors of the decisions.
var (
	// ErrInvalid: a command lacks a required field or carries a bad value.
	ErrInvalid = errors.New("moderation: invalid command")
	// ErrNotFound: no such block, allowed domain or report.
	ErrNotFound = errors.New("moderation: not found")
)

// Limits of free text, in characters.
const (
	MaxCommentLength = 5000
	MaxReportContent = 10000
	// MaxReportTargets bounds the actors and objects one report names.
	MaxReportTargets = 200
)

// InstanceState is the instance's policy folded from InstanceStream.
type InstanceState struct {
	Rules
}

// Apply folds one event of InstanceStream into the state.
func (s *InstanceState) Apply(payload any) error {
	if s.Blocks == nil {
		s.Blocks = map[string]Block{}
	}
	if s.Allowed == nil {
		s.Allowed = map[string]bool{}
	}
	switch e := payload.(type) {
	case *DomainBlocked:
		return s.Apply(*e)
	case *DomainUnblocked:
		return s.Apply(*e)
	case *AllowlistModeSet:
		return s.Apply(*e)
	case *DomainAllowed:
		return s.Apply(*e)
	case *DomainDisallowed:
		return s.Apply(*e)
	case DomainBlocked:
		s.Blocks[e.Domain] = Block{Severity: e.Severity, PublicComment: e.PublicComment, PrivateComment: e.PrivateComment}
	case DomainUnblocked:
		delete(s.Blocks, e.Domain)
	case AllowlistModeSet:
		s.AllowlistMode = e.Enabled
	case DomainAllowed:
		s.Allowed[e.Domain] = true
	case DomainDisallowed:
		delete(s.Allowed, e.Domain)
	default:
		return fmt.Errorf("moderation: cannot apply %T to the instance policy", payload)
	}
	return nil
}

// FoldInstance folds the events of InstanceStream.
func FoldInstance(payloads ...any) (InstanceState, error) {
	s, err := fold.Fold[InstanceState](payloads...)
	if err != nil {
		return InstanceState{}, err
	}
	if s.Blocks == nil {
		s.Blocks, s.Allowed = map[string]Block{}, map[string]bool{}
	}
	return s, nil
}

// BlockDomain blocks domain with severity, or changes an existing block;
// a block identical to the current one decides nothing.
func BlockDomain(s InstanceState, domain string, severity Severity, publicComment, privateComment string) ([]any, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !severity.Valid() {
		return nil, fmt.Errorf("%w: severity %q, want reject or silence", ErrInvalid, severity)
	}
	if utf8.RuneCountInString(publicComment) > MaxCommentLength || utf8.RuneCountInString(privateComment) > MaxCommentLength {
		return nil, fmt.Errorf("%w: comments are limited to %d characters", ErrInvalid, MaxCommentLength)
	}
	b := Block{Severity: severity, PublicComment: publicComment, PrivateComment: privateComment}
	if cur, ok := s.Blocks[d]; ok && cur == b {
		return nil, nil
	}
	return []any{DomainBlocked{Domain: d, Severity: severity, PublicComment: publicComment, PrivateComment: privateComment}}, nil
}

// UnblockDomain lifts the block of domain (exactly that rule; blocks of
// its parents or subdomains stay). ErrNotFound when there is none.
func UnblockDomain(s InstanceState, domain string) ([]any, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, ok := s.Blocks[d]; !ok {
		return nil, fmt.Errorf("%w: no block of %s", ErrNotFound, d)
	}
	return []any{DomainUnblocked{Domain: d}}, nil
}

// SetAllowlistMode switches the allow-list-only mode; the current setting
// decides nothing.
func SetAllowlistMode(s InstanceState, enabled bool) ([]any, error) {
	if s.AllowlistMode == enabled {
		return nil, nil
	}
	return []any{AllowlistModeSet{Enabled: enabled}}, nil
}

// AllowDomain adds domain to the allow-list; an allowed domain decides
// nothing.
func AllowDomain(s InstanceState, domain string) ([]any, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if s.Allowed[d] {
		return nil, nil
	}
	return []any{DomainAllowed{Domain: d}}, nil
}

// DisallowDomain removes domain from the allow-list; ErrNotFound when it
// is not on it.
func DisallowDomain(s InstanceState, domain string) ([]any, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !s.Allowed[d] {
		return nil, fmt.Errorf("%w: %s is not on the allow-list", ErrNotFound, d)
	}
	return []any{DomainDisallowed{Domain: d}}, nil
}

// ReportState is one report folded from its stream.
type ReportState struct {
	Received ReportReceived
	// Exists: the report was received.
	Exists   bool
	Resolved bool
	By, Note string
}

// Apply folds one event of a report stream into the state.
func (s *ReportState) Apply(payload any) error {
	switch e := payload.(type) {
	case *ReportReceived:
		return s.Apply(*e)
	case *ReportResolved:
		return s.Apply(*e)
	case ReportReceived:
		if s.Exists {
			return fmt.Errorf("moderation: %s on an existing report", TypeReportReceived)
		}
		s.Received, s.Exists = e, true
	case ReportResolved:
		if !s.Exists {
			return fmt.Errorf("moderation: %s before %s", TypeReportResolved, TypeReportReceived)
		}
		s.Resolved, s.By, s.Note = true, e.By, e.Note
	default:
		return fmt.Errorf("moderation: cannot apply %T to a report", payload)
	}
	return nil
}

// ReceiveReport records a received report; the same report (stream)
// received again decides nothing. The content is cut to MaxReportContent
// characters and the targets to MaxReportTargets.
func ReceiveReport(s ReportState, in ReportReceived) ([]any, error) {
	if in.ReportID == "" || in.ReporterIRI == "" || in.FlagActivityID == "" || len(in.TargetIRIs) == 0 || in.ReceivedAt.IsZero() {
		return nil, fmt.Errorf("%w: a report needs its id, reporter, Flag id, receipt time and at least one target", ErrInvalid)
	}
	if s.Exists {
		return nil, nil
	}
	if utf8.RuneCountInString(in.Content) > MaxReportContent {
		in.Content = string([]rune(in.Content)[:MaxReportContent])
	}
	if len(in.TargetIRIs) > MaxReportTargets {
		in.TargetIRIs = in.TargetIRIs[:MaxReportTargets]
	}
	in.TargetIRIs = append([]string(nil), in.TargetIRIs...)
	in.ReceivedAt = in.ReceivedAt.UTC()
	return []any{in}, nil
}

// ResolveReport marks a report resolved by by; resolving a resolved report
// decides nothing. ErrNotFound for a report never received.
func ResolveReport(s ReportState, by, note string) ([]any, error) {
	if by == "" {
		return nil, fmt.Errorf("%w: resolving needs who resolves", ErrInvalid)
	}
	if utf8.RuneCountInString(note) > MaxCommentLength {
		return nil, fmt.Errorf("%w: the note is limited to %d characters", ErrInvalid, MaxCommentLength)
	}
	if !s.Exists {
		return nil, ErrNotFound
	}
	if s.Resolved {
		return nil, nil
	}
	return []any{ReportResolved{By: by, Note: note}}, nil
}

// ActorBlockState is the block of one local actor by one remote actor.
type ActorBlockState struct {
	Blocked         bool
	RemoteActorIRI  string
	LocalActorID    string
	LocalActorIRI   string
	BlockActivityID string
	seen            map[string]bool
}

// Seen reports whether the stream records activity id.
func (s ActorBlockState) Seen(id string) bool { return id != "" && s.seen[id] }

func (s *ActorBlockState) see(id string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[id] = true
}

// Apply folds one event of an actor block stream into the state.
func (s *ActorBlockState) Apply(payload any) error {
	switch e := payload.(type) {
	case *ActorBlockedUs:
		return s.Apply(*e)
	case *ActorUnblockedUs:
		return s.Apply(*e)
	case ActorBlockedUs:
		if s.RemoteActorIRI != "" && (e.RemoteActorIRI != s.RemoteActorIRI || e.LocalActorID != s.LocalActorID) {
			return fmt.Errorf("moderation: %s of %s by %s on the stream of %s by %s", TypeActorBlockedUs,
				e.LocalActorID, e.RemoteActorIRI, s.LocalActorID, s.RemoteActorIRI)
		}
		s.Blocked, s.RemoteActorIRI, s.LocalActorID, s.LocalActorIRI, s.BlockActivityID =
			true, e.RemoteActorIRI, e.LocalActorID, e.LocalActorIRI, e.BlockActivityID
		s.see(e.BlockActivityID)
	case ActorUnblockedUs:
		if !s.Blocked {
			return fmt.Errorf("moderation: %s without a block", TypeActorUnblockedUs)
		}
		s.Blocked = false
		s.see(e.UndoActivityID)
	default:
		return fmt.Errorf("moderation: cannot apply %T to an actor block", payload)
	}
	return nil
}

// ReceiveBlock records that a remote actor blocked a local one; a Block
// already recorded, or a block of an actor who is blocked already, decides
// nothing.
func ReceiveBlock(s ActorBlockState, in ActorBlockedUs) ([]any, error) {
	if in.RemoteActorIRI == "" || in.LocalActorID == "" || in.BlockActivityID == "" {
		return nil, fmt.Errorf("%w: a Block needs its id, the remote actor and the local actor", ErrInvalid)
	}
	if s.Blocked || s.Seen(in.BlockActivityID) {
		return nil, nil
	}
	return []any{in}, nil
}

// ReceiveUndoBlock records that the remote actor undid its block; without
// a block (or for an Undo already recorded) it decides nothing.
func ReceiveUndoBlock(s ActorBlockState, undoActivityID string) ([]any, error) {
	if undoActivityID == "" {
		return nil, fmt.Errorf("%w: an Undo needs its id", ErrInvalid)
	}
	if !s.Blocked || s.Seen(undoActivityID) {
		return nil, nil
	}
	return []any{ActorUnblockedUs{UndoActivityID: undoActivityID}}, nil
}
