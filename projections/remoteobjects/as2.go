package remoteobjects

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/hanse-network/hanse/projections"
)

// publicIRIs are the Public collection and its compacted forms.
var publicIRIs = map[string]bool{
	"https://www.w3.org/ns/activitystreams#Public": true,
	"as:Public": true,
	"Public":    true,
}

// contentTypes are the object types stored on Create and Update.
var contentTypes = map[string]bool{
	"Article": true, "Audio": true, "ChatMessage": true, "Document": true, "Event": true,
	"Image": true, "Note": true, "Page": true, "Question": true, "Video": true,
}

// activityTypes are object types that are themselves activities: an
// Announce of one is a relay (FEP-1b12), not a boost.
var activityTypes = map[string]bool{
	"Accept": true, "Add": true, "Announce": true, "Block": true, "Create": true, "Delete": true,
	"Dislike": true, "EmojiReact": true, "Flag": true, "Follow": true, "Like": true, "Move": true,
	"Reject": true, "Remove": true, "Undo": true, "Update": true,
}

// strs is a JSON value that may be one string, one object with an "id" (or
// "href"), or an array of those; it keeps the ids in order.
type strs []string

func (s *strs) UnmarshalJSON(b []byte) error {
	*s = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return nil // tolerate: unreadable means absent
		}
		for _, it := range items {
			var one strs
			_ = one.UnmarshalJSON(it)
			*s = append(*s, one...)
		}
		return nil
	}
	if b[0] == '"' {
		var v string
		if json.Unmarshal(b, &v) == nil && v != "" {
			*s = strs{v}
		}
		return nil
	}
	if b[0] == '{' {
		var v struct {
			ID   string `json:"id"`
			Href string `json:"href"`
		}
		if json.Unmarshal(b, &v) == nil {
			if v.ID != "" {
				*s = strs{v.ID}
			} else if v.Href != "" {
				*s = strs{v.Href}
			}
		}
	}
	return nil
}

func (s strs) first() string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (s strs) has(v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// text is a JSON value that should be a string; anything else reads as "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		*t = text(v)
	} else {
		*t = ""
	}
	return nil
}

// types is "type": a string or an array of strings.
type types []string

func (t *types) UnmarshalJSON(b []byte) error {
	*t = nil
	var one string
	if json.Unmarshal(b, &one) == nil {
		if one != "" {
			*t = types{one}
		}
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*t = many
	}
	return nil
}

// in returns the first of the types (an "as:" prefix stripped) that is in set.
func (t types) in(set map[string]bool) (string, bool) {
	for _, x := range t {
		x = strings.TrimPrefix(x, "as:")
		if set[x] {
			return x, true
		}
	}
	return "", false
}

func (t types) primary() string {
	if len(t) == 0 {
		return ""
	}
	return strings.TrimPrefix(t[0], "as:")
}

// node is the part of an AS2 activity or object this read model reads.
type node struct {
	ID           text              `json:"id"`
	Type         types             `json:"type"`
	Actor        strs              `json:"actor"`
	AttributedTo strs              `json:"attributedTo"`
	Content      text              `json:"content"`
	ContentMap   map[string]string `json:"contentMap"`
	Name         text              `json:"name"`
	NameMap      map[string]string `json:"nameMap"`
	URL          strs              `json:"url"`
	InReplyTo    strs              `json:"inReplyTo"`
	Published    text              `json:"published"`
	Updated      text              `json:"updated"`
	To           strs              `json:"to"`
	Cc           strs              `json:"cc"`
	Audience     strs              `json:"audience"`
	// Object is the raw object: an IRI, an inline node or an array.
	Object json.RawMessage `json:"object"`
}

// objectRef is an activity's object: its id, and the inline node when the
// object was embedded.
type objectRef struct {
	ID     string
	Inline *node
}

// object reads n.object; for an array, the first entry.
func (n *node) object() objectRef {
	b := bytes.TrimSpace(n.Object)
	if len(b) > 0 && b[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(b, &items) != nil || len(items) == 0 {
			return objectRef{}
		}
		b = bytes.TrimSpace(items[0])
	}
	if len(b) == 0 {
		return objectRef{}
	}
	switch b[0] {
	case '"':
		var s string
		_ = json.Unmarshal(b, &s)
		return objectRef{ID: s}
	case '{':
		var in node
		if json.Unmarshal(b, &in) != nil {
			return objectRef{}
		}
		return objectRef{ID: string(in.ID), Inline: &in}
	}
	return objectRef{}
}

// pickMap returns the best entry of a language map: "und", then "en",
// then the first language in sorted order (deterministic).
func pickMap(m map[string]string) string {
	for _, k := range []string{"und", "en"} {
		if v := m[k]; v != "" {
			return v
		}
	}
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return m[keys[0]]
}

func (n *node) content() string {
	if n.Content != "" {
		return string(n.Content)
	}
	return pickMap(n.ContentMap)
}

func (n *node) name() string {
	if n.Name != "" {
		return string(n.Name)
	}
	return pickMap(n.NameMap)
}

// Visibility is how widely an object was addressed, inferred as Mastodon
// does from the Public collection in to and cc.
type Visibility string

// Visibilities.
const (
	// Public: the Public collection is in to (or audience).
	Public Visibility = "public"
	// Unlisted: the Public collection is only in cc.
	Unlisted Visibility = "unlisted"
	// Followers: not public, addressed to a followers collection (the
	// actor's "followers" IRI or any IRI ending in /followers).
	Followers Visibility = "followers"
	// Direct: addressed only to individual actors.
	Direct Visibility = "direct"
)

// visibility infers the visibility of obj; the object's own addressing
// wins, the activity's is the fallback.
func visibility(obj, act *node, owner string) Visibility {
	to, cc, aud := obj.To, obj.Cc, obj.Audience
	if len(to) == 0 && len(cc) == 0 {
		to, cc = act.To, act.Cc
	}
	anyOf := func(lists []strs, pred func(string) bool) bool {
		for _, l := range lists {
			for _, x := range l {
				if pred(x) {
					return true
				}
			}
		}
		return false
	}
	isPublic := func(s string) bool { return publicIRIs[s] }
	switch {
	case anyOf([]strs{to, aud}, isPublic):
		return Public
	case anyOf([]strs{cc}, isPublic):
		return Unlisted
	case anyOf([]strs{to, cc}, func(s string) bool {
		return s == owner+"/followers" || strings.HasSuffix(s, "/followers")
	}):
		return Followers
	}
	return Direct
}

// normTime returns an RFC 3339 time as fixed-width UTC text, "" when it
// does not parse.
func normTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return projections.FormatTime(t)
}
