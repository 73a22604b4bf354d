package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hanse-network/hanse/events"
	dmedia "github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/media"
)

// Errors of the media commands; HTTP maps them to 404, 413, 415 and 422.
var (
	// ErrMediaNotFound: no live upload with that id (for a post: none of
	// the author's).
	ErrMediaNotFound = errors.New("app: media not found")
	// ErrMediaTooLarge: the file exceeds the store's size limit.
	ErrMediaTooLarge = errors.New("app: media file too large")
	// ErrMediaUnsupportedType: the file is not of an allowed type.
	ErrMediaUnsupportedType = errors.New("app: media type not allowed")
)

// MediaInfo describes an uploaded file.
type MediaInfo struct {
	ID   string
	Type string
	Size int64
}

// Media is the application service for uploaded files; it implements
// AccountPurger. Set the fields (or use NewMedia) before the first call;
// nil Clock and NewID default to time.Now and events.NewUUID.
type Media struct {
	Store    events.Store
	Registry *events.Registry
	// Files keeps the bytes.
	Files *media.Store
	// Sealer seals alt texts under the owner's data key.
	Sealer personal.Sealer
	Clock  func() time.Time
	NewID  func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
}

var _ AccountPurger = (*Media)(nil)

// NewMedia returns the media commands over store and files, registering
// the post and media events in registry unless they are already
// registered.
func NewMedia(store events.Store, registry *events.Registry, files *media.Store, sealer personal.Sealer, origin string) *Media {
	registerPostEvents(registry)
	return &Media{Store: store, Registry: registry, Files: files, Sealer: sealer, Clock: time.Now, NewID: events.NewUUID, Origin: origin}
}

func (m *Media) id() events.UUID {
	if m.NewID == nil {
		return events.NewUUID()
	}
	return m.NewID()
}

func (m *Media) meta(by string) events.Metadata {
	now := time.Now
	if m.Clock != nil {
		now = m.Clock
	}
	return events.Metadata{Actor: by, CorrelationID: m.id().String(), OccurredAt: now().UTC(), Origin: m.Origin}
}

// Upload stores the file read from r for owner (a local account id) and
// records it: the bytes are written durably first, then the upload is
// listed in the owner's index stream, then media.uploaded is appended.
// declaredType is the client's Content-Type ("" if none) and must agree
// with the file's content; description is the alt text (sealed). On a
// failure after the file was written it is deleted again.
func (m *Media) Upload(ctx context.Context, owner string, r io.Reader, declaredType, description string) (MediaInfo, events.Position, error) {
	if owner == "" {
		return MediaInfo{}, 0, &ValidationError{Field: "owner", Reason: "must not be empty"}
	}
	if err := dmedia.CheckDescription(description); err != nil {
		return MediaInfo{}, 0, mediaError(err)
	}
	id := m.id().String()
	info, err := m.Files.Put(id, r, declaredType)
	if err != nil {
		return MediaInfo{}, 0, mediaError(err)
	}
	pos, err := m.record(ctx, owner, info, description)
	if err != nil {
		if derr := m.Files.Delete(id); derr != nil {
			err = errors.Join(err, derr)
		}
		return MediaInfo{}, 0, err
	}
	return MediaInfo{ID: id, Type: info.Type, Size: info.Size}, pos, nil
}

func (m *Media) record(ctx context.Context, owner string, info media.Info, description string) (events.Position, error) {
	ev, err := dmedia.Upload(dmedia.State{}, dmedia.NewUpload{ID: info.ID, OwnerID: owner, MediaType: info.Type,
		Size: info.Size, SHA256: info.SHA256, Description: description}, m.Sealer)
	if err != nil {
		return 0, mediaError(err)
	}
	meta := m.meta(owner)
	index, err := m.Registry.NewEvent(m.id(), dmedia.OwnerIndexed{MediaID: info.ID}, meta)
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	if _, err := m.Store.Append(ctx, dmedia.OwnerStream(owner), events.Any, index); err != nil {
		return 0, fmt.Errorf("app: index media %s: %w", info.ID, err)
	}
	data, err := m.Registry.NewEvent(m.id(), ev, meta)
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	res, err := m.Store.Append(ctx, dmedia.Stream(info.ID), events.NoStream, data)
	if err != nil {
		return 0, fmt.Errorf("app: record media %s: %w", info.ID, err)
	}
	return res.Position, nil
}

