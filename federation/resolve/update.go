package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// ErrRecording: the document could not be recorded (the event store
// failed). Unlike the other errors of Update, it is this instance's
// failure, not the remote's: retry later.
var ErrRecording = errors.New("resolve: recording the actor document failed")

// UpdateOutcome says what Update did with an actor document a remote server
// pushed.
type UpdateOutcome int

// Outcomes of Update.
const (
	// UpdateRecorded: the pushed document was recorded as it came (its keys
	// are the ones already known).
	UpdateRecorded UpdateOutcome = iota + 1
	// UpdateRefetched: the pushed document was not trusted (its keys differ
	// from the known ones, none are known, it was given by IRI only, or it
	// is no usable actor document), so the actor was fetched with a signed
	// GET and that document was recorded instead.
	UpdateRefetched
	// UpdateStale: a document fetched or pushed at or after the moment the
	// update was received is recorded already (or the actor was recorded
	// gone since); nothing was done. Re-processing an old Update, e.g. when
	// the inbox processor is rebuilt, ends here.
	UpdateStale
)

// String names the outcome for logs.
func (o UpdateOutcome) String() string {
	switch o {
	case UpdateRecorded:
		return "recorded"
	case UpdateRefetched:
		return "refetched"
	case UpdateStale:
		return "stale"
	}
	return fmt.Sprintf("UpdateOutcome(%d)", int(o))
}

// Update takes an actor document that iri's server pushed, the object of an
// Update{Person|Group|…} whose sender was verified to be iri, received at
// receivedAt (zero: now), and records it as Actor would record a fetched
// one: as a federation.remote_actor_fetched event (FetchedAt receivedAt),
// in the LRU and hence the remoteactors read model. doc nil means the
// Update named the actor by IRI only.
//
// The pushed document is trusted only for what its sender may change
// without proving anything: name, summary, icon, fields, endpoints. Its key
// material — publicKey, assertionMethod, a top-level publicKeyPem — must be
// the one already known for iri: a signature checked with the old key must
// not install a new one. When the keys differ, when no document of iri is
// known, when doc is nil, or when it is no usable actor document, the
// actor is refetched with a signed GET (as Mastodon does on key changes)
// and the served document recorded instead; the refetch is paced like
// Refresh (ErrRefreshTooSoon within RefreshInterval of the last fetch).
//
// An update received no later than the recorded document was fetched (or
// than the actor was recorded gone) changes nothing (UpdateStale), so
// updates processed out of order or again leave the newest document.
//
// Errors: ErrLocal for this instance's IRIs; ErrInvalidDocument when doc's
// id is not iri; moderation.ErrDomainBlocked for a rejected domain; the
// errors of a fetch (fetch errors, ErrGone, ErrNotFound, ErrInvalidDocument,
// ErrRefreshTooSoon) when refetching; ErrRecording when the event store
// failed to record the pushed document.
func (r *Resolver) Update(ctx context.Context, iri string, doc []byte, receivedAt time.Time) (remote.ActorFetched, UpdateOutcome, error) {
	if _, ok := r.o.Scheme.Parse(iri); ok {
		return remote.ActorFetched{}, 0, fmt.Errorf("%w: %s is this instance's", ErrLocal, iri)
	}
	if err := moderation.RefuseURL(ctx, r.o.Policy, iri); err != nil {
		return remote.ActorFetched{}, 0, err
	}
	if receivedAt.IsZero() {
		receivedAt = r.now()
	}
	receivedAt = receivedAt.UTC()
	var pushed remote.ActorFetched
	usable := false
	if doc != nil {
		var err error
		if pushed, err = r.parseActor(doc, iri, ""); err == nil {
			pushed.FetchedAt = receivedAt
			usable = true
		} else if o, derr := as2.Decode(doc); derr == nil && o.ID != iri {
			return remote.ActorFetched{}, 0, fmt.Errorf("%w: pushed document of %s has id %q", ErrInvalidDocument, iri, o.ID)
		}
	}
	e, known := r.current(ctx, iri)
	if known && !receivedAt.After(e.at) {
		return e.actor, UpdateStale, nil
	}
	if usable && known && !e.gone && len(e.actor.Raw) > 0 && sameKeys(e.actor.Raw, pushed.Raw) {
		if _, _, err := r.o.Recorder.RecordRemoteActor(ctx, pushed); err != nil {
			return remote.ActorFetched{}, 0, fmt.Errorf("%w: %s: %w", ErrRecording, iri, err)
		}
		r.cache.put(iri, entry{actor: pushed, at: pushed.FetchedAt})
		return pushed, UpdateRecorded, nil
	}
	if r.o.RefreshInterval > 0 && !e.fetched.IsZero() && r.now().Sub(e.fetched) < r.o.RefreshInterval {
		return remote.ActorFetched{}, 0, fmt.Errorf("%w: %s", ErrRefreshTooSoon, iri)
	}
	a, err := r.flight.do(iri, func() (remote.ActorFetched, error) { return r.fetchActor(ctx, iri) })
	if err != nil {
		return remote.ActorFetched{}, 0, err
	}
	return a, UpdateRefetched, nil
}

