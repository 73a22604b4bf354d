package as2

import (
	"strings"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Namespaces and well-known IRIs.
const (
	// NSActivityStreams is the ActivityStreams 2.0 namespace and context.
	NSActivityStreams = "https://www.w3.org/ns/activitystreams"
	// NSSecurityV1 is the security vocabulary context (publicKey).
	NSSecurityV1 = "https://w3id.org/security/v1"
	// Public is the special collection addressing everyone.
	Public = "https://www.w3.org/ns/activitystreams#Public"
	// ContentType is the media type of ActivityPub documents.
	ContentType = "application/activity+json"
)

// Type names Hanse reads and writes.
const (
	TypeAccept                = "Accept"
	TypeAnnounce              = "Announce"
	TypeCreate                = "Create"
	TypeDelete                = "Delete"
	TypeFlag                  = "Flag"
	TypeFollow                = "Follow"
	TypeJoin                  = "Join"
	TypeLeave                 = "Leave"
	TypeLike                  = "Like"
	TypeReject                = "Reject"
	TypeUndo                  = "Undo"
	TypeUpdate                = "Update"
	TypeMove                  = "Move"
	TypePerson                = "Person"
	TypeGroup                 = "Group"
	TypeOrganization          = "Organization"
	TypeApplication           = "Application"
	TypeService               = "Service"
	TypeNote                  = "Note"
	TypeArticle               = "Article"
	TypePage                  = "Page"
	TypeEvent                 = "Event"
	TypePlace                 = "Place"
	TypeQuestion              = "Question"
	TypeTombstone             = "Tombstone"
	TypeImage                 = "Image"
	TypeDocument              = "Document"
	TypeVideo                 = "Video"
	TypeAudio                 = "Audio"
	TypeLink                  = "Link"
	TypeMention               = "Mention"
	TypeCollection            = "Collection"
	TypeCollectionPage        = "CollectionPage"
	TypeOrderedCollection     = "OrderedCollection"
	TypeOrderedCollectionPage = "OrderedCollectionPage"
	// TypeHashtag is as:Hashtag (Mastodon's extension, unknown to go-fed).
	TypeHashtag = "Hashtag"
	// TypeEmoji is toot:Emoji.
	TypeEmoji = "Emoji"
	// TypePropertyValue is schema:PropertyValue (profile fields).
	TypePropertyValue = "PropertyValue"
	// TypePostalAddress is schema:PostalAddress (Mobilizon).
	TypePostalAddress = "PostalAddress"
	// TypeEmojiReact is litepub:EmojiReact (Pleroma, Misskey).
	TypeEmojiReact = "EmojiReact"
)

// typeInfo is what the vocabulary table knows about a type name.
type typeInfo struct {
	kind Kind
	// as2 is true for types of the ActivityStreams vocabulary.
	as2 bool
}

// vocabulary maps type names to their kind. It is built from go-fed's
// code-generated vocabularies (ActivityStreams core and extended, toot,
// security v1, ForgeFed), whose type hierarchy is generated from the
// specifications, plus the extension types go-fed v1.0.0 lacks.
var vocabulary = buildVocabulary()

func buildVocabulary() map[string]typeInfo {
	types := []vocab.Type{
		streams.NewActivityStreamsAccept(), streams.NewActivityStreamsActivity(),
		streams.NewActivityStreamsAdd(), streams.NewActivityStreamsAnnounce(),
		streams.NewActivityStreamsApplication(), streams.NewActivityStreamsArrive(),
		streams.NewActivityStreamsArticle(), streams.NewActivityStreamsAudio(),
		streams.NewActivityStreamsBlock(), streams.NewActivityStreamsCollection(),
		streams.NewActivityStreamsCollectionPage(), streams.NewActivityStreamsCreate(),
		streams.NewActivityStreamsDelete(), streams.NewActivityStreamsDislike(),
		streams.NewActivityStreamsDocument(), streams.NewActivityStreamsEvent(),
		streams.NewActivityStreamsFlag(), streams.NewActivityStreamsFollow(),
		streams.NewActivityStreamsGroup(), streams.NewActivityStreamsIgnore(),
		streams.NewActivityStreamsImage(), streams.NewActivityStreamsIntransitiveActivity(),
		streams.NewActivityStreamsInvite(), streams.NewActivityStreamsJoin(),
		streams.NewActivityStreamsLeave(), streams.NewActivityStreamsLike(),
		streams.NewActivityStreamsLink(), streams.NewActivityStreamsListen(),
		streams.NewActivityStreamsMention(), streams.NewActivityStreamsMove(),
		streams.NewActivityStreamsNote(), streams.NewActivityStreamsObject(),
		streams.NewActivityStreamsOffer(), streams.NewActivityStreamsOrderedCollection(),
		streams.NewActivityStreamsOrderedCollectionPage(), streams.NewActivityStreamsOrganization(),
		streams.NewActivityStreamsPage(), streams.NewActivityStreamsPerson(),
		streams.NewActivityStreamsPlace(), streams.NewActivityStreamsProfile(),
		streams.NewActivityStreamsQuestion(), streams.NewActivityStreamsRead(),
		streams.NewActivityStreamsReject(), streams.NewActivityStreamsRelationship(),
		streams.NewActivityStreamsRemove(), streams.NewActivityStreamsService(),
		streams.NewActivityStreamsTentativeAccept(), streams.NewActivityStreamsTentativeReject(),
		streams.NewActivityStreamsTombstone(), streams.NewActivityStreamsTravel(),
		streams.NewActivityStreamsUndo(), streams.NewActivityStreamsUpdate(),
		streams.NewActivityStreamsVideo(), streams.NewActivityStreamsView(),
		streams.NewTootEmoji(), streams.NewTootIdentityProof(),
		streams.NewW3IDSecurityV1PublicKey(),
		streams.NewForgeFedBranch(), streams.NewForgeFedCommit(), streams.NewForgeFedPush(),
		streams.NewForgeFedRepository(), streams.NewForgeFedTicket(),
		streams.NewForgeFedTicketDependency(),
	}
	m := make(map[string]typeInfo, len(types)+8)
	for _, t := range types {
		m[t.GetTypeName()] = typeInfo{kind: goFedKind(t), as2: t.VocabularyURI() == NSActivityStreams}
	}
	// Extension types that go-fed v1.0.0 does not define.
	m[TypeHashtag] = typeInfo{kind: KindLink}
	m[TypePropertyValue] = typeInfo{kind: KindObject}
	m[TypePostalAddress] = typeInfo{kind: KindObject}
	m[TypeEmojiReact] = typeInfo{kind: KindActivity}
	m["ChatMessage"] = typeInfo{kind: KindObject}
	m["Multikey"] = typeInfo{kind: KindObject}
	return m
}

// goFedKind classifies a go-fed type with go-fed's generated hierarchy
// predicates. Two deliberate departures: AS2 makes Question an
// IntransitiveActivity, but on the fediverse it is a post (a poll), so it is
// KindObject; and AS2 has no actor class, so the five actor types of AS2
// §3.2 ("Actor Types") are listed.
func goFedKind(t vocab.Type) Kind {
	switch {
	case streams.IsOrExtendsActivityStreamsQuestion(t):
		return KindObject
	case streams.IsOrExtendsActivityStreamsActivity(t):
		return KindActivity
	case streams.IsOrExtendsActivityStreamsCollection(t),
		streams.IsOrExtendsActivityStreamsOrderedCollection(t),
		streams.IsOrExtendsActivityStreamsCollectionPage(t):
		return KindCollection
	case streams.IsOrExtendsActivityStreamsLink(t):
		return KindLink
	case streams.IsOrExtendsActivityStreamsApplication(t),
		streams.IsOrExtendsActivityStreamsGroup(t),
		streams.IsOrExtendsActivityStreamsOrganization(t),
		streams.IsOrExtendsActivityStreamsPerson(t),
		streams.IsOrExtendsActivityStreamsService(t):
		return KindActor
	}
	return KindObject
}

// KindOf returns the kind of a type name and whether any vocabulary Hanse
// knows defines it.
func KindOf(typeName string) (Kind, bool) {
	info, ok := vocabulary[normalizeType(typeName)]
	return info.kind, ok
}

// IsAS2Type reports whether the ActivityStreams 2.0 vocabulary defines the
// type.
func IsAS2Type(typeName string) bool {
	return vocabulary[normalizeType(typeName)].as2
}

// normalizeType removes the ActivityStreams prefixes ("as:", the namespace
// IRI with "#") from a type name.
func normalizeType(t string) string {
	for {
		switch {
		case strings.HasPrefix(t, "as:"):
			t = t[3:]
		case strings.HasPrefix(t, NSActivityStreams+"#"):
			t = t[len(NSActivityStreams)+1:]
		case strings.HasPrefix(t, "http://www.w3.org/ns/activitystreams#"):
			t = t[len("http://www.w3.org/ns/activitystreams#"):]
		default:
			return t
		}
	}
}

// primaryType picks the first AS2 type, else the first known type, else the
// first type.
func primaryType(types []string) string {
	for _, t := range types {
		if vocabulary[t].as2 {
			return t
		}
	}
	for _, t := range types {
		if _, ok := vocabulary[t]; ok {
			return t
		}
	}
	if len(types) > 0 {
		return types[0]
	}
	return ""
}

func isOrderedType(t string) bool {
	return t == TypeOrderedCollection || t == TypeOrderedCollectionPage
}
