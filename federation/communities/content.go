package communities

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/post"
)

// Sanitisers of received HTML. bluemonday's UGC policy keeps what people
// write (paragraphs, links with rel=nofollow, lists, emphasis, code,
// images) and drops scripts, styles, event handlers, iframes and unsafe
// URLs; the strict policy keeps no markup at all (titles).
var (
	ugc    = bluemonday.UGCPolicy()
	strict = bluemonday.StrictPolicy()
)

// SanitizeHTML returns received HTML reduced to what is safe to show.
func SanitizeHTML(s string) string { return strings.TrimSpace(ugc.Sanitize(s)) }

// SanitizeText returns a received plain-text field (a title) without any
// markup, HTML-escaped.
func SanitizeText(s string) string { return strings.TrimSpace(strict.Sanitize(s)) }

// postTypes are the object types received as posts: Note as a Note,
// Article and Lemmy's Page as an Article (a title and a body).
var postTypes = map[string]post.Kind{as2.TypeNote: post.Note, as2.TypeArticle: post.Article, as2.TypePage: post.Article}

// IsPostType reports whether an object of type typ is received as a post.
func IsPostType(typ string) bool { _, ok := postTypes[typ]; return ok }

// isPublic reports whether iri names the Public collection in any of the
// forms software sends.
func isPublic(iri string) bool {
	return iri == as2.Public || iri == "as:Public" || iri == "Public"
}

// addressing returns to and cc of the object, or of the activity when the
// object has none.
func addressing(obj, act *as2.Object) (to, cc []string) {
	to, cc = obj.To, obj.CC
	if len(to) == 0 && len(cc) == 0 && act != nil {
		to, cc = act.To, act.CC
	}
	return to, cc
}

// Visibility derives a received post's visibility from its addressing:
// Public in to → public, in cc → unlisted; otherwise members when it went
// to a community, followers when addressed to a followers collection, and
// direct for the rest.
func Visibility(obj, act *as2.Object, inCommunity bool) post.Visibility {
	to, cc := addressing(obj, act)
	for _, iri := range to {
		if isPublic(iri) {
			return post.Public
		}
	}
	for _, iri := range cc {
		if isPublic(iri) {
			return post.Unlisted
		}
	}
	if inCommunity {
		return post.Members
	}
	for _, iri := range append(to, cc...) {
		if strings.HasSuffix(iri, "/followers") {
			return post.Followers
		}
	}
	return post.Direct
}

// GroupAddressed returns the IRI of the first local Group the object or
// activity is addressed to (audience, to, cc, or the Group's followers
// collection) or that it mentions (a Mention tag, how Mastodon users post
// into a group); "" for none.
func GroupAddressed(s urls.Scheme, obj, act *as2.Object) string {
	var candidates []string
	for _, o := range []*as2.Object{obj, act} {
		if o != nil {
			candidates = append(append(append(candidates, o.Audience...), o.To...), o.CC...)
		}
	}
	for _, t := range obj.Tag {
		if t.Type == as2.TypeMention {
			candidates = append(candidates, t.Href)
		}
	}
	for _, iri := range candidates {
		t, ok := s.Parse(iri)
		if !ok || t.Kind != actor.KindGroup || t.Profile || (t.Collection != "" && t.Collection != urls.Followers) {
			continue
		}
		return s.Actor(actor.KindGroup, t.Username)
	}
	return ""
}

// RemoteGroup returns the community on another server a received post
// was posted into: announcer, the actor whose Announce brought the post
// here, when the post or its activity is addressed to it (audience, to,
// cc) or mentions it (FEP-1b12: a Group announces its members' posts);
// else the post's audience when it names one actor of another server;
// "" otherwise. That community may later remove the post here.
func RemoteGroup(s urls.Scheme, obj, act *as2.Object, announcer string) string {
	if announcer != "" {
		for _, o := range []*as2.Object{obj, act} {
			if o != nil && (slices.Contains(o.Audience, announcer) || slices.Contains(o.To, announcer) || slices.Contains(o.CC, announcer)) {
				return announcer
			}
		}
		for _, t := range obj.Tag {
			if t.Type == as2.TypeMention && t.Href == announcer {
				return announcer
			}
		}
	}
	audience := obj.Audience
	if len(audience) == 0 && act != nil {
		audience = act.Audience
	}
	if len(audience) != 1 || !validIRI(audience[0]) || isPublic(audience[0]) || strings.HasSuffix(audience[0], "/followers") {
		return ""
	}
	if _, local := s.Parse(audience[0]); local {
		return ""
	}
	return audience[0]
}

