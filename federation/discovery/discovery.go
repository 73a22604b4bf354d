package discovery

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/federation/webfinger"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
)

// Media types of the discovery documents.
const (
	// MediaTypeXRD is host-meta's XML form.
	MediaTypeXRD = "application/xrd+xml"
	// NodeInfo schema identifiers: the rel of the well-known links and the
	// profile parameter of the documents' content type.
	NodeInfo20Schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
	NodeInfo21Schema = "http://nodeinfo.diaspora.software/ns/schema/2.1"
	// SoftwareName is the NodeInfo software name.
	SoftwareName = "hanse"
	// RelLRDD is the host-meta link relation of the WebFinger template.
	RelLRDD = "lrdd"
)

// Options are the optional settings of the discovery endpoints.
type Options struct {
	// NodeName and NodeDescription go into NodeInfo's metadata; NodeName
	// defaults to the instance's host.
	NodeName, NodeDescription string
	// Repository and Homepage are NodeInfo 2.1's software URLs; omitted
	// when empty.
	Repository, Homepage string
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// LocalPosts counts the posts written on this instance (NodeInfo's
	// usage.localPosts); nil reports 0.
	LocalPosts func(context.Context) (int, error)
	// OpenRegistrations reports whether anyone may sign up (NodeInfo's
	// openRegistrations).
	OpenRegistrations bool
}

// Handler serves the discovery endpoints. Build it with New; it is safe
// for concurrent use.
type Handler struct {
	urls    urls.Scheme
	actors  actors.Reader
	version string
	opts    Options
	log     *slog.Logger
}

// New returns the discovery endpoints of the instance with URL scheme u,
// answering from the actors read model. version is the software version
// NodeInfo reports ("unknown" when empty).
func New(u urls.Scheme, reader actors.Reader, version string, opts Options) *Handler {
	if version == "" {
		version = "unknown"
	}
	if opts.NodeName == "" {
		opts.NodeName = u.Host()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{urls: u, actors: reader, version: version, opts: opts, log: log}
}

// Mux is the part of a router (chi.Router satisfies it) that Register
// needs.
type Mux interface {
	Method(method, pattern string, h http.Handler)
}

// Register adds every discovery endpoint to m, for GET and HEAD:
// WebFinger, host-meta (XML and JSON), the NodeInfo links and NodeInfo
// 2.0 and 2.1.
func (h *Handler) Register(m Mux) {
	routes := []struct {
		path string
		f    http.HandlerFunc
	}{
		{urls.WebFingerPath, h.WebFinger},
		{urls.HostMetaPath, h.HostMeta},
		{urls.HostMetaJSONPath, h.HostMetaJSON},
		{urls.NodeInfoPath, h.NodeInfoLinks},
		{urls.NodeInfo20Path, h.NodeInfo20},
		{urls.NodeInfo21Path, h.NodeInfo21},
	}
	for _, rt := range routes {
		m.Method(http.MethodGet, rt.path, rt.f)
		m.Method(http.MethodHead, rt.path, rt.f)
	}
}

// WebFinger serves GET /.well-known/webfinger?resource=…: acct: URIs
// (also "user@host" and "@user@host") of this host and the URLs of local
// actors and profile pages. It answers 400 for a missing, repeated or
// malformed resource, 404 for unknown users and other hosts, 410 for
// deleted actors, otherwise the JRD (application/jrd+json) with the
// subject, aliases (profile page and actor IRI) and links (profile-page
// and self as application/activity+json), filtered by any rel parameters.
// Every answer allows any origin (CORS).
func (h *Handler) WebFinger(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !onlyGet(w, r) {
		return
	}
	q := r.URL.Query()
	res := q["resource"]
	switch {
	case len(res) == 0 || res[0] == "":
		writeError(w, http.StatusBadRequest, CodeInvalidResource, "the resource parameter is required (e.g. resource=acct:alice@"+h.urls.Host()+")")
		return
	case len(res) > 1:
		writeError(w, http.StatusBadRequest, CodeInvalidResource, "the resource parameter is given more than once")
		return
	}
	rsrc, err := webfinger.ParseResource(res[0])
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidResource, err.Error())
		return
	}
	if rsrc.Host != h.urls.Host() {
		writeError(w, http.StatusNotFound, CodeNotFound, "this server answers only for "+h.urls.Host())
		return
	}
	var want urls.Target
	if rsrc.URL != "" {
		t, ok := h.urls.Parse(rsrc.URL)
		if !ok || t.Collection != "" {
			writeError(w, http.StatusNotFound, CodeNotFound, "no local actor has that URL")
			return
		}
		want = t
	} else {
		want = urls.Target{Username: rsrc.User}
	}
	a, err := h.lookup(r.Context(), want)
	if err != nil {
		h.lookupError(w, r, err)
		return
	}
	if !a.DeletedAt.IsZero() {
		writeError(w, http.StatusGone, CodeGone, "the actor has been deleted")
		return
	}
	iri := h.urls.Actor(a.Kind, a.Username)
	jrd := webfinger.ActorJRD(webfinger.Resource{User: a.Username, Host: h.urls.Host()}, h.urls.Profile(a.Username), iri)
	if rels := q["rel"]; len(rels) > 0 {
		kept := jrd.Links[:0]
		for _, l := range jrd.Links {
			for _, rel := range rels {
				if l.Rel == rel {
					kept = append(kept, l)
					break
				}
			}
		}
		jrd.Links = kept
	}
	if err := webfinger.WriteJRD(w, jrd); err != nil {
		h.log.WarnContext(r.Context(), "webfinger: write response", "err", err)
	}
}

