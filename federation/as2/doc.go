// Package as2 owns the mapping between ActivityStreams 2.0 documents and
// Hanse's plain Go view of them (Object). Inbox handlers, the remote-actor
// cache and the outbound projection use it so that nothing else has to know
// JSON-LD's quirks. It does no I/O and knows no domain types.
//
// # Decoding
//
// Decode reads any incoming activity, actor, object or collection. It is
// tolerant of every shape in shared/fixtures: @context missing (Lemmy),
// foreign (Mbin) or full of vendor terms; type as a string, an array
// (["Like", "http://schema.org/LikeAction"]) or prefixed ("as:Note"); to,
// cc, audience, tag, attachment, url and icon as one value or an array;
// object as an IRI, an inline object or a list of IRIs (Flag); content,
// name and summary null or next to their language maps; ids missing or not
// absolute; LD signatures, FEP-8b32 proofs and vendor fields. Values of the
// wrong JSON type are skipped and listed in Object.Issues with their path;
// Validate turns missing or relative ids into ErrInvalidID errors for the
// inbox. Decode fails only for input over 1 MiB (ErrTooLarge), nested more
// than 32 levels (ErrTooDeep), not a JSON object (ErrMalformed) or without
// a type (ErrNotActivityStreams: WebFinger, NodeInfo). It never panics
// (FuzzDecode). Object.Raw keeps the exact input, and inline objects keep
// their own exact bytes, so an activity is recorded as an event without
// loss and a Group can Announce a member's activity unmodified (Verbatim).
//
// The primary Type is the first type of the ActivityStreams vocabulary in
// the type list, else the first type another known vocabulary defines, else
// the first type; Kind (activity, actor, collection, link, object) follows
// from it, or from the object's shape when no vocabulary knows the type
// (EmojiReact is known as an extension; an unknown "Bite" with an actor is
// an activity and is reported).
//
// Implementation: the input is validated once by encoding/json (json.Valid)
// and then cut into members by a small structural splitter whose values are
// sub-slices of the input, so each nesting level is scanned once; strings
// are unescaped exactly as encoding/json does (FuzzUnquote, FuzzSplit).
//
// # Encoding
//
// Encode writes an Object (actors with publicKey and endpoints, Note and
// Article with contentMap, url, audience, hashtags and mentions, Event in
// Mobilizon's shape, all activities, OrderedCollection and its pages) with
// Hanse's @context: the AS2 and security-v1 IRIs and an object defining the
// extension terms (toot:discoverable, as:manuallyApprovesFollowers,
// as:sensitive, as:Hashtag, toot:featured, schema.org PropertyValue and
// PostalAddress, Mobilizon's mz: terms, ical:status). Every Article, Page,
// Event, Video and Audio carries a readable content and a url, because
// Mastodon renders only Note and Question natively. The serialiser is
// github.com/go-ap/jsonld: it writes the @context first and fields in
// declaration order, does not HTML-escape ("<p>" stays readable), and
// compacts one-element lists to their element, which AS2 allows; to, cc,
// tag, attachment, items and poll options stay arrays, as Mastodon, Lemmy
// and Mobilizon send them. go-ap/jsonld splices the payload after the
// context by searching its output for `"Obj":{`; that is safe here because
// the payload is always a JSON object and strings are escaped, and Encode
// validates its output anyway. Every encoded document decodes back to the
// same view (TestRoundTrip) and is read correctly by go-fed (see below).
//
// # Where go-fed fits
//
// github.com/go-fed/activity v1.0.0 streams was measured against every
// fixture (pinned by TestGoFedOnFixtures and TestGoFedLossyFields):
//
//   - streams.ToType rejects all nine Lemmy documents ("'@context' is
//     missing": Lemmy sends none), Pleroma's EmojiReact (ErrUnhandledType:
//     not in its vocabulary) and, rightly, WebFinger and NodeInfo.
//   - It accepts the other 44, including type arrays, Move, Kroeg's empty
//     publicKey.type and Mbin's context without the AS2 IRI.
//   - What it accepts it does not keep faithfully: with both content and
//     contentMap present (Mastodon, Friendica, Mitra, WordPress — seven
//     fixtures) the language maps are dropped, because its deserialisers
//     read contentMap (nameMap, summaryMap) only when content (name,
//     summary) is absent; fragment ids are
//     re-escaped ("#activity#activity" becomes "#activity%23activity",
//     breaking deduplication by id); fractional seconds are cut; nulls
//     vanish; Serialize overwrites @context. It has no Mobilizon, schema.org
//     or Hashtag vocabulary.
//   - Its resolver references every generated deserialiser: a program that
//     calls ToType links about 14 MB of it. Typed decoding of
//     mastodon/create_note.json costs about 3× our decoder's time and 4.5×
//     its allocations (BenchmarkGoFedToTypeMastodonCreateNote).
//
// So go-fed is used for what it does well: its vocabularies, generated from
// the specifications (ActivityStreams core and extended, toot, security v1,
// ForgeFed), and their type hierarchy classify type names (buildVocabulary
// instantiates each generated type and asks go-fed's IsOrExtends…
// predicates), which links only the small constructors. Decoding is our own
// because go-fed rejects or alters real traffic, and Encode builds plain
// structs for go-ap/jsonld because go-fed's builders cannot carry our
// context and extension terms. In the tests go-fed is the independent AS2
// reader of every document Encode writes (TestGoFedReadsOurOutput).
package as2
