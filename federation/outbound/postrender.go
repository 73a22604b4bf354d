package outbound

import (
	"slices"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/post"
)

// PostData is what the documents of a local post are rendered from.
type PostData struct {
	ID        string
	Kind      post.Kind
	AuthorIRI string
	// GroupIRI is the Group actor of the community the post is in ("" for
	// none); it becomes the post's audience.
	GroupIRI string
	// InReplyTo is the IRI of the post answered ("" for none).
	InReplyTo  string
	Visibility post.Visibility
	// Languages are the content's languages in the order to present them
	// (the first one gives content, name and summary).
	Languages []string
	// Content is the opened post.Content: plain text per language.
	Content     post.Content
	Hashtags    []string
	Mentions    []string
	Attachments []post.Attachment
	Sensitive   bool
	Published   time.Time
	// Updated is the time of the last edit (zero: never edited).
	Updated time.Time
}

// IRI returns the post's IRI, "{author IRI}/posts/{id}".
func (d PostData) IRI() string { return urls.PostIRI(d.AuthorIRI, d.ID) }

// PostAddressing returns to and cc of a local post by visibility:
//
//	public    to Public; cc the author's followers, the Group, the mentioned
//	unlisted  to the author's followers and the Group; cc Public, the mentioned
//	followers to the author's followers; cc the mentioned
//	members   to the Group's followers; cc the mentioned
//	direct    to the mentioned
func PostAddressing(d PostData) (to, cc []string) {
	followers := d.AuthorIRI + "/" + string(urls.Followers)
	var group []string
	if d.GroupIRI != "" {
		group = []string{d.GroupIRI}
	}
	mentions := slices.Clone(d.Mentions)
	switch d.Visibility {
	case post.Public:
		return []string{as2.Public}, append(append([]string{followers}, group...), mentions...)
	case post.Unlisted:
		return append([]string{followers}, group...), append([]string{as2.Public}, mentions...)
	case post.Followers:
		return []string{followers}, mentions
	case post.Members:
		if d.GroupIRI == "" {
			return []string{followers}, mentions
		}
		return []string{d.GroupIRI + "/" + string(urls.Followers)}, mentions
	}
	return mentions, nil
}

// GroupAddressing returns to and cc of the Group's activities about a post
// of visibility v: public → to Public, cc the Group's followers; unlisted
// → to the followers, cc Public; members → to the followers only.
func GroupAddressing(v post.Visibility, groupIRI string) (to, cc []string) {
	followers := groupIRI + "/" + string(urls.Followers)
	switch v {
	case post.Public:
		return []string{as2.Public}, []string{followers}
	case post.Unlisted:
		return []string{followers}, []string{as2.Public}
	}
	return []string{followers}, nil
}

