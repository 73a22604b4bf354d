package urls

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/hanse-network/hanse/federation/webfinger"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// ErrInvalidBase is returned by New for an unusable public base URL.
var ErrInvalidBase = errors.New("urls: invalid public base URL")

// Collection names one of an actor's collections (the last path segment
// of its IRI).
type Collection string

// The collections every local actor has.
const (
	Inbox     Collection = "inbox"
	Outbox    Collection = "outbox"
	Followers Collection = "followers"
	Following Collection = "following"
	Featured  Collection = "featured"
)

// Collections lists every actor collection, in document order.
var Collections = []Collection{Inbox, Outbox, Followers, Following, Featured}

// ActorPrefixes returns the path prefixes of the actor kinds that have
// their own documents, collections and inboxes (people, communities,
// organisations), in that order: the routes mounted under every actor.
func ActorPrefixes() []string {
	return []string{PeoplePrefix, CommunitiesPrefix, OrganizationsPrefix}
}

// Path segments of the actor IRIs, per kind.
const (
	PeoplePrefix        = "/users/"
	CommunitiesPrefix   = "/communities/"
	OrganizationsPrefix = "/organizations/"
	// InstanceActorPath is the path of the instance actor (Application).
	InstanceActorPath = "/actor"
	// SharedInboxPath is the path of the shared inbox.
	SharedInboxPath = "/inbox"
	// ProfilePrefix starts the HTML profile path "/@{username}".
	ProfilePrefix = "/@"
	// WebFingerPath, HostMetaPath, HostMetaJSONPath and NodeInfoPath are the
	// well-known discovery endpoints.
	WebFingerPath    = "/.well-known/webfinger"
	HostMetaPath     = "/.well-known/host-meta"
	HostMetaJSONPath = "/.well-known/host-meta.json"
	NodeInfoPath     = "/.well-known/nodeinfo"
	// NodeInfo20Path and NodeInfo21Path serve the NodeInfo documents.
	NodeInfo20Path = "/nodeinfo/2.0"
	NodeInfo21Path = "/nodeinfo/2.1"
)

// MaxUsernameBytes bounds the usernames Parse and ParsePath accept.
const MaxUsernameBytes = 255

// kindPrefixes maps the kinds addressed by username to their path prefix.
var kindPrefixes = []struct {
	kind   actor.Kind
	prefix string
}{
	{actor.KindPerson, PeoplePrefix},
	{actor.KindGroup, CommunitiesPrefix},
	{actor.KindOrganization, OrganizationsPrefix},
}

// Scheme is the URL scheme of one instance, derived from its public base
// URL. The zero value is not usable; build it with New.
type Scheme struct {
	base string // without trailing slash
	path string // base's path, "" or "/prefix"
	host string // handle host: lower-case ASCII, non-default port kept
}

