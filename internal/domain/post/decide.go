package post

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Thread is where a new post goes: the post it answers and its thread's
// first post, as the application loaded them (zero States for a new
// thread, or for a received reply to a post this server never saw).
type Thread struct {
	// InReplyTo is what the post answers, as given: a local post id or an
	// object IRI ("" for a new thread).
	InReplyTo string
	// Parent is the state of the post answered, Root the state of its
	// thread's first post (the same as Parent when Parent is a root).
	Parent, Root State
}

// ReplyCommunity returns the community of a post: a reply belongs to its
// parent's community whatever was asked (asking for another one is an
// error); a new thread goes where asked.
func ReplyCommunity(parent State, asked string) (string, error) {
	if !parent.Exists {
		return asked, nil
	}
	if asked != "" && asked != parent.CommunityID {
		return "", fieldErr("community_id", "a reply belongs to the community of the post it answers")
	}
	return parent.CommunityID, nil
}

// threadOf decides InReplyTo, RootID and the community of a new post.
// known reports whether a parent that was named must exist (local posts);
// received replies to unknown posts start their own thread here.
func threadOf(id string, t Thread, askedCommunity string, known bool) (inReplyTo, rootID, communityID string, err error) {
	if t.InReplyTo == "" {
		return "", id, askedCommunity, nil
	}
	if !t.Parent.Exists {
		if known {
			return "", "", "", fieldErr("in_reply_to", "no such post")
		}
		return t.InReplyTo, id, askedCommunity, nil
	}
	if t.Parent.Deleted || t.Parent.Removed {
		return "", "", "", fmt.Errorf("%w: %s", ErrParentGone, t.Parent.ID)
	}
	root := t.Root
	if !root.Exists {
		root = t.Parent
	}
	if root.Locked || t.Parent.Locked {
		return "", "", "", fmt.Errorf("%w: %s", ErrThreadLocked, root.ID)
	}
	communityID, err = ReplyCommunity(t.Parent, askedCommunity)
	if err != nil {
		return "", "", "", err
	}
	rootID = t.Parent.RootID
	if rootID == "" {
		rootID = t.Parent.ID
	}
	return t.Parent.ID, rootID, communityID, nil
}

// postVisibility decides the visibility of a post into communityID:
// members-only communities make every post members-only; Members needs a
// community.
func postVisibility(v Visibility, communityID string, cv community.Visibility) (Visibility, error) {
	if communityID != "" && cv == community.Members {
		return Members, nil
	}
	if !ValidVisibility(v) {
		return "", fieldErr("visibility", "must be public, unlisted, followers, direct or members")
	}
	if v == Members && communityID == "" {
		return "", fieldErr("visibility", "members is only for posts into a community")
	}
	return v, nil
}

// NewPost is the input of Publish: a local person's post. Ids come from
// the application layer; mentions are already resolved to actor IRIs and
// attachments to the author's uploaded media.
type NewPost struct {
	ID       string
	AuthorID string
	Kind     Kind
	// CommunityID is the community posted into ("" for none); a reply
	// takes its parent's.
	CommunityID string
	// CommunityVisibility is that community's visibility.
	CommunityVisibility community.Visibility
	Thread              Thread
	Visibility          Visibility
	Texts               Texts
	Mentions            []string
	Attachments         []Attachment
	// Descriptions are the attachments' alt texts, in order.
	Descriptions []string
	Sensitive    bool
}

