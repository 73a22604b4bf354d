package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/hanse-network/hanse/events"
)

// Event type names; never rename them.
const (
	TypeActivityReceived = "federation.activity_received"
	TypeActorFetched     = "federation.remote_actor_fetched"
	TypeActorGone        = "federation.remote_actor_gone"
	TypeActorErased      = "federation.remote_actor_erased"
)

// ActivityStream is the stream of one received activity, keyed by a hash of
// its id: appending with events.NoStream deduplicates redeliveries.
func ActivityStream(activityID string) string { return "received-" + hashIRI(activityID) }

// ActorStream is the stream of one remote actor's cached documents.
func ActorStream(actorIRI string) string { return "remote-" + hashIRI(actorIRI) }

// ErasureStream is the stream recording the erasure of one remote actor:
// an actor is erased at most once, so its single event is appended with
// events.NoStream.
func ErasureStream(actorIRI string) string { return "erasure-" + hashIRI(actorIRI) }

func hashIRI(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// ActivityReceived records a verified inbox POST.
type ActivityReceived struct {
	// ActivityID is the activity's id (for an activity without one, a
	// "urn:sha256:<hex>" of its body).
	ActivityID string `json:"activityId"`
	// Type is the primary ActivityStreams type ("Follow", "Create", …).
	Type string `json:"type"`
	// Actor is the activity's actor IRI; the signer's key owner equals it.
	Actor string `json:"actor"`
	// ObjectID is the id of the activity's object, when it has one.
	ObjectID string `json:"objectId,omitempty"`
	// SignerKeyID is the key id that signed the request.
	SignerKeyID string `json:"signerKeyId"`
	// Recipient is the local actor id whose inbox received it; empty for
	// the shared inbox.
	Recipient string `json:"recipient,omitempty"`
	// Raw is the activity exactly as received.
	Raw json.RawMessage `json:"raw"`
	// ReceivedAt is when the inbox accepted it.
	ReceivedAt time.Time `json:"receivedAt"`
}

// ActorFetched caches a remote actor document.
type ActorFetched struct {
	IRI               string          `json:"iri"`
	Type              string          `json:"type"`
	PreferredUsername string          `json:"preferredUsername,omitempty"`
	Name              string          `json:"name,omitempty"`
	Inbox             string          `json:"inbox"`
	SharedInbox       string          `json:"sharedInbox,omitempty"`
	Outbox            string          `json:"outbox,omitempty"`
	Followers         string          `json:"followers,omitempty"`
	URL               string          `json:"url,omitempty"`
	KeyID             string          `json:"keyId,omitempty"`
	PublicKeyPEM      string          `json:"publicKeyPem,omitempty"`
	FetchedAt         time.Time       `json:"fetchedAt"`
	Raw               json.RawMessage `json:"raw"`
}

// ActorGone records that a remote actor was deleted (410 or Delete).
type ActorGone struct {
	IRI    string    `json:"iri"`
	GoneAt time.Time `json:"goneAt"`
}

// ActorErased records that this instance forgot a remote actor that
// deleted itself (a Delete whose object is the signing actor): its data
// key was destroyed, so every text sealed under its IRI is unreadable for
// ever, and read models purge what they keep of it (its posts' text, its
// posts from timelines, its likes).
type ActorErased struct {
	ActorIRI string `json:"actorIri"`
}

// Register declares the remote events in r.
func Register(r *events.Registry) {
	events.Register[ActivityReceived](r, TypeActivityReceived, 1, nil)
	events.Register[ActorFetched](r, TypeActorFetched, 1, nil)
	events.Register[ActorGone](r, TypeActorGone, 1, nil)
	events.Register[ActorErased](r, TypeActorErased, 1, nil)
}
