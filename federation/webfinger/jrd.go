package webfinger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Media types and link relations.
const (
	// MediaTypeJRD is the Content-Type of JRD documents.
	MediaTypeJRD = "application/jrd+json"
	// RelSelf is the relation of the link to the ActivityPub actor.
	RelSelf = "self"
	// RelProfilePage is the relation of the link to the HTML profile.
	RelProfilePage = "http://webfinger.net/rel/profile-page"
	// TypeActivityJSON is the type of the self link.
	TypeActivityJSON = "application/activity+json"

	activityStreamsProfile = "https://www.w3.org/ns/activitystreams"
)

// ErrInvalidJRD is returned (wrapped) when a document is not a JRD object.
var ErrInvalidJRD = errors.New("webfinger: invalid JRD")

// JRD is a JSON Resource Descriptor (RFC 7033 §4.4).
type JRD struct {
	Subject    string             `json:"subject,omitempty"`
	Aliases    []string           `json:"aliases,omitempty"`
	Properties map[string]*string `json:"properties,omitempty"`
	Links      []Link             `json:"links,omitempty"`
}

// Link is one JRD link. Template is the OStatus "subscribe" URL template
// Mastodon publishes (a non-standard member).
type Link struct {
	Rel        string             `json:"rel"`
	Type       string             `json:"type,omitempty"`
	Href       string             `json:"href,omitempty"`
	Template   string             `json:"template,omitempty"`
	Titles     map[string]string  `json:"titles,omitempty"`
	Properties map[string]*string `json:"properties,omitempty"`
}

// DecodeJRD decodes a JRD tolerantly, as real servers write them: unknown
// members are ignored; a single alias string counts as a one-element list;
// aliases that are not strings, links that are not objects or have no rel,
// and link members of the wrong type are skipped; property values that are
// not strings or null are dropped. It fails (wrapping ErrInvalidJRD) only
// when data is not a JSON object, or subject is present but not a string.
func DecodeJRD(data []byte) (JRD, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		if err == nil {
			err = errors.New("null")
		}
		return JRD{}, fmt.Errorf("%w: not a JSON object: %v", ErrInvalidJRD, err)
	}
	var j JRD
	if s, ok := raw["subject"]; ok && string(s) != "null" {
		if err := json.Unmarshal(s, &j.Subject); err != nil {
			return JRD{}, fmt.Errorf("%w: subject is not a string", ErrInvalidJRD)
		}
	}
	j.Aliases = stringList(raw["aliases"])
	j.Properties = properties(raw["properties"])
	var links []json.RawMessage
	if json.Unmarshal(raw["links"], &links) == nil {
		for _, lr := range links {
			var m map[string]json.RawMessage
			if json.Unmarshal(lr, &m) != nil || m == nil {
				continue
			}
			l := Link{
				Rel:        str(m["rel"]),
				Type:       str(m["type"]),
				Href:       str(m["href"]),
				Template:   str(m["template"]),
				Properties: properties(m["properties"]),
			}
			var titles map[string]json.RawMessage
			if json.Unmarshal(m["titles"], &titles) == nil {
				for k, v := range titles {
					if t := str(v); t != "" {
						if l.Titles == nil {
							l.Titles = map[string]string{}
						}
						l.Titles[k] = t
					}
				}
			}
			if l.Rel != "" {
				j.Links = append(j.Links, l)
			}
		}
	}
	return j, nil
}

// str returns the JSON string in v, or "" if v is not a string.
func str(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// stringList returns the strings of a JSON array (or a single string).
func stringList(v json.RawMessage) []string {
	if s := str(v); s != "" {
		return []string{s}
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if s := str(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// properties returns the string-or-null members of a JSON object.
func properties(v json.RawMessage) map[string]*string {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || len(m) == 0 {
		return nil
	}
	out := map[string]*string{}
	for k, raw := range m {
		if string(raw) == "null" {
			out[k] = nil
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = &s
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SelfLink returns the rel=self link to the ActivityPub actor: the first
// one of type application/activity+json, else the first of type
// application/ld+json with the ActivityStreams profile. Links without href
// are ignored.
func (j JRD) SelfLink() (Link, bool) {
	var fallback *Link
	for i, l := range j.Links {
		if l.Rel != RelSelf || l.Href == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(l.Type)
		if err != nil {
			continue
		}
		switch mt {
		case TypeActivityJSON:
			return l, true
		case "application/ld+json":
			if fallback == nil && hasASProfile(params["profile"]) {
				fallback = &j.Links[i]
			}
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return Link{}, false
}

func hasASProfile(profile string) bool {
	for _, p := range strings.Fields(profile) {
		if p == activityStreamsProfile {
			return true
		}
	}
	return false
}

// Link returns the first link with relation rel.
func (j JRD) Link(rel string) (Link, bool) {
	for _, l := range j.Links {
		if l.Rel == rel {
			return l, true
		}
	}
	return Link{}, false
}

// ActorJRD builds the JRD of a local actor, as Mastodon shapes it: subject
// the actor's acct URI, aliases the profile page and the actor id, and
// links to the profile page (text/html) and to the actor (rel=self,
// application/activity+json). An empty profileURL is left out.
func ActorJRD(subject Resource, profileURL, actorID string) JRD {
	j := JRD{Subject: subject.Acct()}
	if profileURL != "" {
		j.Aliases = append(j.Aliases, profileURL)
	}
	if actorID != "" && actorID != profileURL {
		j.Aliases = append(j.Aliases, actorID)
	}
	if profileURL != "" {
		j.Links = append(j.Links, Link{Rel: RelProfilePage, Type: "text/html", Href: profileURL})
	}
	j.Links = append(j.Links, Link{Rel: RelSelf, Type: TypeActivityJSON, Href: actorID})
	return j
}

// Encode returns j as compact JSON without HTML escaping (so that "&" in
// URLs stays readable), followed by a newline.
func (j JRD) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, fmt.Errorf("webfinger: encode JRD: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteJRD answers a WebFinger request with j: 200, Content-Type
// application/jrd+json and, as RFC 7033 §5 asks, Access-Control-Allow-Origin:
// *. The server handler is then one call:
//
//	webfinger.WriteJRD(w, webfinger.ActorJRD(res, profileURL, actorID))
func WriteJRD(w http.ResponseWriter, j JRD) error {
	b, err := j.Encode()
	if err != nil {
		http.Error(w, "cannot encode JRD", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", MediaTypeJRD+"; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}