// New returns the scheme of the instance reached at publicURL: an absolute
// http(s) URL without user info, query or fragment (a trailing slash is
// dropped). Errors wrap ErrInvalidBase.
func New(publicURL string) (Scheme, error) {
	u, err := url.Parse(publicURL)
	switch {
	case err != nil:
		return Scheme{}, fmt.Errorf("%w: %v", ErrInvalidBase, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return Scheme{}, fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalidBase, publicURL)
	case u.Host == "" || u.Opaque != "":
		return Scheme{}, fmt.Errorf("%w: %q names no host", ErrInvalidBase, publicURL)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(publicURL, "#"):
		return Scheme{}, fmt.Errorf("%w: %q has user info, a query or a fragment", ErrInvalidBase, publicURL)
	}
	r, err := webfinger.ParseResource(u.Scheme + "://" + u.Host + "/")
	if err != nil {
		return Scheme{}, fmt.Errorf("%w: host: %v", ErrInvalidBase, err)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return Scheme{base: u.String(), path: u.Path, host: r.Host}, nil
}

// MustNew is New for constants in tests and examples; it panics on error.
func MustNew(publicURL string) Scheme {
	s, err := New(publicURL)
	if err != nil {
		panic(err)
	}
	return s
}

// Base returns the public base URL without trailing slash.
func (s Scheme) Base() string { return s.base }

// Host returns the host of handles and acct: URIs: lower-case ASCII, with
// the port when it is not the scheme's default ("127.0.0.1:8080").
func (s Scheme) Host() string { return s.host }

// Actor returns the IRI of the local actor of kind with username; the
// instance actor (Application) is always {base}/actor. An unknown kind
// gets "".
func (s Scheme) Actor(kind actor.Kind, username string) string {
	if kind == actor.KindApplication {
		return s.base + InstanceActorPath
	}
	for _, kp := range kindPrefixes {
		if kp.kind == kind {
			return s.base + kp.prefix + url.PathEscape(username)
		}
	}
	return ""
}

// InstanceActor returns the IRI of the instance actor.
func (s Scheme) InstanceActor() string { return s.base + InstanceActorPath }

// Collection returns the IRI of collection c of the actor actorIRI.
func (s Scheme) Collection(actorIRI string, c Collection) string {
	return actorIRI + "/" + string(c)
}

// SharedInbox returns the IRI of the shared inbox.
func (s Scheme) SharedInbox() string { return s.base + SharedInboxPath }

// Profile returns the URL of the HTML profile page of username.
func (s Scheme) Profile(username string) string {
	return s.base + ProfilePrefix + url.PathEscape(username)
}

// KeyID returns the id of key generation gen of the actor actorIRI:
// "#main-key" for the first generation (and anything below 1), "#key-{n}"
// after rotations.
func KeyID(actorIRI string, gen int) string {
	if gen <= 1 {
		return actorIRI + "#main-key"
	}
	return actorIRI + "#key-" + strconv.Itoa(gen)
}

// Handle returns "username@host", the form people type (without "@" in
// front).
func (s Scheme) Handle(username string) string { return username + "@" + s.host }

// Acct returns the acct: URI of username, percent-encoded where RFC 7565
// requires it.
func (s Scheme) Acct(username string) string {
	return webfinger.Resource{User: username, Host: s.host}.Acct()
}

// WebFingerTemplate returns the host-meta lrdd template
// "{base}/.well-known/webfinger?resource={uri}".
func (s Scheme) WebFingerTemplate() string { return s.base + WebFingerPath + "?resource={uri}" }

// URL returns the absolute URL of a server-relative path such as
// NodeInfo21Path.
func (s Scheme) URL(path string) string { return s.base + path }

// Target is what a local URL designates.
type Target struct {
	// Kind is the actor's kind; KindApplication for the instance actor.
	// For a Profile target the kind is unknown (""): profile URLs are
	// shared by every kind.
	Kind actor.Kind
	// Username is the actor's username; "" for the instance actor.
	Username string
	// Collection is the collection designated, "" for the actor itself.
	Collection Collection
	// Profile reports an HTML profile URL ({base}/@{username}).
	Profile bool
}

// Parse resolves an absolute URL of this instance (an actor IRI, one of
// its collections, or an HTML profile URL); ok is false for anything else,
// including URLs of other hosts. Query and fragment are ignored (a key id
// designates its actor).
func (s Scheme) Parse(raw string) (t Target, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || !s.sameOrigin(u) {
		return Target{}, false
	}
	rest, found := strings.CutPrefix(u.Path, s.path)
	if !found {
		return Target{}, false
	}
	return ParsePath(rest)
}

// sameOrigin reports whether u has this instance's scheme and host.
func (s Scheme) sameOrigin(u *url.URL) bool {
	if r, err := webfinger.ParseResource(u.Scheme + "://" + u.Host + "/"); err != nil || r.Host != s.host {
		return false
	}
	return strings.EqualFold(u.Scheme, s.base[:strings.IndexByte(s.base, ':')])
}

// ParsePath resolves a server-relative, percent-decoded path (as in
// http.Request.URL.Path, the base URL's own path already removed): an
// actor, one of its collections, or an HTML profile. A trailing slash is
// tolerated; anything else gives ok false.
func ParsePath(p string) (t Target, ok bool) {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if name, found := strings.CutPrefix(p, ProfilePrefix); found {
		if !validUsername(name) {
			return Target{}, false
		}
		return Target{Username: name, Profile: true}, true
	}
	if p == InstanceActorPath {
		return Target{Kind: actor.KindApplication}, true
	}
	if c, found := strings.CutPrefix(p, InstanceActorPath+"/"); found {
		if coll, ok := collection(c); ok {
			return Target{Kind: actor.KindApplication, Collection: coll}, true
		}
		return Target{}, false
	}
	for _, kp := range kindPrefixes {
		rest, found := strings.CutPrefix(p, kp.prefix)
		if !found {
			continue
		}
		name, coll, hasColl := strings.Cut(rest, "/")
		if !validUsername(name) {
			return Target{}, false
		}
		t := Target{Kind: kp.kind, Username: name}
		if hasColl {
			c, ok := collection(coll)
			if !ok {
				return Target{}, false
			}
			t.Collection = c
		}
		return t, true
	}
	return Target{}, false
}

func collection(s string) (Collection, bool) {
	for _, c := range Collections {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// validUsername accepts a non-empty path segment of bounded length.
func validUsername(name string) bool {
	return name != "" && len(name) <= MaxUsernameBytes && !strings.ContainsAny(name, "/@?#") &&
		!strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
