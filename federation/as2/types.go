package as2

import (
	"encoding/json"
	"time"
)

// Kind is the broad class of an object, derived from its primary type (see
// KindOf) or, for types no vocabulary knows, from its shape.
type Kind uint8

// The kinds. KindObject is the zero value.
const (
	// KindObject: any other object (Note, Article, Event, Tombstone, Place…).
	KindObject Kind = iota
	// KindActivity: an activity (Create, Follow, Undo, EmojiReact…).
	KindActivity
	// KindActor: Person, Group, Organization, Application or Service.
	KindActor
	// KindCollection: Collection, OrderedCollection and their pages.
	KindCollection
	// KindLink: Link, Mention, Hashtag.
	KindLink
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindActivity:
		return "activity"
	case KindActor:
		return "actor"
	case KindCollection:
		return "collection"
	case KindLink:
		return "link"
	default:
		return "object"
	}
}

// Object is Hanse's plain view of one ActivityStreams object: an activity,
// an actor, a post, an event, a collection or a link. Decode fills it from
// any incoming document; Encode writes it as a document with Hanse's
// @context. Properties that do not apply stay at their zero value; the
// sections Profile, Event, Question and Collection are non-nil only for
// objects of that sort.
type Object struct {
	// ID is the object's IRI. It may be empty (transient objects) or not
	// absolute; the decoder reports both in Issues.
	ID string
	// Types lists every type given, with the AS2 prefixes ("as:",
	// "https://www.w3.org/ns/activitystreams#") removed.
	Types []string
	// Type is the primary type: the first AS2 type in Types, else the first
	// type another known vocabulary defines, else Types[0]. The encoder
	// writes Types when set, else Type.
	Type string
	// Kind classifies Type (see KindOf). The encoder ignores it.
	Kind Kind

	// Actor, Object, Target, Origin, Instrument and Result are the activity
	// properties: IRIs or inline objects, possibly several.
	Actor, Object, Target, Origin, Instrument, Result Refs

	// To, CC, BTo, BCC and Audience are the addressing, always as IRIs.
	// Encode never writes BTo and BCC (AS2 §5.1: they are removed before
	// delivery).
	To, CC, BTo, BCC, Audience []string

	// AttributedTo names the author(s), or for Lemmy communities the
	// moderators collection.
	AttributedTo Refs
	// InReplyTo is the object replied to.
	InReplyTo Refs
	// Location is where an event or post takes place (usually an inline
	// Place, see Address, Latitude and Longitude).
	Location Refs
	// Replies is the replies collection (an IRI or an inline Collection).
	Replies Refs

	// Published, Updated, StartTime, EndTime and Deleted are in UTC; the
	// zero time means absent (or unparsable, which is reported in Issues).
	Published, Updated, StartTime, EndTime, Deleted time.Time

	// Name, Summary and Content are the plain values; the Maps hold the
	// per-language values (nameMap, summaryMap, contentMap). JSON null is
	// read as absent. Use NameIn, SummaryIn and ContentIn to pick a language.
	Name, Summary, Content          string
	NameMap, SummaryMap, ContentMap Map
	// MediaType is the media type of Content (or of a Link or Document).
	MediaType string
	// Source is the author's source text (Lemmy, Misskey, Friendica).
	Source *Source
	// Sensitive marks content behind a warning (as:sensitive).
	Sensitive bool

	// URL lists the object's links: a plain string becomes one Link with
	// only Href set; PeerTube sends arrays of Link objects.
	URL []Link
	// Href is the target of a Link (Mention, Hashtag, Link).
	Href string
	// Tag holds mentions, hashtags, custom emoji and other tags.
	Tag []Tag
	// Attachment holds media, links and profile fields (PropertyValue).
	Attachment []Attachment
	// Icon and Image are the avatar/thumbnail and header/preview images.
	Icon, Image []Image

	// Address, Latitude and Longitude describe a Place (schema.org
	// PostalAddress for Mobilizon; AS2 latitude/longitude).
	Address             *PostalAddress
	Latitude, Longitude *float64

	// Profile holds the actor properties (Kind == KindActor, or when the
	// object has an inbox, a public key or a preferredUsername).
	Profile *ActorProfile
	// Event holds the Mobilizon event properties (Type Event, or when any of
	// them is present).
	Event *Event
	// Question holds the poll properties (Type Question, or oneOf/anyOf).
	Question *Question
	// Collection holds the collection properties (Kind == KindCollection,
	// or items/orderedItems/totalItems present).
	Collection *Collection

	// Raw is the exact JSON the object was decoded from (for the top-level
	// object, the whole input), so that nothing is lost when an activity is
	// recorded as an event. Inline objects' Raw share memory with the
	// top-level Raw: do not modify it. The encoder ignores Raw (see
	// Ref.Raw and Verbatim).
	Raw json.RawMessage
	// Issues lists what the decoder tolerated or could not read. Only the
	// top-level object carries issues; paths name nested values.
	Issues []Issue
}