// loadMedia folds media id's stream.
func (m *Media) load(ctx context.Context, id string) (dmedia.State, uint64, error) {
	var s dmedia.State
	var rev uint64
	err := readFold(ctx, m.Store, m.Registry, dmedia.Stream(id), func(e events.Envelope, payload any) error {
		rev = e.Revision
		return s.Apply(payload)
	})
	return s, rev, err
}

// Open returns the bytes of a live upload with its type and size;
// ErrMediaNotFound for unknown, deleted or missing files.
func (m *Media) Open(ctx context.Context, id string) (io.ReadSeekCloser, MediaInfo, error) {
	s, _, err := m.load(ctx, id)
	if err != nil {
		return nil, MediaInfo{}, err
	}
	if s.Live() != nil {
		return nil, MediaInfo{}, fmt.Errorf("%w: %s", ErrMediaNotFound, id)
	}
	f, info, err := m.Files.Open(id)
	if errors.Is(err, media.ErrNotFound) {
		return nil, MediaInfo{}, fmt.Errorf("%w: %s", ErrMediaNotFound, id)
	}
	if err != nil {
		return nil, MediaInfo{}, err
	}
	return f, MediaInfo{ID: id, Type: s.MediaType, Size: info.Size}, nil
}

// PurgeAccount deletes every file accountID uploaded (found through the
// owner's index stream) and records media.deleted for each. It is
// idempotent: run it again after a crash and it finishes the job.
func (m *Media) PurgeAccount(ctx context.Context, accountID string) error {
	var ids []string
	seen := map[string]bool{}
	err := readFold(ctx, m.Store, m.Registry, dmedia.OwnerStream(accountID), func(_ events.Envelope, payload any) error {
		ix, ok := payload.(*dmedia.OwnerIndexed)
		if !ok {
			return fmt.Errorf("unexpected %T in an owner index", payload)
		}
		if !seen[ix.MediaID] {
			seen[ix.MediaID] = true
			ids = append(ids, ix.MediaID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := m.Files.Delete(id); err != nil {
			return fmt.Errorf("app: purge media %s: %w", id, err)
		}
		if err := m.markDeleted(ctx, id, accountID); err != nil {
			return err
		}
	}
	return nil
}

// markDeleted appends media.deleted unless the file is unknown (an
// upload that crashed before its event) or already deleted.
func (m *Media) markDeleted(ctx context.Context, id, accountID string) error {
	eventID := events.DerivedUUID(dmedia.TypeDeleted, id)
	for attempt := 0; ; attempt++ {
		s, rev, err := m.load(ctx, id)
		if err != nil {
			return err
		}
		if s.Live() != nil {
			return nil
		}
		data, err := m.Registry.NewEvent(eventID, dmedia.Deleted{Reason: "account erased"}, m.meta(accountID))
		if err != nil {
			return fmt.Errorf("app: %w", err)
		}
		_, err = m.Store.Append(ctx, dmedia.Stream(id), events.Exact(rev), data)
		if errors.Is(err, events.ErrWrongExpectedRevision) && attempt < MaxConflictRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("app: record deletion of media %s: %w", id, err)
		}
		return nil
	}
}

// mediaError maps the media domain's and store's errors to the
// application's.
func mediaError(err error) error {
	var fe *dmedia.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, media.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrMediaTooLarge, err)
	case errors.Is(err, media.ErrUnsupportedType):
		return fmt.Errorf("%w: %w", ErrMediaUnsupportedType, err)
	case errors.Is(err, media.ErrTypeMismatch):
		return &ValidationError{Field: "file", Reason: err.Error()}
	case errors.Is(err, media.ErrEmpty):
		return &ValidationError{Field: "file", Reason: "must not be empty"}
	}
	return err
}