// lemmyLanguage reads Lemmy's "language": {"identifier": "ko"}.
func lemmyLanguage(raw []byte) string {
	var v struct {
		Language struct {
			Identifier string `json:"identifier"`
		} `json:"language"`
	}
	if json.Unmarshal(raw, &v) != nil || !post.ValidLanguage(v.Language.Identifier) {
		return ""
	}
	return v.Language.Identifier
}

// textMap returns a language map of the object's property (the map, else
// the plain value under lang, else "und"), cleaned by clean; blank values
// are dropped.
func textMap(m as2.Map, plain, lang string, clean func(string) string) map[string]string {
	out := map[string]string{}
	for l, v := range m {
		if v = clean(v); v != "" && post.ValidLanguage(l) {
			out[l] = v
		}
	}
	if len(out) == 0 {
		if v := clean(plain); v != "" {
			if lang == "" {
				lang = post.Undetermined
			}
			out[lang] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// RemotePost converts a received post object into the post command's
// input: the HTML of content and summary sanitised (bluemonday UGC), the
// title stripped of markup, hashtags and mentions from tag, attachments
// with their alt texts, the publication time, and activity (the Create or
// Update as received) kept verbatim. Visibility, community and reply are
// left to the caller.
func RemotePost(obj *as2.Object, activity []byte) (app.RemotePost, bool) {
	kind, ok := postTypes[obj.Type]
	if !ok {
		return app.RemotePost{}, false
	}
	lang := lemmyLanguage(obj.Raw)
	rp := app.RemotePost{ObjectIRI: obj.ID, AuthorIRI: obj.AttributedTo.First().ID, URL: obj.HTMLURL(), Kind: kind,
		ContentMap: textMap(obj.ContentMap, obj.Content, lang, SanitizeHTML),
		SummaryMap: textMap(obj.SummaryMap, obj.Summary, lang, SanitizeHTML),
		Sensitive:  obj.Sensitive, PublishedAt: obj.Published, Activity: string(activity)}
	if kind == post.Article {
		rp.NameMap = textMap(obj.NameMap, obj.Name, lang, SanitizeText)
	}
	if rp.URL == obj.ID {
		rp.URL = ""
	}
	if rp.ContentMap == nil && rp.NameMap != nil {
		// A link post with a title only: its title is its content.
		rp.ContentMap = map[string]string{}
		for l, v := range rp.NameMap {
			rp.ContentMap[l] = "<p>" + v + "</p>"
		}
	}
	for _, t := range obj.Tag {
		switch t.Type {
		case as2.TypeHashtag:
			if h, ok := post.NormalizeHashtag(t.Name); ok {
				rp.Hashtags = append(rp.Hashtags, h)
			}
		case as2.TypeMention:
			if validIRI(t.Href) {
				rp.Mentions = append(rp.Mentions, t.Href)
			}
		}
	}
	for _, a := range obj.Attachment {
		switch a.Type {
		case as2.TypeDocument, as2.TypeImage, as2.TypeVideo, as2.TypeAudio, as2.TypeLink:
		default:
			continue
		}
		if !validIRI(a.URL) {
			continue
		}
		rp.Attachments = append(rp.Attachments, post.Attachment{URL: a.URL, MediaType: a.MediaType})
		rp.Descriptions = append(rp.Descriptions, SanitizeText(a.Name))
	}
	if allEmpty(rp.Descriptions) {
		rp.Descriptions = nil
	}
	return rp, true
}

func allEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return false
		}
	}
	return true
}

// validIRI accepts an absolute http(s) URL.
func validIRI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// sameHost reports whether two IRIs have the same (case-folded) host.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host)
}