// Ref is the value of an object-valued property: an IRI, or an inline
// object whose ID (or, for a Link, Href) is copied into ID.
type Ref struct {
	// ID is the referenced IRI; it may be empty for inline objects without
	// an id.
	ID string
	// Object is the inline object, nil when the value was an IRI.
	Object *Object
	// Raw, when set, is written verbatim by the encoder instead of Object or
	// ID: a Group Announces a member's activity unmodified (FEP-1b12). The
	// decoder never sets it (it sets Object.Raw); see Verbatim.
	Raw json.RawMessage
}

// Refs is a list of references. Most properties hold one; Flag's object may
// hold several.
type Refs []Ref

// IRI returns a reference to id.
func IRI(id string) Ref { return Ref{ID: id} }

// Embed returns a reference that inlines o.
func Embed(o *Object) Ref {
	if o == nil {
		return Ref{}
	}
	return Ref{ID: refID(o), Object: o}
}

// Verbatim returns a reference that the encoder writes as o.Raw, unmodified
// (o must come from Decode). It falls back to Embed when o has no Raw.
func Verbatim(o *Object) Ref {
	r := Embed(o)
	if o != nil && len(o.Raw) > 0 {
		r.Raw = o.Raw
	}
	return r
}

// IRIs returns references to every id.
func IRIs(ids ...string) Refs {
	out := make(Refs, 0, len(ids))
	for _, id := range ids {
		out = append(out, Ref{ID: id})
	}
	return out
}

// First returns the first reference, or the zero Ref.
func (r Refs) First() Ref {
	if len(r) == 0 {
		return Ref{}
	}
	return r[0]
}

// IDs returns the non-empty ids of the references.
func (r Refs) IDs() []string {
	var out []string
	for _, x := range r {
		if x.ID != "" {
			out = append(out, x.ID)
		}
	}
	return out
}

// ActorID returns the id of the first actor, or "".
func (o *Object) ActorID() string { return o.Actor.First().ID }

// ObjectID returns the id of the first object, or "".
func (o *Object) ObjectID() string { return o.Object.First().ID }

// InlineObject returns the first object if it was given inline, else nil.
func (o *Object) InlineObject() *Object { return o.Object.First().Object }

// ContentIn returns the content in the best of the preferred languages
// (see Map.Pick), falling back to the plain content.
func (o *Object) ContentIn(langs ...string) string { return pickText(o.ContentMap, o.Content, langs) }

// NameIn returns the name in the best of the preferred languages.
func (o *Object) NameIn(langs ...string) string { return pickText(o.NameMap, o.Name, langs) }

// SummaryIn returns the summary in the best of the preferred languages.
func (o *Object) SummaryIn(langs ...string) string { return pickText(o.SummaryMap, o.Summary, langs) }

// HTMLURL returns the first URL whose media type is text/html or unset, or
// "" (PeerTube lists the watch page next to streams and torrents).
func (o *Object) HTMLURL() string {
	for _, l := range o.URL {
		if l.MediaType == "" || l.MediaType == "text/html" {
			return l.Href
		}
	}
	return ""
}

// PropertyValues returns the PropertyValue attachments (profile fields).
func (o *Object) PropertyValues() []Attachment {
	var out []Attachment
	for _, a := range o.Attachment {
		if a.Type == TypePropertyValue {
			out = append(out, a)
		}
	}
	return out
}

func pickText(m Map, plain string, langs []string) string {
	if _, text, ok := m.Pick(langs...); ok {
		return text
	}
	return plain
}

// Link is one value of url (or a Link object): where and what.
type Link struct {
	// Type is "Link" for Link objects, "" for a plain string URL.
	Type      string
	Href      string
	MediaType string
	Rel       []string
	Name      string
	Width     int
	Height    int
}

// Tag is one entry of tag: a Mention (Href = the actor), a Hashtag (Name
// "#tag", Href = the tag page), an Emoji (Name ":code:", Icon) or an
// extension type (Lemmy CommunityPostTag, PeerTube Infohash).
type Tag struct {
	Type string
	ID   string
	Name string
	Href string
	// Icon is the image of a custom Emoji.
	Icon *Image
	// Updated is the emoji's update time.
	Updated time.Time
}

// Attachment is one entry of attachment: a PropertyValue profile field
// (Name, Value as HTML), a Document/Image/Video/Audio (URL, MediaType) or a
// Link (URL = its href).
type Attachment struct {
	Type      string
	Name      string
	Value     string
	MediaType string
	URL       string
	Width     int
	Height    int
	Blurhash  string
}