// languageOrder returns the languages of m in the order of langs, then the
// remaining ones sorted.
func languageOrder(langs []string, m map[string]string) []string {
	var out []string
	for _, l := range langs {
		if _, ok := m[l]; ok && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	for _, l := range post.Languages(m) {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// texts renders a language map: the value of the first language as the
// plain property, and the map without "und" (not a language) as the map
// property; render turns one text into the property's value.
func texts(langs []string, m map[string]string, render func(string) string) (first string, byLang as2.Map) {
	for i, l := range languageOrder(langs, m) {
		v := render(m[l])
		if i == 0 {
			first = v
		}
		if l != post.Undetermined && v != "" {
			if byLang == nil {
				byLang = as2.Map{}
			}
			byLang[l] = v
		}
	}
	return first, byLang
}

func plain(s string) string { return s }

// PostObject renders a local post as an AS2 Note or Article: content and
// contentMap (the text as escaped HTML paragraphs), for Articles name and
// nameMap, summary and summaryMap (the content warning) with sensitive,
// Hashtag tags linking to the tag page, Mention tags, Document attachments
// linking to the media file with the alt text as name, inReplyTo,
// audience (the Group), url (the post's page: its IRI), to and cc by
// visibility.
func PostObject(s urls.Scheme, d PostData) *as2.Object {
	iri := d.IRI()
	to, cc := PostAddressing(d)
	typ := as2.TypeNote
	if d.Kind == post.Article {
		typ = as2.TypeArticle
	}
	o := &as2.Object{ID: iri, Type: typ, Kind: as2.KindObject, AttributedTo: as2.Refs{as2.IRI(d.AuthorIRI)},
		URL: []as2.Link{{Href: iri}}, To: to, CC: cc, Published: d.Published.UTC(), Updated: d.Updated.UTC(),
		Sensitive: d.Sensitive}
	if d.Updated.IsZero() {
		o.Updated = time.Time{}
	}
	o.Content, o.ContentMap = texts(d.Languages, d.Content.ContentMap, ContentHTML)
	if d.Kind == post.Article {
		o.Name, o.NameMap = texts(d.Languages, d.Content.NameMap, plain)
	}
	o.Summary, o.SummaryMap = texts(d.Languages, d.Content.SummaryMap, plain)
	if d.GroupIRI != "" {
		o.Audience = []string{d.GroupIRI}
	}
	if d.InReplyTo != "" {
		o.InReplyTo = as2.Refs{as2.IRI(d.InReplyTo)}
	}
	for _, h := range d.Hashtags {
		o.Tag = append(o.Tag, as2.Tag{Type: as2.TypeHashtag, Name: "#" + h, Href: s.Tag(h)})
	}
	for _, m := range d.Mentions {
		tag := as2.Tag{Type: as2.TypeMention, Href: m}
		if t, ok := s.Parse(m); ok && t.Username != "" && t.Collection == "" && !t.Profile {
			tag.Name = "@" + s.Handle(t.Username)
		}
		o.Tag = append(o.Tag, tag)
	}
	for i, a := range d.Attachments {
		at := as2.Attachment{Type: as2.TypeDocument, MediaType: a.MediaType, URL: a.URL}
		if a.MediaID != "" {
			at.URL = s.Media(a.MediaID)
		}
		if i < len(d.Content.Descriptions) {
			at.Name = d.Content.Descriptions[i]
		}
		o.Attachment = append(o.Attachment, at)
	}
	return o
}

// CreatePost renders Create{post}; its id is "{post IRI}/activity".
func CreatePost(s urls.Scheme, d PostData) *as2.Object {
	obj := PostObject(s, d)
	a := as2.NewActivity(as2.TypeCreate, urls.PostActivityIRI(d.AuthorIRI, d.ID), d.AuthorIRI, as2.Embed(obj))
	a.To, a.CC, a.Audience, a.Published = obj.To, obj.CC, obj.Audience, obj.Published
	return a
}

// UpdatePost renders Update{post} for the edit named tag (the edit
// event's id): "{post IRI}#updates/{tag}".
func UpdatePost(s urls.Scheme, d PostData, tag string) *as2.Object {
	obj := PostObject(s, d)
	a := as2.NewActivity(as2.TypeUpdate, d.IRI()+"#updates/"+tag, d.AuthorIRI, as2.Embed(obj))
	a.To, a.CC, a.Audience, a.Published = obj.To, obj.CC, obj.Audience, obj.Updated
	return a
}

// DeletePost renders the author's Delete{Tombstone}: "{post IRI}#delete".
func DeletePost(d PostData, deleted time.Time) *as2.Object {
	iri := d.IRI()
	to, cc := PostAddressing(d)
	tomb := &as2.Object{ID: iri, Type: as2.TypeTombstone, Deleted: deleted.UTC()}
	a := as2.NewActivity(as2.TypeDelete, iri+"#delete", d.AuthorIRI, as2.Embed(tomb))
	a.To, a.CC = to, cc
	if d.GroupIRI != "" {
		a.Audience = []string{d.GroupIRI}
	}
	return a
}

// GroupActivity holds what every activity of a Group about a post shares.
type GroupActivity struct {
	// GroupIRI is the Group's actor IRI.
	GroupIRI string
	// PostID is the post's local id; ObjectIRI its IRI (a local post's
	// PostData.IRI, a received post's object id).
	PostID, ObjectIRI string
	// Visibility is the post's (public, unlisted or members).
	Visibility post.Visibility
	// At is when the Group acted.
	At time.Time
}

func (g GroupActivity) activity(typ string, kind urls.AnnounceKind, tag string, object as2.Ref) *as2.Object {
	a := as2.NewActivity(typ, urls.AnnounceIRI(g.GroupIRI, g.PostID, kind, tag), g.GroupIRI, object)
	a.To, a.CC = GroupAddressing(g.Visibility, g.GroupIRI)
	a.Audience = []string{g.GroupIRI}
	a.Published = g.At.UTC()
	return a
}

// AnnounceActivity renders the Group's Announce of a member's activity
// (FEP-1b12): the Create (kind urls.AnnounceCreate), an Update
// (urls.AnnounceUpdate with the edit's tag) or a Delete
// (urls.AnnounceDelete). Pass the activity as as2.Ref with Raw set to
// announce it byte for byte as received.
func AnnounceActivity(g GroupActivity, kind urls.AnnounceKind, tag string, activity as2.Ref) *as2.Object {
	return g.activity(as2.TypeAnnounce, kind, tag, activity)
}

// AnnouncePost renders the Group's Announce of the post itself (the
// object, embedded), which Mastodon shows as a boost.
func AnnouncePost(g GroupActivity, object as2.Ref) *as2.Object {
	return g.activity(as2.TypeAnnounce, urls.AnnounceObject, "", object)
}

// UndoAnnouncePost renders Undo{Announce{post}}: Mastodon's un-boost.
func UndoAnnouncePost(g GroupActivity) *as2.Object {
	inner := as2.NewActivity(as2.TypeAnnounce, urls.AnnounceIRI(g.GroupIRI, g.PostID, urls.AnnounceObject, ""), g.GroupIRI,
		as2.IRI(g.ObjectIRI))
	return g.activity(as2.TypeUndo, urls.UndoAnnounceObject, "", as2.Embed(inner))
}

// GroupDeletePost renders the Group's own Delete of a post
// (Delete{actor: Group, object: post IRI}), what it announces when a
// facilitator removed the post.
func GroupDeletePost(g GroupActivity) *as2.Object {
	return g.activity(as2.TypeDelete, urls.GroupDelete, "", as2.IRI(g.ObjectIRI))
}

// Like renders a local person's Like of a remote post; its id is
// "{liker IRI}#likes/{tag}".
func Like(likerIRI, objectIRI, authorIRI, tag string) *as2.Object {
	a := as2.NewActivity(as2.TypeLike, likerIRI+"#likes/"+tag, likerIRI, as2.IRI(objectIRI))
	a.To = []string{authorIRI}
	return a
}

// UndoLike renders Undo{Like} for a Like rendered by Like.
func UndoLike(like *as2.Object) *as2.Object {
	a := as2.NewActivity(as2.TypeUndo, like.ID+"/undo", like.ActorID(), as2.Embed(like))
	a.To = like.To
	return a
}

// DeleteActor renders a local actor's Delete of itself:
// "{actor IRI}#delete", addressed to Public.
func DeleteActor(actorIRI string) *as2.Object {
	a := as2.NewActivity(as2.TypeDelete, actorIRI+"#delete", actorIRI, as2.IRI(actorIRI))
	a.To = []string{as2.Public}
	return a
}

// isLocalActor reports whether iri is one of this instance's actors.
func isLocalActor(s urls.Scheme, iri string) bool {
	t, ok := s.Parse(iri)
	return ok && t.Collection == "" && !t.Profile && !strings.ContainsAny(iri, "?#")
}
