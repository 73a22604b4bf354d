package post

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Event type names; part of the stored log, never rename them.
const (
	TypePublished      = "post.published"
	TypeEdited         = "post.edited"
	TypeDeleted        = "post.deleted"         // by its author
	TypeRemoved        = "post.removed"         // by a community facilitator
	TypeAnnounced      = "post.announced"       // the community shared it (FEP-1b12)
	TypeThreadLocked   = "post.thread_locked"   // on a thread's root post
	TypeThreadUnlocked = "post.thread_unlocked" // on a thread's root post
	TypePinned         = "post.pinned"          // featured in its community
	TypeUnpinned       = "post.unpinned"
	// TypeBoosted: a remote actor that local people follow (a remote
	// community, say) announced the post; it enters their home timelines.
	TypeBoosted = "post.boosted"
	// TypeUnboosted: a booster withdrew its boost (Undo{Announce}); the
	// post leaves the home timelines it had entered through that boost.
	TypeUnboosted = "post.unboosted"
	// Likes live in their own small stream per (post, liker).
	TypeLiked      = "post.liked"
	TypeLikeUndone = "post.like_undone"
)

// Kind is the ActivityStreams object type of a post.
type Kind string

// The kinds of posts.
const (
	Note    Kind = "Note"    // short
	Article Kind = "Article" // long, with a title
)

// Visibility is who may see a post.
type Visibility string

// Visibilities, as Mastodon knows them, plus Members (a members-only
// community's posts: addressed to the community's followers).
const (
	Public    Visibility = "public"
	Unlisted  Visibility = "unlisted"
	Followers Visibility = "followers"
	Direct    Visibility = "direct"
	Members   Visibility = "members"
)

// Stream is the post's stream: "post-<id>".
func Stream(id string) string { return "post-" + id }

// LikeStream is the stream of one liker's like of a post.
func LikeStream(postID, liker string) string {
	h := sha256.Sum256([]byte(liker))
	return "like-" + postID + "-" + hex.EncodeToString(h[:12])
}

// Attachment is a file attached to a post.
type Attachment struct {
	// MediaID is the local media id (empty for a remote attachment).
	MediaID string `json:"mediaId,omitempty"`
	// URL is the remote attachment's URL (empty for local media).
	URL       string `json:"url,omitempty"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size,omitempty"`
	// Description (alt text) is inside Content (personal).
}

// Content is the personal part of a post, sealed as one JSON value under
// the author's data key: what the person wrote.
type Content struct {
	// ContentMap maps a language tag ("und" when unknown) to plain text
	// (local posts) or sanitised HTML (remote posts).
	ContentMap map[string]string `json:"contentMap"`
	// NameMap is an Article's title per language.
	NameMap map[string]string `json:"nameMap,omitempty"`
	// SummaryMap is a content warning / abstract per language.
	SummaryMap map[string]string `json:"summaryMap,omitempty"`
	// Descriptions are the attachments' alt texts, in attachment order.
	Descriptions []string `json:"descriptions,omitempty"`
	// Activity is a remote post's Create activity exactly as received
	// (announced unmodified, FEP-1b12); empty for local posts.
	Activity string `json:"activity,omitempty"`
}