// Image is an icon or image value.
type Image struct {
	Type      string
	URL       string
	MediaType string
	Name      string
	Width     int
	Height    int
}

// Source is the author's source of the content and its media type.
type Source struct {
	Content   string
	MediaType string
}

// PostalAddress is a schema.org PostalAddress (Mobilizon). Text holds an
// address given as a plain string instead.
type PostalAddress struct {
	StreetAddress   string
	PostalCode      string
	AddressLocality string
	AddressRegion   string
	AddressCountry  string
	Text            string
}

// ActorProfile holds the properties of an actor.
type ActorProfile struct {
	PreferredUsername string
	Inbox             string
	Outbox            string
	Followers         string
	Following         string
	Featured          string
	FeaturedTags      string
	// SharedInbox is endpoints.sharedInbox.
	SharedInbox string
	// PublicKeys are the legacy publicKey entries (object or array).
	PublicKeys []PublicKey
	// AssertionMethods are the FEP-521a Multikeys.
	AssertionMethods          []Multikey
	ManuallyApprovesFollowers bool
	Discoverable              bool
	// MovedTo and AlsoKnownAs support account migration (Move).
	MovedTo     string
	AlsoKnownAs []string
}

// PublicKey returns the key with the given id, or nil.
func (p *ActorProfile) PublicKey(id string) *PublicKey {
	if p == nil {
		return nil
	}
	for i := range p.PublicKeys {
		if p.PublicKeys[i].ID == id {
			return &p.PublicKeys[i]
		}
	}
	return nil
}

// PublicKey is a security-v1 publicKey.
type PublicKey struct {
	ID    string
	Owner string
	PEM   string
}

// Multikey is a FEP-521a assertionMethod key.
type Multikey struct {
	ID                 string
	Controller         string
	PublicKeyMultibase string
}

// Event holds Mobilizon's event properties. StartTime, EndTime, Location and
// the texts are on the Object.
type Event struct {
	// Timezone is an IANA zone name ("Europe/Berlin").
	Timezone string
	// JoinMode is "free", "restricted" or "invite".
	JoinMode string
	// MaximumAttendeeCapacity, RemainingAttendeeCapacity and
	// ParticipantCount are nil when absent or null (0 is a value).
	MaximumAttendeeCapacity   *int
	RemainingAttendeeCapacity *int
	ParticipantCount          *int
	IsOnline                  bool
	// InLanguage is the event's language (schema:inLanguage).
	InLanguage string
	// Status is ical:status: "TENTATIVE", "CONFIRMED" or "CANCELLED".
	Status string
}

// Question holds a poll's options. EndTime is on the Object.
type Question struct {
	// Multiple is true for anyOf (several choices), false for oneOf.
	Multiple bool
	Options  []QuestionOption
	// Closed is when the poll closed.
	Closed time.Time
	// VotersCount is toot:votersCount, nil when absent.
	VotersCount *int
}

// QuestionOption is one answer with its vote count (replies.totalItems).
type QuestionOption struct {
	Name  string
	Votes int
}

// Collection holds the properties of a collection or collection page.
// Items come from items or orderedItems; the encoder writes orderedItems
// for the Ordered types.
type Collection struct {
	// TotalItems is nil when absent.
	TotalItems *int
	First      Refs
	Last       Refs
	Next       Refs
	Prev       Refs
	Current    Refs
	PartOf     Refs
	Items      Refs
}

// IssueCode names a kind of decoding issue.
type IssueCode string

// The issue codes.
const (
	// IssueMissingID: the top-level object has no id.
	IssueMissingID IssueCode = "missing-id"
	// IssueIDNotAbsolute: an id or IRI reference is not an absolute IRI.
	IssueIDNotAbsolute IssueCode = "id-not-absolute"
	// IssueBadValue: a known property has a JSON type it cannot have.
	IssueBadValue IssueCode = "bad-value"
	// IssueBadTime: a time property could not be parsed.
	IssueBadTime IssueCode = "bad-time"
	// IssueUnknownType: none of the object's types is known.
	IssueUnknownType IssueCode = "unknown-type"
	// IssueTruncated: more issues were found than are listed (the last
	// entry, with the count in Detail).
	IssueTruncated IssueCode = "truncated"
)

// Issue is one thing the decoder tolerated: where (a path such as
// "object.tag[1].href"), what, and the offending value.
type Issue struct {
	Path   string
	Code   IssueCode
	Detail string
}

// String formats the issue.
func (i Issue) String() string { return i.Path + ": " + string(i.Code) + ": " + i.Detail }
