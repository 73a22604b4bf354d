package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/federation/webfinger"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/actors/actorstest"
)

// fakeReader is an in-memory actors.Reader.
type fakeReader = actorstest.Memory

const base = "http://127.0.0.1:8080"

var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func sampleReader() *fakeReader {
	return &fakeReader{
		Actors: []actors.Actor{
			{ID: "a1", Kind: actor.KindPerson, Username: "Alice", Name: "Alice", CreatedAt: t0},
			{ID: "g1", Kind: actor.KindGroup, Username: "lernen", CreatedAt: t0},
			{ID: "o1", Kind: actor.KindOrganization, Username: "vhs", CreatedAt: t0},
			{ID: "i1", Kind: actor.KindApplication, Username: "hanse.instance", CreatedAt: t0},
			{ID: "d1", Kind: actor.KindPerson, Username: "gone", CreatedAt: t0, DeletedAt: t0.Add(time.Hour)},
		},
		Totals: actors.Counts{People: 2, Communities: 1},
	}
}

// serve mounts the handler on a chi router (as the server does) on a
// loopback HTTP server.
func serve(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	h.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestWebFinger(t *testing.T) {
	s := urls.MustNew(base)
	fake := sampleReader()
	srv := serve(t, New(s, fake, "1.0.0", Options{}))
	type want struct {
		status  int
		subject string
		self    string
	}
	ok := func(user, self string) want {
		return want{http.StatusOK, "acct:" + user + "@127.0.0.1:8080", base + self}
	}
	tests := []struct {
		name     string
		resource []string // nil: no parameter
		want     want
	}{
		{"acct", []string{"acct:Alice@127.0.0.1:8080"}, ok("Alice", "/users/Alice")},
		{"case-insensitive user", []string{"acct:alice@127.0.0.1:8080"}, ok("Alice", "/users/Alice")},
		{"bare handle", []string{"alice@127.0.0.1:8080"}, ok("Alice", "/users/Alice")},
		{"at handle", []string{"@alice@127.0.0.1:8080"}, ok("Alice", "/users/Alice")},
		{"group", []string{"acct:lernen@127.0.0.1:8080"}, ok("lernen", "/communities/lernen")},
		{"organization", []string{"acct:vhs@127.0.0.1:8080"}, ok("vhs", "/organizations/vhs")},
		{"instance actor by name", []string{"acct:hanse.instance@127.0.0.1:8080"}, ok("hanse.instance", "/actor")},
		{"actor IRI", []string{base + "/users/Alice"}, ok("Alice", "/users/Alice")},
		{"group IRI", []string{base + "/communities/lernen"}, ok("lernen", "/communities/lernen")},
		{"instance IRI", []string{base + "/actor"}, ok("hanse.instance", "/actor")},
		{"profile URL", []string{base + "/@alice"}, ok("Alice", "/users/Alice")},
		{"wrong kind IRI", []string{base + "/communities/Alice"}, want{status: http.StatusNotFound}},
		{"person path for instance actor", []string{base + "/users/hanse.instance"}, want{status: http.StatusNotFound}},
		{"collection IRI", []string{base + "/users/Alice/outbox"}, want{status: http.StatusNotFound}},
		{"other URL", []string{base + "/about"}, want{status: http.StatusNotFound}},
		{"other host", []string{"acct:alice@other.example"}, want{status: http.StatusNotFound}},
		{"other port", []string{"acct:alice@127.0.0.1:9090"}, want{status: http.StatusNotFound}},
		{"other scheme", []string{"https://127.0.0.1:8080/users/Alice"}, want{status: http.StatusNotFound}},
		{"unknown user", []string{"acct:nobody@127.0.0.1:8080"}, want{status: http.StatusNotFound}},
		{"deleted", []string{"acct:gone@127.0.0.1:8080"}, want{status: http.StatusGone}},
		{"deleted IRI", []string{base + "/users/gone"}, want{status: http.StatusGone}},
		{"missing", nil, want{status: http.StatusBadRequest}},
		{"empty", []string{""}, want{status: http.StatusBadRequest}},
		{"repeated", []string{"acct:alice@127.0.0.1:8080", "acct:vhs@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"no host", []string{"acct:alice"}, want{status: http.StatusBadRequest}},
		{"no user", []string{"acct:@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"two ats", []string{"acct:a@b@c"}, want{status: http.StatusBadRequest}},
		{"control character", []string{"acct:al\x00ice@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"bad percent", []string{"acct:al%zzice@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"overlong", []string{"acct:" + strings.Repeat("a", 5000) + "@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"invalid UTF-8", []string{"acct:\xff@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
		{"mailto", []string{"mailto:alice@127.0.0.1:8080"}, want{status: http.StatusBadRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for _, r := range tt.resource {
				q.Add("resource", r)
			}
			resp, body := do(t, http.MethodGet, srv.URL+urls.WebFingerPath+"?"+q.Encode())
			if resp.StatusCode != tt.want.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want.status, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("CORS header %q", got)
			}
			if tt.want.status != http.StatusOK {
				var e errorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s (%v)", body, err)
				}
				if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
					t.Errorf("error content type %q", resp.Header.Get("Content-Type"))
				}
				return
			}
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != webfinger.MediaTypeJRD {
				t.Errorf("content type %q", resp.Header.Get("Content-Type"))
			}
			j, err := webfinger.DecodeJRD(body)
			if err != nil {
				t.Fatal(err)
			}
			if j.Subject != tt.want.subject {
				t.Errorf("subject %q, want %q", j.Subject, tt.want.subject)
			}
			self, ok := j.SelfLink()
			if !ok || self.Href != tt.want.self || self.Type != webfinger.TypeActivityJSON {
				t.Errorf("self link %+v, want %s", self, tt.want.self)
			}
			user := strings.TrimSuffix(strings.TrimPrefix(tt.want.subject, "acct:"), "@127.0.0.1:8080")
			wantAliases := []string{base + "/@" + user, tt.want.self}
			if !reflect.DeepEqual(j.Aliases, wantAliases) {
				t.Errorf("aliases %q, want %q", j.Aliases, wantAliases)
			}
			if pp, ok := j.Link(webfinger.RelProfilePage); !ok || pp.Href != base+"/@"+user {
				t.Errorf("profile-page link %+v", pp)
			}
		})
	}
}

func TestWebFingerRelFilter(t *testing.T) {
	srv := serve(t, New(urls.MustNew(base), sampleReader(), "1", Options{}))
	resp, body := do(t, http.MethodGet, srv.URL+urls.WebFingerPath+"?resource=acct:vhs@127.0.0.1:8080&rel=self")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	j, _ := webfinger.DecodeJRD(body)
	if len(j.Links) != 1 || j.Links[0].Rel != webfinger.RelSelf {
		t.Errorf("links %+v, want only self", j.Links)
	}
	_, body = do(t, http.MethodGet, srv.URL+urls.WebFingerPath+"?resource=acct:vhs@127.0.0.1:8080&rel=unknown")
	j, _ = webfinger.DecodeJRD(body)
	if len(j.Links) != 0 || j.Subject == "" {
		t.Errorf("unknown rel: %s", body)
	}
}

func TestReadModelErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{projections.ErrNotLive, http.StatusServiceUnavailable},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		srv := serve(t, New(urls.MustNew(base), &fakeReader{Err: tt.err}, "1", Options{}))
		for _, path := range []string{urls.WebFingerPath + "?resource=acct:alice@127.0.0.1:8080", urls.NodeInfo21Path, urls.NodeInfo20Path} {
			resp, body := do(t, http.MethodGet, srv.URL+path)
			if resp.StatusCode != tt.status {
				t.Errorf("%v %s: status %d, want %d: %s", tt.err, path, resp.StatusCode, tt.status, body)
			}
			if strings.Contains(string(body), "disk on fire") {
				t.Errorf("%s leaks the internal error: %s", path, body)
			}
		}
	}
}

func TestMethodsAndHead(t *testing.T) {
	srv := serve(t, New(urls.MustNew(base), sampleReader(), "1", Options{}))
	for _, path := range []string{urls.WebFingerPath + "?resource=acct:alice@127.0.0.1:8080", urls.HostMetaPath,
		urls.HostMetaJSONPath, urls.NodeInfoPath, urls.NodeInfo20Path, urls.NodeInfo21Path} {
		get, getBody := do(t, http.MethodGet, srv.URL+path)
		head, headBody := do(t, http.MethodHead, srv.URL+path)
		if get.StatusCode != http.StatusOK || head.StatusCode != http.StatusOK || len(headBody) != 0 || len(getBody) == 0 {
			t.Errorf("%s: GET %d (%d bytes), HEAD %d (%d bytes)", path, get.StatusCode, len(getBody), head.StatusCode, len(headBody))
		}
		if get.Header.Get("Content-Type") != head.Header.Get("Content-Type") {
			t.Errorf("%s: HEAD content type %q differs from GET's %q", path, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
		// Direct calls with other methods answer 405 (the router answers
		// them itself when mounted).
		rec := httptest.NewRecorder()
		h := New(urls.MustNew(base), sampleReader(), "1", Options{})
		p := strings.SplitN(path, "?", 2)[0]
		handlers := map[string]http.HandlerFunc{urls.WebFingerPath: h.WebFinger, urls.HostMetaPath: h.HostMeta,
			urls.HostMetaJSONPath: h.HostMetaJSON, urls.NodeInfoPath: h.NodeInfoLinks,
			urls.NodeInfo20Path: h.NodeInfo20, urls.NodeInfo21Path: h.NodeInfo21}
		handlers[p](rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("x")))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: POST answered %d, Allow %q", path, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

func TestHostMeta(t *testing.T) {
	srv := serve(t, New(urls.MustNew("https://hanse.example"), sampleReader(), "1", Options{}))
	resp, body := do(t, http.MethodGet, srv.URL+urls.HostMetaPath)
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != MediaTypeXRD {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("<?xml")) {
		t.Errorf("no XML declaration: %s", body)
	}
	var doc struct {
		XMLName xml.Name
		Links   []struct {
			Rel      string `xml:"rel,attr"`
			Template string `xml:"template,attr"`
		} `xml:"Link"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	const wantTemplate = "https://hanse.example/.well-known/webfinger?resource={uri}"
	if doc.XMLName.Space != "http://docs.oasis-open.org/ns/xri/xrd-1.0" || doc.XMLName.Local != "XRD" ||
		len(doc.Links) != 1 || doc.Links[0].Rel != "lrdd" || doc.Links[0].Template != wantTemplate {
		t.Errorf("host-meta %+v\n%s", doc, body)
	}

	resp, body = do(t, http.MethodGet, srv.URL+urls.HostMetaJSONPath)
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("host-meta.json content type %q", resp.Header.Get("Content-Type"))
	}
	j, err := webfinger.DecodeJRD(body)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := j.Link("lrdd"); !ok || l.Template != wantTemplate {
		t.Errorf("host-meta.json %s", body)
	}
}

func TestNodeInfoLinks(t *testing.T) {
	srv := serve(t, New(urls.MustNew(base), sampleReader(), "1", Options{}))
	_, body := do(t, http.MethodGet, srv.URL+urls.NodeInfoPath)
	var doc nodeInfoLinks
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	want := []nodeInfoLink{
		{Rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", Href: base + "/nodeinfo/2.0"},
		{Rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", Href: base + "/nodeinfo/2.1"},
	}
	if !reflect.DeepEqual(doc.Links, want) {
		t.Errorf("links %+v", doc.Links)
	}
}

var schemaDir = filepath.Join("..", "..", "..", "shared", "schemas", "nodeinfo")

func compileSchema(t *testing.T, version string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(schemaDir, version+".json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("NodeInfo schema not found at %s (expected ../shared beside the repository): %v", path, err)
	}
	sch, err := jsonschema.NewCompiler().Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestNodeInfoValidatesAgainstSchema(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		counts actors.Counts
	}{
		{"defaults", Options{}, actors.Counts{}},
		{"everything", Options{NodeName: "Lernstadt Bremen", NodeDescription: "Die <Lernstadt>", Repository: "https://git.example/hanse",
			Homepage: "https://hanse.example", OpenRegistrations: true}, actors.Counts{People: 1234, Communities: 17}},
	}
	for _, version := range []string{"2.0", "2.1"} {
		sch := compileSchema(t, version)
		for _, tt := range tests {
			t.Run(version+"/"+tt.name, func(t *testing.T) {
				fake := sampleReader()
				fake.Totals = tt.counts
				srv := serve(t, New(urls.MustNew(base), fake, "0.3.0-dev", tt.opts))
				resp, body := do(t, http.MethodGet, srv.URL+"/nodeinfo/"+version)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				if err != nil || mt != "application/json" || params["profile"] != "http://nodeinfo.diaspora.software/ns/schema/"+version+"#" {
					t.Errorf("content type %q", resp.Header.Get("Content-Type"))
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Fatalf("NodeInfo %s does not validate: %v\n%s", version, err, body)
				}
				var doc NodeInfo
				if err := json.Unmarshal(body, &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Version != version || doc.Software.Name != "hanse" || doc.Software.Version != "0.3.0-dev" ||
					doc.OpenRegistrations != tt.opts.OpenRegistrations || !reflect.DeepEqual(doc.Protocols, []string{"activitypub"}) {
					t.Errorf("document %s", body)
				}
				u := doc.Usage.Users
				if u.Total != tt.counts.People || u.ActiveMonth != u.Total || u.ActiveHalfyear != u.Total || doc.Usage.LocalPosts != 0 {
					t.Errorf("usage %+v, want %d people", doc.Usage, tt.counts.People)
				}
				wantName := tt.opts.NodeName
				if wantName == "" {
					wantName = "127.0.0.1:8080"
				}
				if doc.Metadata["nodeName"] != wantName {
					t.Errorf("nodeName %v", doc.Metadata["nodeName"])
				}
				if d, ok := doc.Metadata["nodeDescription"]; ok != (tt.opts.NodeDescription != "") || (ok && d != tt.opts.NodeDescription) {
					t.Errorf("nodeDescription %v", d)
				}
				if version == "2.1" && (doc.Software.Repository != tt.opts.Repository || doc.Software.Homepage != tt.opts.Homepage) {
					t.Errorf("2.1 software %+v", doc.Software)
				}
			})
		}
	}
}

// TestSchemaRejectsBrokenDocument proves the schema check can fail.
func TestSchemaRejectsBrokenDocument(t *testing.T) {
	sch := compileSchema(t, "2.0")
	doc, err := New(urls.MustNew(base), sampleReader(), "1", Options{Repository: "https://x"}).Document(context.Background(), "2.1")
	if err != nil {
		t.Fatal(err)
	}
	doc.Version = "2.0" // a 2.1 software section (repository) is not valid 2.0
	b, _ := json.Marshal(doc)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if sch.Validate(inst) == nil {
		t.Fatal("a 2.0 document with software.repository validated")
	}
	if _, err := New(urls.MustNew(base), sampleReader(), "1", Options{}).Document(context.Background(), "3.0"); err == nil {
		t.Error("NodeInfo 3.0 accepted")
	}
}

func TestVersionDefault(t *testing.T) {
	doc, err := New(urls.MustNew(base), sampleReader(), "", Options{}).Document(context.Background(), "2.1")
	if err != nil || doc.Software.Version != "unknown" {
		t.Errorf("version %q, %v", doc.Software.Version, err)
	}
}

func TestNodeInfoCountsLocalPosts(t *testing.T) {
	u, err := urls.New("https://hanse.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		posts   func(context.Context) (int, error)
		want    int
		wantErr bool
	}{
		{name: "no counter", want: 0},
		{name: "counter", posts: func(context.Context) (int, error) { return 7, nil }, want: 7},
		{name: "failing counter", posts: func(context.Context) (int, error) { return 0, errors.New("read model gone") }, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := New(u, &actorstest.Memory{Totals: actors.Counts{People: 2}}, "v1.0.0", Options{LocalPosts: tt.posts})
			doc, err := h.Document(context.Background(), "2.1")
			if (err != nil) != tt.wantErr || doc.Usage.LocalPosts != tt.want {
				t.Fatalf("Document: localPosts %d, err %v; want %d, error %v", doc.Usage.LocalPosts, err, tt.want, tt.wantErr)
			}
		})
	}
}