// current returns what is known of iri without fetching: the LRU entry,
// else the remoteactors read model's row (then cached). An entry of an
// actor known only as gone has an empty actor; at is the gone time then.
func (r *Resolver) current(ctx context.Context, iri string) (entry, bool) {
	if e, ok := r.cache.get(iri); ok {
		return e, true
	}
	if r.o.Directory == nil {
		return entry{}, false
	}
	a, err := r.o.Directory.ByIRI(ctx, iri)
	if err != nil {
		return entry{}, false
	}
	e := entry{actor: a.ActorFetched, gone: a.Gone(), at: a.FetchedAt}
	if a.Gone() {
		e.at = a.GoneAt
	}
	if a.ActorFetched.IRI == "" || len(a.Raw) == 0 {
		e.actor = remote.ActorFetched{}
	}
	r.cache.put(iri, e)
	return e, true
}

// sameKeys reports whether two actor documents carry the same key
// material, as httpsig.PublicKeyFromDocument reads it (see keyMaterial).
func sameKeys(a, b []byte) bool {
	ka, errA := keyMaterial(a)
	kb, errB := keyMaterial(b)
	return errA == nil && errB == nil && slices.Equal(ka, kb)
}

// keyMaterial lists, sorted, every key an actor document offers for
// signature checks: a top-level publicKeyPem, each publicKey and each
// assertionMethod (as id, owner or controller, PEM with its white space
// removed, multibase), and keys given by reference only. The PEMs are
// compared as text, not parsed: a key that does not parse is still a key
// the document claims, and two spellings of one key at worst cost a
// refetch.
func keyMaterial(raw []byte) ([]string, error) {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, err
	}
	docID, _ := root["id"].(string)
	var out []string
	add := func(m map[string]any, ownerField string) {
		id, _ := m["id"].(string)
		owner, _ := m[ownerField].(string)
		if owner == "" {
			owner = docID
		}
		pem, _ := m["publicKeyPem"].(string)
		mb, _ := m["publicKeyMultibase"].(string)
		out = append(out, strings.Join([]string{"key", id, owner, strings.Join(strings.Fields(pem), ""), mb}, "\x00"))
	}
	if _, ok := root["publicKeyPem"]; ok {
		add(root, "owner")
	}
	for _, field := range []string{"publicKey", "assertionMethod"} {
		owner := "owner"
		if field == "assertionMethod" {
			owner = "controller"
		}
		v := root[field]
		list, ok := v.([]any)
		if !ok && v != nil {
			list = []any{v}
		}
		for _, el := range list {
			switch x := el.(type) {
			case map[string]any:
				add(x, owner)
			case string:
				out = append(out, "ref\x00"+field+"\x00"+x)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
