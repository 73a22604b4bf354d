package as2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"time"

	"github.com/go-ap/jsonld"
)

// NSMultikeyV1 is the context of FEP-521a Multikeys; Encode adds it to the
// @context of actors that carry AssertionMethods.
const NSMultikeyV1 = "https://w3id.org/security/multikey/v1"

// maxEncodeDepth bounds the nesting of inline objects Encode follows (it
// also stops cycles).
const maxEncodeDepth = DefaultMaxDepth / 2

// hanseTerms defines the extension terms Hanse writes, after the AS2 and
// security-v1 contexts: Mastodon's (toot:), schema.org's PropertyValue and
// PostalAddress, Mobilizon's (mz:) event terms and ical:status. Keys are
// written sorted.

// encodedContext is a context element serialised once, at start-up.
type encodedContext json.RawMessage

// Collapse makes encodedContext a jsonld context element.
func (c encodedContext) Collapse() any { return c }

// MarshalJSON returns the pre-encoded element.
func (c encodedContext) MarshalJSON() ([]byte, error) { return c, nil }

// hanseTermsJSON is hanseTerms serialised (keys sorted) by go-ap/jsonld;
// hanseTermsErr would report a failure (Encode returns it).
var hanseTermsJSON, hanseTermsErr = func() (encodedContext, error) {
	b, err := jsonld.Marshal(hanseTerms)
	return encodedContext(b), err
}()

func idTerm(id string) map[string]string { return map[string]string{"@id": id, "@type": "@id"} }

func typedTerm(id, typ string) map[string]string { return map[string]string{"@id": id, "@type": typ} }

var hanseTerms = map[string]any{
	"toot":                      "http://joinmastodon.org/ns#",
	"schema":                    "http://schema.org#",
	"mz":                        "https://joinmobilizon.org/ns#",
	"ical":                      "http://www.w3.org/2002/12/cal/ical#",
	"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
	"sensitive":                 "as:sensitive",
	"Hashtag":                   "as:Hashtag",
	"movedTo":                   idTerm("as:movedTo"),
	"alsoKnownAs":               idTerm("as:alsoKnownAs"),
	"discoverable":              "toot:discoverable",
	"featured":                  idTerm("toot:featured"),
	"featuredTags":              idTerm("toot:featuredTags"),
	"Emoji":                     "toot:Emoji",
	"votersCount":               "toot:votersCount",
	"blurhash":                  "toot:blurhash",
	"PropertyValue":             "schema:PropertyValue",
	"value":                     "schema:value",
	"PostalAddress":             "schema:PostalAddress",
	"address":                   typedTerm("schema:address", "schema:PostalAddress"),
	"streetAddress":             "schema:streetAddress",
	"postalCode":                "schema:postalCode",
	"addressLocality":           "schema:addressLocality",
	"addressRegion":             "schema:addressRegion",
	"addressCountry":            "schema:addressCountry",
	"inLanguage":                "schema:inLanguage",
	"maximumAttendeeCapacity":   "schema:maximumAttendeeCapacity",
	"remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
	"timezone":                  typedTerm("mz:timezone", "schema:Text"),
	"joinMode":                  typedTerm("mz:joinMode", "mz:joinModeType"),
	"participantCount":          typedTerm("mz:participantCount", "schema:Integer"),
	"isOnline":                  typedTerm("mz:isOnline", "schema:Boolean"),
}

// Context returns the @context Encode writes (a fresh copy): the AS2 and
// security-v1 context IRIs and an object defining Hanse's extension terms.
func Context() []any {
	terms := make(map[string]any, len(hanseTerms))
	for k, v := range hanseTerms {
		terms[k] = v
	}
	return []any{NSActivityStreams, NSSecurityV1, terms}
}

// alwaysArray is written as a JSON array even with one element. go-ap/jsonld
// compacts one-element slices to their element, which AS2 allows, but
// to/cc/tag/attachment/orderedItems are arrays in what Mastodon, Lemmy and
// Mobilizon send, and some consumers index them as arrays.
type alwaysArray []any