// errWrongKind: the URL names a kind the actor does not have.
var errWrongKind = errors.New("discovery: actor has another kind")

// lookup finds the actor a WebFinger target names.
func (h *Handler) lookup(ctx context.Context, t urls.Target) (actors.Actor, error) {
	if t.Kind == actor.KindApplication && t.Username == "" {
		return h.actors.InstanceActor(ctx)
	}
	a, err := h.actors.ByUsername(ctx, t.Username)
	if err != nil {
		return actors.Actor{}, err
	}
	if t.Kind != "" && a.Kind != t.Kind {
		return actors.Actor{}, errWrongKind
	}
	return a, nil
}

func (h *Handler) lookupError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, actors.ErrNotFound), errors.Is(err, errWrongKind):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such actor on this server")
	case errors.Is(err, projections.ErrNotLive):
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, "the actors read model is not built yet")
	case r.Context().Err() != nil:
		// The client has gone; nobody reads the answer.
	default:
		h.log.ErrorContext(r.Context(), "discovery: read actors", "err", err, "path", r.URL.Path)
		writeError(w, http.StatusInternalServerError, CodeInternal, "the actor could not be read")
	}
}

// xrd is host-meta's XML document.
type xrd struct {
	XMLName xml.Name  `xml:"http://docs.oasis-open.org/ns/xri/xrd-1.0 XRD"`
	Links   []xrdLink `xml:"Link"`
}

type xrdLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Template string `xml:"template,attr"`
}

// HostMeta serves GET /.well-known/host-meta: an XRD document whose lrdd
// link carries the WebFinger template.
func (h *Handler) HostMeta(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !onlyGet(w, r) {
		return
	}
	doc := xrd{Links: []xrdLink{{Rel: RelLRDD, Type: "application/jrd+json", Template: h.urls.WebFingerTemplate()}}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.log.ErrorContext(r.Context(), "discovery: host-meta", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "host-meta could not be encoded")
		return
	}
	w.Header().Set("Content-Type", MediaTypeXRD+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(append(b, '\n'))
}

// HostMetaJSON serves GET /.well-known/host-meta.json, host-meta as JRD.
func (h *Handler) HostMetaJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !onlyGet(w, r) {
		return
	}
	doc := webfinger.JRD{Links: []webfinger.Link{{Rel: RelLRDD, Type: webfinger.MediaTypeJRD, Template: h.urls.WebFingerTemplate()}}}
	b, err := doc.Encode()
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, "host-meta could not be encoded")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// nodeInfoLinks is the well-known NodeInfo document.
type nodeInfoLinks struct {
	Links []nodeInfoLink `json:"links"`
}

type nodeInfoLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// NodeInfoLinks serves GET /.well-known/nodeinfo, linking NodeInfo 2.0 and
// 2.1.
func (h *Handler) NodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !onlyGet(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", nodeInfoLinks{Links: []nodeInfoLink{
		{Rel: NodeInfo20Schema, Href: h.urls.URL(urls.NodeInfo20Path)},
		{Rel: NodeInfo21Schema, Href: h.urls.URL(urls.NodeInfo21Path)},
	}})
}

// NodeInfo is a NodeInfo 2.0 or 2.1 document.
type NodeInfo struct {
	Version           string           `json:"version"`
	Software          NodeInfoSoftware `json:"software"`
	Protocols         []string         `json:"protocols"`
	Services          NodeInfoServices `json:"services"`
	OpenRegistrations bool             `json:"openRegistrations"`
	Usage             NodeInfoUsage    `json:"usage"`
	Metadata          map[string]any   `json:"metadata"`
}

// NodeInfoSoftware names the server software; Repository and Homepage
// exist in 2.1 only.
type NodeInfoSoftware struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Repository string `json:"repository,omitempty"`
	Homepage   string `json:"homepage,omitempty"`
}

// NodeInfoServices lists third-party services (none).
type NodeInfoServices struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

// NodeInfoUsage holds the usage statistics.
type NodeInfoUsage struct {
	Users      NodeInfoUsers `json:"users"`
	LocalPosts int           `json:"localPosts"`
}

// NodeInfoUsers counts the local users.
type NodeInfoUsers struct {
	Total          int `json:"total"`
	ActiveMonth    int `json:"activeMonth"`
	ActiveHalfyear int `json:"activeHalfyear"`
}

// Document builds the NodeInfo document of schema version "2.0" or "2.1"
// from the read model's counts.
func (h *Handler) Document(ctx context.Context, schemaVersion string) (NodeInfo, error) {
	if schemaVersion != "2.0" && schemaVersion != "2.1" {
		return NodeInfo{}, fmt.Errorf("discovery: unknown NodeInfo version %q", schemaVersion)
	}
	c, err := h.actors.Counts(ctx)
	if err != nil {
		return NodeInfo{}, err
	}
	people := max(c.People, 0)
	posts := 0
	if h.opts.LocalPosts != nil {
		if posts, err = h.opts.LocalPosts(ctx); err != nil {
			return NodeInfo{}, err
		}
	}
	doc := NodeInfo{
		Version:           schemaVersion,
		Software:          NodeInfoSoftware{Name: SoftwareName, Version: h.version},
		Protocols:         []string{"activitypub"},
		Services:          NodeInfoServices{Inbound: []string{}, Outbound: []string{}},
		OpenRegistrations: h.opts.OpenRegistrations,
		Usage: NodeInfoUsage{
			// Sign-ins are not recorded yet: every user counts as active.
			Users:      NodeInfoUsers{Total: people, ActiveMonth: people, ActiveHalfyear: people},
			LocalPosts: max(posts, 0),
		},
		Metadata: map[string]any{"nodeName": h.opts.NodeName},
	}
	if h.opts.NodeDescription != "" {
		doc.Metadata["nodeDescription"] = h.opts.NodeDescription
	}
	if schemaVersion == "2.1" {
		doc.Software.Repository = h.opts.Repository
		doc.Software.Homepage = h.opts.Homepage
	}
	return doc, nil
}

// NodeInfo20 serves GET /nodeinfo/2.0.
func (h *Handler) NodeInfo20(w http.ResponseWriter, r *http.Request) {
	h.serveNodeInfo(w, r, "2.0", NodeInfo20Schema)
}

// NodeInfo21 serves GET /nodeinfo/2.1.
func (h *Handler) NodeInfo21(w http.ResponseWriter, r *http.Request) {
	h.serveNodeInfo(w, r, "2.1", NodeInfo21Schema)
}

func (h *Handler) serveNodeInfo(w http.ResponseWriter, r *http.Request, version, schema string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !onlyGet(w, r) {
		return
	}
	doc, err := h.Document(r.Context(), version)
	if err != nil {
		h.lookupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NodeInfoContentType(schema), doc)
}

// NodeInfoContentType is the content type of a NodeInfo document of the
// given schema: application/json with the schema as profile.
func NodeInfoContentType(schema string) string {
	return `application/json; profile="` + schema + `#"; charset=utf-8`
}
