package urls

import (
	"net/url"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

// Path segments of posts, the Group's activities about them, media and
// hashtag pages.
const (
	// PostsSegment separates an author's actor IRI from a post id:
	// "{actor IRI}/posts/{id}".
	PostsSegment = "/posts/"
	// ActivitySuffix ends the IRI of a post's Create activity:
	// "{post IRI}/activity".
	ActivitySuffix = "/activity"
	// AnnouncesSegment separates a Group's IRI from the post its
	// activities are about: "{group IRI}/announces/{post id}/{kind}".
	AnnouncesSegment = "/announces/"
	// MediaPrefix starts the URL of a local media file: "/media/{id}".
	MediaPrefix = "/media/"
	// TagsPrefix starts the URL of a hashtag page: "/tags/{tag}".
	TagsPrefix = "/tags/"
)

// MaxIDBytes bounds the post ids ParsePost accepts.
const MaxIDBytes = 128

// PostIRI returns the IRI of the local post id by the author authorIRI.
func PostIRI(authorIRI, id string) string { return authorIRI + PostsSegment + url.PathEscape(id) }

// PostActivityIRI returns the IRI of the Create activity of a local post.
func PostActivityIRI(authorIRI, id string) string { return PostIRI(authorIRI, id) + ActivitySuffix }

// Featured returns the IRI of an actor's featured collection (a Group's
// pinned posts).
func (s Scheme) Featured(actorIRI string) string { return s.Collection(actorIRI, Featured) }

// Media returns the URL of the local media file id.
func (s Scheme) Media(id string) string { return s.base + MediaPrefix + url.PathEscape(id) }

// Tag returns the URL of the page of hashtag tag (without '#', case-folded).
func (s Scheme) Tag(tag string) string {
	return s.base + TagsPrefix + url.PathEscape(strings.ToLower(strings.TrimPrefix(tag, "#")))
}

// Post is what a local post URL designates.
type Post struct {
	// Author is the author's actor (kind and username).
	Author Target
	// ID is the post id.
	ID string
	// Activity reports the IRI of the post's Create activity.
	Activity bool
}

// ParsePost resolves an absolute URL of this instance that names a post
// ("{actor IRI}/posts/{id}") or its Create ("…/activity"); ok is false for
// anything else. Query and fragment are ignored.
func (s Scheme) ParsePost(raw string) (Post, bool) {
	rest, ok := s.localPath(raw)
	if !ok {
		return Post{}, false
	}
	return ParsePostPath(rest)
}

// PostID returns the id of the local post whose IRI is iri (not its
// Create's); ok is false for anything else. It fits app.Posts.LocalPostID.
func (s Scheme) PostID(iri string) (id string, ok bool) {
	p, ok := s.ParsePost(iri)
	if !ok || p.Activity {
		return "", false
	}
	return p.ID, true
}

// ParsePostPath is ParsePost for a server-relative, percent-decoded path
// (http.Request.URL.Path without the base URL's path).
func ParsePostPath(p string) (Post, bool) {
	p, isActivity := strings.CutSuffix(p, ActivitySuffix)
	i := strings.LastIndex(p, PostsSegment)
	if i <= 0 {
		return Post{}, false
	}
	actorPath, id := p[:i], p[i+len(PostsSegment):]
	if !validID(id) {
		return Post{}, false
	}
	t, ok := ParsePath(actorPath)
	if !ok || t.Collection != "" || t.Profile || t.Kind == actor.KindApplication {
		return Post{}, false
	}
	return Post{Author: t, ID: id, Activity: isActivity}, true
}

// AnnounceKind names one of the activities a Group sends about a post in
// its community (FEP-1b12), and is the last segment of their ids.
type AnnounceKind string

// The Group's activities about a post.
const (
	// AnnounceCreate is Announce{Create}: the Group shares the post's Create
	// unmodified with its followers (what FEP-1b12 software reads).
	AnnounceCreate AnnounceKind = "create"
	// AnnounceObject is Announce{post}: the same share as a boost of the
	// post itself, which Mastodon understands.
	AnnounceObject AnnounceKind = "object"
	// AnnounceUpdate is Announce{Update}: the post was edited; the id
	// carries a tag naming the edit.
	AnnounceUpdate AnnounceKind = "update"
	// AnnounceDelete is Announce{Delete}: the post was deleted or removed.
	AnnounceDelete AnnounceKind = "delete"
	// GroupDelete is the Group's own Delete{post}, embedded in
	// AnnounceDelete when a facilitator removed the post (or its remote
	// author deleted it).
	GroupDelete AnnounceKind = "removal"
	// UndoAnnounceObject is Undo{Announce{post}}: Mastodon's un-boost.
	UndoAnnounceObject AnnounceKind = "undo"
)

var announceKinds = map[AnnounceKind]bool{AnnounceCreate: true, AnnounceObject: true, AnnounceUpdate: true,
	AnnounceDelete: true, GroupDelete: true, UndoAnnounceObject: true}

// Announce is what the id of a Group's activity about a post designates.
type Announce struct {
	// GroupIRI is the Group's actor IRI.
	GroupIRI string
	// PostID is the local id of the post (local or received).
	PostID string
	// Kind is the activity.
	Kind AnnounceKind
	// Tag distinguishes several activities of one kind (the edits of
	// AnnounceUpdate); "" for the others.
	Tag string
}

// AnnounceIRI returns the id of the Group's activity of kind about postID:
// "{group IRI}/announces/{post id}/{kind}", with "/{tag}" appended when tag
// is not empty (AnnounceUpdate).
func AnnounceIRI(groupIRI, postID string, kind AnnounceKind, tag string) string {
	s := groupIRI + AnnouncesSegment + url.PathEscape(postID) + "/" + string(kind)
	if tag != "" {
		s += "/" + url.PathEscape(tag)
	}
	return s
}

// ParseAnnounce resolves the id of a local Group's activity about a post
// (AnnounceIRI); ok is false for anything else.
func (s Scheme) ParseAnnounce(raw string) (Announce, bool) {
	rest, ok := s.localPath(raw)
	if !ok {
		return Announce{}, false
	}
	i := strings.LastIndex(rest, AnnouncesSegment)
	if i <= 0 {
		return Announce{}, false
	}
	t, ok := ParsePath(rest[:i])
	if !ok || t.Kind != actor.KindGroup || t.Collection != "" || t.Profile {
		return Announce{}, false
	}
	parts := strings.Split(rest[i+len(AnnouncesSegment):], "/")
	if len(parts) < 2 || len(parts) > 3 || !validID(parts[0]) || !announceKinds[AnnounceKind(parts[1])] {
		return Announce{}, false
	}
	a := Announce{GroupIRI: s.Actor(actor.KindGroup, t.Username), PostID: parts[0], Kind: AnnounceKind(parts[1])}
	if len(parts) == 3 {
		if a.Kind != AnnounceUpdate || !validID(parts[2]) {
			return Announce{}, false
		}
		a.Tag = parts[2]
	} else if a.Kind == AnnounceUpdate {
		return Announce{}, false
	}
	return a, true
}

// localPath returns the percent-decoded path of a URL of this instance
// with the base URL's path removed; ok is false for other hosts.
func (s Scheme) localPath(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	if !s.sameOrigin(u) {
		return "", false
	}
	return strings.CutPrefix(u.Path, s.path)
}

// validID accepts a non-empty path segment of bounded length.
func validID(id string) bool {
	return id != "" && len(id) <= MaxIDBytes && !strings.ContainsAny(id, "/?#") &&
		!strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