// MarshalJSON writes the elements with go-ap/jsonld, always as an array.
func (a alwaysArray) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, v := range a {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := jsonld.Marshal(v)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

func stringsArray(ss []string) alwaysArray {
	if len(ss) == 0 {
		return nil
	}
	out := make(alwaysArray, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// wireObject is the JSON shape of an Object; fields are written in this
// order, empty ones omitted. A one-element slice without alwaysArray
// (type, audience, icon, publicKey…) is written as its element.
type wireObject struct {
	ID           string      `jsonld:"id,omitempty"`
	Type         []string    `jsonld:"type,omitempty"`
	Actor        any         `jsonld:"actor,omitempty"`
	Object       any         `jsonld:"object,omitempty"`
	Target       any         `jsonld:"target,omitempty"`
	Origin       any         `jsonld:"origin,omitempty"`
	Instrument   any         `jsonld:"instrument,omitempty"`
	Result       any         `jsonld:"result,omitempty"`
	AttributedTo any         `jsonld:"attributedTo,omitempty"`
	InReplyTo    any         `jsonld:"inReplyTo,omitempty"`
	Audience     []string    `jsonld:"audience,omitempty"`
	To           alwaysArray `jsonld:"to,omitempty"`
	CC           alwaysArray `jsonld:"cc,omitempty"`

	PreferredUsername string `jsonld:"preferredUsername,omitempty"`
	Name              string `jsonld:"name,omitempty"`
	NameMap           Map    `jsonld:"nameMap,omitempty"`
	Summary           string `jsonld:"summary,omitempty"`
	SummaryMap        Map    `jsonld:"summaryMap,omitempty"`
	Content           string `jsonld:"content,omitempty"`
	ContentMap        Map    `jsonld:"contentMap,omitempty"`
	MediaType         string `jsonld:"mediaType,omitempty"`
	Source            *wire  `jsonld:"source,omitempty"`
	Sensitive         *bool  `jsonld:"sensitive,omitempty"`

	Published string `jsonld:"published,omitempty"`
	Updated   string `jsonld:"updated,omitempty"`
	StartTime string `jsonld:"startTime,omitempty"`
	EndTime   string `jsonld:"endTime,omitempty"`
	Deleted   string `jsonld:"deleted,omitempty"`

	// Event (Mobilizon).
	Timezone                  string   `jsonld:"timezone,omitempty"`
	Location                  any      `jsonld:"location,omitempty"`
	Address                   any      `jsonld:"address,omitempty"`
	Latitude                  *float64 `jsonld:"latitude,omitempty"`
	Longitude                 *float64 `jsonld:"longitude,omitempty"`
	JoinMode                  string   `jsonld:"joinMode,omitempty"`
	MaximumAttendeeCapacity   *int     `jsonld:"maximumAttendeeCapacity,omitempty"`
	RemainingAttendeeCapacity *int     `jsonld:"remainingAttendeeCapacity,omitempty"`
	ParticipantCount          *int     `jsonld:"participantCount,omitempty"`
	IsOnline                  *bool    `jsonld:"isOnline,omitempty"`
	InLanguage                string   `jsonld:"inLanguage,omitempty"`
	Status                    string   `jsonld:"ical:status,omitempty"`

	// Question.
	OneOf       alwaysArray `jsonld:"oneOf,omitempty"`
	AnyOf       alwaysArray `jsonld:"anyOf,omitempty"`
	Closed      string      `jsonld:"closed,omitempty"`
	VotersCount *int        `jsonld:"votersCount,omitempty"`

	URL        any         `jsonld:"url,omitempty"`
	Href       string      `jsonld:"href,omitempty"`
	Tag        alwaysArray `jsonld:"tag,omitempty"`
	Attachment alwaysArray `jsonld:"attachment,omitempty"`
	Icon       []wire      `jsonld:"icon,omitempty"`
	Image      []wire      `jsonld:"image,omitempty"`
	Replies    any         `jsonld:"replies,omitempty"`

	// Actor.
	Inbox                     string      `jsonld:"inbox,omitempty"`
	Outbox                    string      `jsonld:"outbox,omitempty"`
	Followers                 string      `jsonld:"followers,omitempty"`
	Following                 string      `jsonld:"following,omitempty"`
	Featured                  string      `jsonld:"featured,omitempty"`
	FeaturedTags              string      `jsonld:"featuredTags,omitempty"`
	Endpoints                 *wire       `jsonld:"endpoints,omitempty"`
	ManuallyApprovesFollowers *bool       `jsonld:"manuallyApprovesFollowers,omitempty"`
	Discoverable              *bool       `jsonld:"discoverable,omitempty"`
	MovedTo                   string      `jsonld:"movedTo,omitempty"`
	AlsoKnownAs               alwaysArray `jsonld:"alsoKnownAs,omitempty"`
	PublicKey                 []wire      `jsonld:"publicKey,omitempty"`
	AssertionMethod           alwaysArray `jsonld:"assertionMethod,omitempty"`

	// Collection.
	TotalItems   *int        `jsonld:"totalItems,omitempty"`
	First        any         `jsonld:"first,omitempty"`
	Last         any         `jsonld:"last,omitempty"`
	Current      any         `jsonld:"current,omitempty"`
	PartOf       any         `jsonld:"partOf,omitempty"`
	Next         any         `jsonld:"next,omitempty"`
	Prev         any         `jsonld:"prev,omitempty"`
	Items        alwaysArray `jsonld:"items,omitempty"`
	OrderedItems alwaysArray `jsonld:"orderedItems,omitempty"`
}

// wire is the JSON shape of the small value objects (tags, attachments,
// images, links, keys, addresses, endpoints, sources).
type wire struct {
	ID                 string   `jsonld:"id,omitempty"`
	Type               string   `jsonld:"type,omitempty"`
	Owner              string   `jsonld:"owner,omitempty"`
	Controller         string   `jsonld:"controller,omitempty"`
	PublicKeyPEM       string   `jsonld:"publicKeyPem,omitempty"`
	PublicKeyMultibase string   `jsonld:"publicKeyMultibase,omitempty"`
	Name               string   `jsonld:"name,omitempty"`
	Value              string   `jsonld:"value,omitempty"`
	Content            string   `jsonld:"content,omitempty"`
	MediaType          string   `jsonld:"mediaType,omitempty"`
	Href               string   `jsonld:"href,omitempty"`
	URL                string   `jsonld:"url,omitempty"`
	Rel                []string `jsonld:"rel,omitempty"`
	Width              int      `jsonld:"width,omitempty"`
	Height             int      `jsonld:"height,omitempty"`
	Blurhash           string   `jsonld:"blurhash,omitempty"`
	Icon               *wire    `jsonld:"icon,omitempty"`
	Updated            string   `jsonld:"updated,omitempty"`
	SharedInbox        string   `jsonld:"sharedInbox,omitempty"`
	StreetAddress      string   `jsonld:"streetAddress,omitempty"`
	PostalCode         string   `jsonld:"postalCode,omitempty"`
	AddressLocality    string   `jsonld:"addressLocality,omitempty"`
	AddressRegion      string   `jsonld:"addressRegion,omitempty"`
	AddressCountry     string   `jsonld:"addressCountry,omitempty"`
	Replies            *wire    `jsonld:"replies,omitempty"`
	TotalItems         *int     `jsonld:"totalItems,omitempty"`
}

// Encode writes o as an ActivityStreams document with Hanse's @context
// (see Context), serialised by go-ap/jsonld. Conventions applied:
//
//   - Article, Page, Event, Video and Audio always carry a readable content
//     and a url, because Mastodon renders only Note and Question natively
//     and builds a status from content and url for everything else: an
//     empty Content is filled from ContentMap (Map.Best), else from the
//     summary or name as an HTML paragraph; an empty URL becomes the id.
//   - to, cc, tag, attachment, orderedItems/items, oneOf/anyOf are always
//     arrays; other one-element lists are written as their element.
//   - bto and bcc are never written (AS2 §5.1).
//   - a publicKey without Owner gets the actor's id.
//   - a Ref with Raw is written verbatim (FEP-1b12 Announce).
//
// The top-level object must have a type (ErrInvalidObject); inline objects
// nested deeper than 16 levels fail with ErrTooDeep.
func Encode(o *Object) ([]byte, error) {
	if o == nil || (o.Type == "" && len(o.Types) == 0) {
		return nil, fmt.Errorf("%w: the object has no type", ErrInvalidObject)
	}
	if hanseTermsErr != nil {
		return nil, fmt.Errorf("%w: context: %v", ErrInvalidObject, hanseTermsErr)
	}
	w, err := toWire(o, 0)
	if err != nil {
		return nil, err
	}
	ctx := []jsonld.Collapsible{jsonld.IRI(NSActivityStreams), jsonld.IRI(NSSecurityV1)}
	if o.Profile != nil && len(o.Profile.AssertionMethods) > 0 {
		ctx = append(ctx, jsonld.IRI(NSMultikeyV1))
	}
	ctx = append(ctx, hanseTermsJSON)
	out, err := jsonld.WithContext(ctx...).Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidObject, err)
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("%w: serialisation produced invalid JSON", ErrInvalidObject)
	}
	return out, nil
}

// postTypes are the types Mastodon renders as a status built from content
// and url; Encode makes sure they have both.
var postTypes = map[string]bool{TypeArticle: true, TypePage: true, TypeEvent: true, TypeVideo: true, TypeAudio: true}

// sensitiveTypes always carry an explicit sensitive flag, as Mastodon writes.
var sensitiveTypes = map[string]bool{TypeNote: true, TypeArticle: true, TypePage: true,
	TypeQuestion: true, TypeEvent: true, TypeVideo: true, TypeAudio: true}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func boolPtr(b bool) *bool { return &b }

func toWire(o *Object, depth int) (*wireObject, error) {
	if depth > maxEncodeDepth {
		return nil, fmt.Errorf("%w: inline objects nested more than %d levels", ErrTooDeep, maxEncodeDepth)
	}
	e := &encoder{depth: depth}
	w := &wireObject{
		ID:        o.ID,
		Type:      o.Types,
		Audience:  o.Audience,
		To:        stringsArray(o.To),
		CC:        stringsArray(o.CC),
		Name:      o.Name,
		NameMap:   o.NameMap,
		Summary:   o.Summary,
		Content:   o.Content,
		MediaType: o.MediaType,
		Published: formatTime(o.Published),
		Updated:   formatTime(o.Updated),
		StartTime: formatTime(o.StartTime),
		EndTime:   formatTime(o.EndTime),
		Deleted:   formatTime(o.Deleted),
		Href:      o.Href,
		Latitude:  o.Latitude,
		Longitude: o.Longitude,
	}
	if len(w.Type) == 0 && o.Type != "" {
		w.Type = []string{o.Type}
	}
	w.SummaryMap, w.ContentMap = o.SummaryMap, o.ContentMap
	typ := o.Type
	if typ == "" && len(o.Types) > 0 {
		typ = primaryType(o.Types)
	}
	if postTypes[typ] {
		if w.Content == "" {
			w.Content = fallbackContent(o)
		}
	}
	if o.Sensitive || sensitiveTypes[typ] {
		w.Sensitive = boolPtr(o.Sensitive)
	}
	if o.Source != nil {
		w.Source = &wire{Content: o.Source.Content, MediaType: o.Source.MediaType}
	}

	w.Actor = e.refs(o.Actor)
	w.Object = e.refs(o.Object)
	w.Target = e.refs(o.Target)
	w.Origin = e.refs(o.Origin)
	w.Instrument = e.refs(o.Instrument)
	w.Result = e.refs(o.Result)
	w.AttributedTo = e.refs(o.AttributedTo)
	w.InReplyTo = e.refs(o.InReplyTo)
	w.Location = e.refs(o.Location)
	w.Replies = e.refs(o.Replies)

	urls := o.URL
	if len(urls) == 0 && postTypes[typ] && o.ID != "" {
		urls = []Link{{Href: o.ID}}
	}
	w.URL = urlValue(urls)
	for _, t := range o.Tag {
		w.Tag = append(w.Tag, tagWire(t))
	}
	for _, a := range o.Attachment {
		w.Attachment = append(w.Attachment, attachmentWire(a))
	}
	for _, img := range o.Icon {
		w.Icon = append(w.Icon, *imageWire(img))
	}
	for _, img := range o.Image {
		w.Image = append(w.Image, *imageWire(img))
	}
	if a := o.Address; a != nil {
		if a.Text != "" && *a == (PostalAddress{Text: a.Text}) {
			w.Address = a.Text
		} else {
			w.Address = &wire{Type: TypePostalAddress, StreetAddress: a.StreetAddress, PostalCode: a.PostalCode,
				AddressLocality: a.AddressLocality, AddressRegion: a.AddressRegion, AddressCountry: a.AddressCountry}
		}
	}
	if p := o.Profile; p != nil {
		profileWire(w, o.ID, p)
	}
	if ev := o.Event; ev != nil {
		w.Timezone = ev.Timezone
		w.JoinMode = ev.JoinMode
		w.MaximumAttendeeCapacity = ev.MaximumAttendeeCapacity
		w.RemainingAttendeeCapacity = ev.RemainingAttendeeCapacity
		w.ParticipantCount = ev.ParticipantCount
		w.IsOnline = boolPtr(ev.IsOnline)
		w.InLanguage = ev.InLanguage
		w.Status = ev.Status
	}
	if q := o.Question; q != nil {
		var opts alwaysArray
		for _, opt := range q.Options {
			votes := opt.Votes
			opts = append(opts, &wire{Type: TypeNote, Name: opt.Name,
				Replies: &wire{Type: TypeCollection, TotalItems: &votes}})
		}
		if q.Multiple {
			w.AnyOf = opts
		} else {
			w.OneOf = opts
		}
		w.Closed = formatTime(q.Closed)
		w.VotersCount = q.VotersCount
	}
	if c := o.Collection; c != nil {
		w.TotalItems = c.TotalItems
		w.First = e.refs(c.First)
		w.Last = e.refs(c.Last)
		w.Current = e.refs(c.Current)
		w.PartOf = e.refs(c.PartOf)
		w.Next = e.refs(c.Next)
		w.Prev = e.refs(c.Prev)
		var items alwaysArray
		for _, r := range c.Items {
			if r.ID != "" || r.Object != nil || len(r.Raw) > 0 {
				items = append(items, e.ref(r))
			}
		}
		if isOrderedType(typ) {
			w.OrderedItems = items
		} else {
			w.Items = items
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	return w, nil
}

// fallbackContent gives a post without content a readable one.
func fallbackContent(o *Object) string {
	if text := o.ContentMap.Best(); text != "" {
		return text
	}
	for _, s := range []string{o.Summary, o.SummaryMap.Best(), o.Name, o.NameMap.Best()} {
		if s != "" {
			return "<p>" + html.EscapeString(s) + "</p>"
		}
	}
	return ""
}

// encoder converts references, keeping the first error.
type encoder struct {
	depth int
	err   error
}

func (e *encoder) ref(r Ref) any {
	switch {
	case len(r.Raw) > 0:
		if firstByte(r.Raw) != '{' || !json.Valid(r.Raw) {
			if e.err == nil {
				e.err = fmt.Errorf("%w: verbatim object is not a JSON object", ErrInvalidObject)
			}
			return nil
		}
		return json.RawMessage(r.Raw)
	case r.Object != nil:
		w, err := toWire(r.Object, e.depth+1)
		if err != nil {
			if e.err == nil {
				e.err = err
			}
			return nil
		}
		return w
	}
	return r.ID
}

func (e *encoder) refs(rs Refs) any {
	var out []any
	for _, r := range rs {
		if r.ID == "" && r.Object == nil && len(r.Raw) == 0 {
			continue
		}
		out = append(out, e.ref(r))
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

func urlValue(ls []Link) any {
	if len(ls) == 0 {
		return nil
	}
	out := make([]any, len(ls))
	for i, l := range ls {
		if l.Type == "" && l.MediaType == "" && len(l.Rel) == 0 && l.Name == "" && l.Width == 0 && l.Height == 0 {
			out[i] = l.Href
			continue
		}
		out[i] = &wire{Type: l.Type, Href: l.Href, MediaType: l.MediaType, Rel: l.Rel, Name: l.Name,
			Width: l.Width, Height: l.Height}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

func tagWire(t Tag) *wire {
	w := &wire{Type: t.Type, ID: t.ID, Href: t.Href, Name: t.Name, Updated: formatTime(t.Updated)}
	if t.Icon != nil {
		w.Icon = imageWire(*t.Icon)
	}
	return w
}

func attachmentWire(a Attachment) *wire {
	w := &wire{Type: a.Type, Name: a.Name, Value: a.Value, MediaType: a.MediaType,
		Width: a.Width, Height: a.Height, Blurhash: a.Blurhash}
	if a.Type == TypeLink {
		w.Href = a.URL
	} else {
		w.URL = a.URL
	}
	return w
}

func imageWire(img Image) *wire {
	return &wire{Type: img.Type, URL: img.URL, MediaType: img.MediaType, Name: img.Name,
		Width: img.Width, Height: img.Height}
}

func profileWire(w *wireObject, id string, p *ActorProfile) {
	w.PreferredUsername = p.PreferredUsername
	w.Inbox = p.Inbox
	w.Outbox = p.Outbox
	w.Followers = p.Followers
	w.Following = p.Following
	w.Featured = p.Featured
	w.FeaturedTags = p.FeaturedTags
	if p.SharedInbox != "" {
		w.Endpoints = &wire{SharedInbox: p.SharedInbox}
	}
	w.ManuallyApprovesFollowers = boolPtr(p.ManuallyApprovesFollowers)
	w.Discoverable = boolPtr(p.Discoverable)
	w.MovedTo = p.MovedTo
	w.AlsoKnownAs = stringsArray(p.AlsoKnownAs)
	for _, k := range p.PublicKeys {
		owner := k.Owner
		if owner == "" {
			owner = id
		}
		w.PublicKey = append(w.PublicKey, wire{ID: k.ID, Owner: owner, PublicKeyPEM: k.PEM})
	}
	for _, k := range p.AssertionMethods {
		w.AssertionMethod = append(w.AssertionMethod, &wire{ID: k.ID, Type: "Multikey",
			Controller: k.Controller, PublicKeyMultibase: k.PublicKeyMultibase})
	}
}