// Published records a new post, local or received from another server.
type Published struct {
	PostID string `json:"postId"`
	Kind   Kind   `json:"kind"`
	// AuthorID is the local author's account id; AuthorIRI the remote
	// author's actor IRI. Exactly one is set.
	AuthorID  string `json:"authorId,omitempty"`
	AuthorIRI string `json:"authorIri,omitempty"`
	// ObjectIRI is a remote post's id (empty for local posts).
	ObjectIRI string `json:"objectIri,omitempty"`
	// URL is a remote post's human-readable page, if it gave one.
	URL string `json:"url,omitempty"`
	// CommunityID is the local community the post was posted into.
	CommunityID string `json:"communityId,omitempty"`
	// CommunityIRI is a received post's remote community: the Group on
	// another server it was posted into (FEP-1b12), which may remove it
	// here (RemoveByCommunity). Empty when CommunityID is set.
	CommunityIRI string `json:"communityIri,omitempty"`
	// InReplyTo is the local post id or remote object IRI answered;
	// RootID the local id of the thread's first post (itself for roots).
	InReplyTo  string     `json:"inReplyTo,omitempty"`
	RootID     string     `json:"rootId,omitempty"`
	Visibility Visibility `json:"visibility"`
	Languages  []string   `json:"languages,omitempty"`
	// Hashtags without '#', lower-cased; Mentions are actor IRIs.
	Hashtags    []string     `json:"hashtags,omitempty"`
	Mentions    []string     `json:"mentions,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Sensitive   bool         `json:"sensitive,omitempty"`
	// Content is Content sealed under the author (account id or IRI).
	Content personal.Text `json:"content"`
	// PublishedAt is the post's own publication time for remote posts
	// (local posts use the event's occurred-at). RFC 3339.
	PublishedAt string `json:"publishedAt,omitempty"`
}

// Edited replaces a post's content and tags.
type Edited struct {
	Languages []string      `json:"languages,omitempty"`
	Hashtags  []string      `json:"hashtags,omitempty"`
	Mentions  []string      `json:"mentions,omitempty"`
	Sensitive bool          `json:"sensitive,omitempty"`
	Content   personal.Text `json:"content"`
}

// Deleted: the author deleted the post.
type Deleted struct {
	By string `json:"by,omitempty"`
}

// Removed: a facilitator of the post's community removed it, or, for a
// received post of a remote community, that community's Group (By is then
// the Group's IRI and CommunityID is empty).
type Removed struct {
	CommunityID string `json:"communityId"`
	By          string `json:"by"`
	Reason      string `json:"reason,omitempty"`
}

// Announced: the community shared the post with its followers
// (Announce). At most once per post.
type Announced struct {
	CommunityID string `json:"communityId"`
}

// ThreadLocked / ThreadUnlocked: replies to the thread are (no longer)
// refused.
type ThreadLocked struct {
	By string `json:"by"`
}

// ThreadUnlocked lifts a lock.
type ThreadUnlocked struct {
	By string `json:"by"`
}

// Pinned: featured in the community (its featured collection).
type Pinned struct {
	CommunityID string `json:"communityId"`
	By          string `json:"by"`
}

// Unpinned: no longer featured.
type Unpinned struct {
	CommunityID string `json:"communityId"`
	By          string `json:"by"`
}

// Boosted: BoosterIRI announced the post (activity ActivityID).
type Boosted struct {
	BoosterIRI string `json:"boosterIri"`
	ActivityID string `json:"activityId,omitempty"`
}

// Unboosted: BoosterIRI withdrew its boost of the post; ActivityID is the
// id of the activity that withdrew it (a received Undo{Announce}).
type Unboosted struct {
	BoosterIRI string `json:"boosterIri"`
	ActivityID string `json:"activityId,omitempty"`
}

// Liked: Liker (local account id or remote actor IRI) liked the post.
// ActivityID is a remote Like's id.
type Liked struct {
	PostID     string `json:"postId"`
	Liker      string `json:"liker"`
	ActivityID string `json:"activityId,omitempty"`
}

// LikeUndone: the like was withdrawn.
type LikeUndone struct {
	PostID string `json:"postId"`
	Liker  string `json:"liker"`
}

// Register declares the post events in r.
func Register(r *events.Registry) {
	events.Register[Published](r, TypePublished, 1, nil)
	events.Register[Edited](r, TypeEdited, 1, nil)
	events.Register[Deleted](r, TypeDeleted, 1, nil)
	events.Register[Removed](r, TypeRemoved, 1, nil)
	events.Register[Announced](r, TypeAnnounced, 1, nil)
	events.Register[ThreadLocked](r, TypeThreadLocked, 1, nil)
	events.Register[ThreadUnlocked](r, TypeThreadUnlocked, 1, nil)
	events.Register[Pinned](r, TypePinned, 1, nil)
	events.Register[Unpinned](r, TypeUnpinned, 1, nil)
	events.Register[Boosted](r, TypeBoosted, 1, nil)
	events.Register[Unboosted](r, TypeUnboosted, 1, nil)
	events.Register[Liked](r, TypeLiked, 1, nil)
	events.Register[LikeUndone](r, TypeLikeUndone, 1, nil)
}