// Publish decides the publication of a local post on the stream folded
// into s, sealing what the author wrote under the author's data key.
func Publish(s State, in NewPost, sealer personal.Sealer) (Published, error) {
	if s.Exists {
		return Published{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	switch {
	case in.ID == "":
		return Published{}, fieldErr("id", "must not be empty")
	case in.AuthorID == "" || strings.Contains(in.AuthorID, "://"):
		return Published{}, fieldErr("author", "must be a local account id")
	case !ValidKind(in.Kind):
		return Published{}, fieldErr("kind", "must be Note or Article")
	case len(in.Attachments) > MaxAttachments:
		return Published{}, fieldErr("media_ids", "must have at most %d attachments", MaxAttachments)
	}
	inReplyTo, rootID, communityID, err := threadOf(in.ID, in.Thread, in.CommunityID, true)
	if err != nil {
		return Published{}, err
	}
	visibility, err := postVisibility(in.Visibility, communityID, in.CommunityVisibility)
	if err != nil {
		return Published{}, err
	}
	texts, err := checkLocalTexts(in.Kind, in.Texts)
	if err != nil {
		return Published{}, err
	}
	tags, err := localHashtags(texts.ContentMap)
	if err != nil {
		return Published{}, err
	}
	mentions, err := checkMentions(in.Mentions)
	if err != nil {
		return Published{}, err
	}
	descriptions, err := checkDescriptions(in.Descriptions, len(in.Attachments))
	if err != nil {
		return Published{}, err
	}
	content := Content{ContentMap: texts.ContentMap, NameMap: texts.NameMap, SummaryMap: texts.SummaryMap, Descriptions: descriptions}
	sealed, err := seal(sealer, in.AuthorID, content)
	if err != nil {
		return Published{}, err
	}
	return Published{PostID: in.ID, Kind: in.Kind, AuthorID: in.AuthorID, CommunityID: communityID,
		InReplyTo: inReplyTo, RootID: rootID, Visibility: visibility, Languages: Languages(texts.ContentMap),
		Hashtags: tags, Mentions: mentions, Attachments: slices.Clone(in.Attachments), Sensitive: in.Sensitive,
		Content: sealed}, nil
}

// seal checks the size of c and seals it under subject.
func seal(sealer personal.Sealer, subject string, c Content) (personal.Text, error) {
	if err := checkContentSize(c); err != nil {
		return personal.Text{}, err
	}
	t, err := personal.SealJSON(sealer, subject, c)
	if err != nil {
		return personal.Text{}, fmt.Errorf("post: seal content: %w", err)
	}
	return t, nil
}

// NewRemotePost is the input of PublishRemote: a post received from
// another server, its HTML already sanitised.
type NewRemotePost struct {
	ID        string
	ObjectIRI string
	AuthorIRI string
	URL       string
	Kind      Kind
	// CommunityID is the local community it was posted into ("" for
	// none); a reply takes its parent's.
	CommunityID         string
	CommunityVisibility community.Visibility
	// CommunityIRI is the remote community (a Group on another server)
	// it was posted into; ignored when CommunityID is set.
	CommunityIRI       string
	Thread             Thread
	Visibility         Visibility
	Texts              Texts
	Hashtags, Mentions []string
	Attachments        []Attachment
	Descriptions       []string
	Sensitive          bool
	// PublishedAt is the post's own publication time (RFC 3339).
	PublishedAt string
	// Activity is the Create as received (announced unmodified).
	Activity string
}

// PublishRemote decides the recording of a received post on the stream
// folded into s, sealing its text under the remote author's IRI.
// Limits are wider than for local posts and surplus tags, mentions and
// attachments are dropped rather than refused: the post exists anyway.
func PublishRemote(s State, in NewRemotePost, sealer personal.Sealer) (Published, error) {
	if s.Exists {
		return Published{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	switch {
	case in.ID == "":
		return Published{}, fieldErr("id", "must not be empty")
	case !strings.Contains(in.ObjectIRI, "://"):
		return Published{}, fieldErr("id", "the object id must be an IRI")
	case !strings.Contains(in.AuthorIRI, "://"):
		return Published{}, fieldErr("attributedTo", "the author must be an actor IRI")
	case !ValidKind(in.Kind):
		return Published{}, fieldErr("type", "must be Note or Article")
	case in.CommunityIRI != "" && !strings.Contains(in.CommunityIRI, "://"):
		return Published{}, fieldErr("audience", "the community must be an actor IRI")
	}
	inReplyTo, rootID, communityID, err := threadOf(in.ID, in.Thread, in.CommunityID, false)
	if err != nil {
		return Published{}, err
	}
	communityIRI := in.CommunityIRI
	if communityID != "" {
		communityIRI = ""
	}
	visibility, err := postVisibility(in.Visibility, communityID, in.CommunityVisibility)
	if err != nil {
		return Published{}, err
	}
	attachments := in.Attachments
	if len(attachments) > MaxRemoteAttachments {
		attachments = attachments[:MaxRemoteAttachments]
	}
	descriptions := in.Descriptions
	if len(descriptions) > len(attachments) {
		descriptions = descriptions[:len(attachments)]
	}
	if descriptions, err = checkDescriptions(descriptions, len(attachments)); err != nil {
		return Published{}, err
	}
	texts, err := checkRemoteTexts(in.Texts, len(attachments))
	if err != nil {
		return Published{}, err
	}
	content := Content{ContentMap: texts.ContentMap, NameMap: texts.NameMap, SummaryMap: texts.SummaryMap,
		Descriptions: descriptions, Activity: in.Activity}
	sealed, err := seal(sealer, in.AuthorIRI, content)
	if err != nil {
		return Published{}, err
	}
	return Published{PostID: in.ID, Kind: in.Kind, AuthorIRI: in.AuthorIRI, ObjectIRI: in.ObjectIRI, URL: in.URL,
		CommunityID: communityID, CommunityIRI: communityIRI, InReplyTo: inReplyTo, RootID: rootID, Visibility: visibility,
		Languages: Languages(texts.ContentMap), Hashtags: remoteHashtags(in.Hashtags),
		Mentions: uniqueLimited(in.Mentions, MaxMentions), Attachments: slices.Clone(attachments),
		Sensitive: in.Sensitive, Content: sealed, PublishedAt: in.PublishedAt}, nil
}

// Revision is the new text of an edited post. Nil Mentions and Sensitive
// keep the post's; Hashtags are used for received posts only (a local
// post's are extracted from its text); Descriptions nil keeps the alt
// texts; Activity is a received Update as received.
type Revision struct {
	Texts        Texts
	Hashtags     []string
	Mentions     []string
	Sensitive    *bool
	Descriptions []string
	Activity     string
}

// Edit decides an edit of the post folded into s by by, who must be its
// author (the local account id, or the remote actor IRI).
func Edit(s State, by string, in Revision, sealer personal.Sealer) (Edited, error) {
	if err := s.Live(); err != nil {
		return Edited{}, err
	}
	if by == "" || by != s.Author() {
		return Edited{}, fmt.Errorf("%w: %s", ErrNotAuthor, s.ID)
	}
	ev := Edited{Mentions: s.Mentions, Sensitive: s.Sensitive}
	if in.Sensitive != nil {
		ev.Sensitive = *in.Sensitive
	}
	var texts Texts
	var err error
	content := Content{}
	if s.AuthorID != "" {
		if texts, err = checkLocalTexts(s.Kind, in.Texts); err != nil {
			return Edited{}, err
		}
		if ev.Hashtags, err = localHashtags(texts.ContentMap); err != nil {
			return Edited{}, err
		}
		if in.Mentions != nil {
			if ev.Mentions, err = checkMentions(in.Mentions); err != nil {
				return Edited{}, err
			}
		}
		if len(in.Descriptions) > MaxAttachments {
			return Edited{}, fieldErr("descriptions", "has more entries than a post has attachments")
		}
	} else {
		if texts, err = checkRemoteTexts(in.Texts, 1); err != nil {
			return Edited{}, err
		}
		ev.Hashtags = remoteHashtags(in.Hashtags)
		if in.Mentions != nil {
			ev.Mentions = uniqueLimited(in.Mentions, MaxMentions)
		}
		content.Activity = in.Activity
		if len(in.Descriptions) > MaxRemoteAttachments {
			in.Descriptions = in.Descriptions[:MaxRemoteAttachments]
		}
	}
	for _, d := range in.Descriptions {
		if err := checkText("descriptions", d, MaxDescriptionChars); err != nil {
			return Edited{}, err
		}
	}
	content.ContentMap, content.NameMap, content.SummaryMap = texts.ContentMap, texts.NameMap, texts.SummaryMap
	content.Descriptions = slices.Clone(in.Descriptions)
	ev.Languages = Languages(texts.ContentMap)
	if ev.Content, err = seal(sealer, s.Author(), content); err != nil {
		return Edited{}, err
	}
	return ev, nil
}

// Delete decides the deletion of the post folded into s by by: its
// author, or anyone when admin is set (an instance administrator).
func Delete(s State, by string, admin bool) (Deleted, error) {
	switch {
	case !s.Exists:
		return Deleted{}, ErrNotFound
	case s.Deleted:
		return Deleted{}, fmt.Errorf("%w: %s", ErrDeleted, s.ID)
	case !admin && (by == "" || by != s.Author()):
		return Deleted{}, fmt.Errorf("%w: %s", ErrNotAuthor, s.ID)
	}
	return Deleted{By: by}, nil
}

// Remove decides the removal of a community's post by a facilitator by
// (whose role the application has checked).
func Remove(s State, by, reason string) (Removed, error) {
	if err := s.Live(); err != nil {
		return Removed{}, err
	}
	if s.CommunityID == "" {
		return Removed{}, fmt.Errorf("%w: %s", ErrNotInCommunity, s.ID)
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, MaxReasonChars); err != nil {
		return Removed{}, err
	}
	return Removed{CommunityID: s.CommunityID, By: by, Reason: reason}, nil
}

// RemoveByCommunity decides the removal of a received post by its remote
// community: groupIRI, whose Group sent an Announce{Delete} of the post
// (FEP-1b12: its moderators removed it), must be the community the post
// was posted into.
func RemoveByCommunity(s State, groupIRI string) (Removed, error) {
	if err := s.Live(); err != nil {
		return Removed{}, err
	}
	if s.CommunityIRI == "" || s.CommunityIRI != groupIRI {
		return Removed{}, fmt.Errorf("%w: %s is not a post of %s", ErrNotInCommunity, s.ID, groupIRI)
	}
	return Removed{By: groupIRI}, nil
}

// Announce decides that the post's community shares it with its
// followers (FEP-1b12): community posts only, once, never followers-only
// or direct posts.
func Announce(s State) (Announced, error) {
	if err := s.Live(); err != nil {
		return Announced{}, err
	}
	switch {
	case s.CommunityID == "":
		return Announced{}, fmt.Errorf("%w: %s", ErrNotInCommunity, s.ID)
	case s.Announced:
		return Announced{}, fmt.Errorf("%w: %s", ErrAlreadyAnnounced, s.ID)
	case !Shareable(s.Visibility):
		return Announced{}, fmt.Errorf("%w: %s is %s", ErrNotShareable, s.ID, s.Visibility)
	}
	return Announced{CommunityID: s.CommunityID}, nil
}

// Boost decides that the remote actor boosterIRI announced the post:
// public and unlisted posts only, once per actor.
func Boost(s State, boosterIRI, activityID string) (Boosted, error) {
	if err := s.Live(); err != nil {
		return Boosted{}, err
	}
	switch {
	case !strings.Contains(boosterIRI, "://"):
		return Boosted{}, fieldErr("actor", "must be an actor IRI")
	case s.Visibility != Public && s.Visibility != Unlisted:
		return Boosted{}, fmt.Errorf("%w: %s is %s", ErrNotShareable, s.ID, s.Visibility)
	case slices.Contains(s.Boosters, boosterIRI):
		return Boosted{}, fmt.Errorf("%w: %s", ErrAlreadyBoosted, s.ID)
	}
	return Boosted{BoosterIRI: boosterIRI, ActivityID: activityID}, nil
}

// Unboost decides that the remote actor boosterIRI withdraws its boost of
// the post (a received Undo{Announce}, activity activityID): only an actor
// that boosted the post may, and only once per boost (ErrNotBoosted
// otherwise, which the application treats as a no-op). A deleted or
// removed post has left every timeline already (its Live error).
func Unboost(s State, boosterIRI, activityID string) (Unboosted, error) {
	if err := s.Live(); err != nil {
		return Unboosted{}, err
	}
	switch {
	case !strings.Contains(boosterIRI, "://"):
		return Unboosted{}, fieldErr("actor", "must be an actor IRI")
	case !slices.Contains(s.Boosters, boosterIRI):
		return Unboosted{}, fmt.Errorf("%w: %s", ErrNotBoosted, s.ID)
	}
	return Unboosted{BoosterIRI: boosterIRI, ActivityID: activityID}, nil
}

// communityRoot checks that s is the live first post of a community's
// thread.
func communityRoot(s State) error {
	if err := s.Live(); err != nil {
		return err
	}
	switch {
	case s.CommunityID == "":
		return fmt.Errorf("%w: %s", ErrNotInCommunity, s.ID)
	case !s.IsRoot():
		return fmt.Errorf("%w: %s", ErrNotRoot, s.ID)
	}
	return nil
}

// LockThread decides that the thread started by s refuses new replies.
func LockThread(s State, by string) (ThreadLocked, error) {
	if err := communityRoot(s); err != nil {
		return ThreadLocked{}, err
	}
	if s.Locked {
		return ThreadLocked{}, fmt.Errorf("%w: %s", ErrAlreadyLocked, s.ID)
	}
	return ThreadLocked{By: by}, nil
}

// UnlockThread lifts a thread's lock.
func UnlockThread(s State, by string) (ThreadUnlocked, error) {
	if err := communityRoot(s); err != nil {
		return ThreadUnlocked{}, err
	}
	if !s.Locked {
		return ThreadUnlocked{}, fmt.Errorf("%w: %s", ErrNotLocked, s.ID)
	}
	return ThreadUnlocked{By: by}, nil
}

// Pin decides that the thread started by s is featured in its community.
func Pin(s State, by string) (Pinned, error) {
	if err := communityRoot(s); err != nil {
		return Pinned{}, err
	}
	if s.Pinned {
		return Pinned{}, fmt.Errorf("%w: %s", ErrAlreadyPinned, s.ID)
	}
	return Pinned{CommunityID: s.CommunityID, By: by}, nil
}

// Unpin decides that the post is no longer featured.
func Unpin(s State, by string) (Unpinned, error) {
	if err := communityRoot(s); err != nil {
		return Unpinned{}, err
	}
	if !s.Pinned {
		return Unpinned{}, fmt.Errorf("%w: %s", ErrNotPinned, s.ID)
	}
	return Unpinned{CommunityID: s.CommunityID, By: by}, nil
}

// Like decides that liker (a local account id or a remote actor IRI)
// likes the live post p; l is the like stream's state.
func Like(p State, l LikeState, liker, activityID string) (Liked, error) {
	if err := p.Live(); err != nil {
		return Liked{}, err
	}
	if liker == "" {
		return Liked{}, fieldErr("liker", "must not be empty")
	}
	if l.Liked {
		return Liked{}, fmt.Errorf("%w: %s", ErrAlreadyLiked, p.ID)
	}
	return Liked{PostID: p.ID, Liker: liker, ActivityID: activityID}, nil
}

// Unlike decides the withdrawal of liker's like of postID.
func Unlike(l LikeState, postID, liker string) (LikeUndone, error) {
	if !l.Liked {
		return LikeUndone{}, fmt.Errorf("%w: %s", ErrNotLiked, postID)
	}
	return LikeUndone{PostID: postID, Liker: liker}, nil
}
