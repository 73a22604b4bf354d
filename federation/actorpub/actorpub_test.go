package actorpub

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// numbers is a Page over the IRIs base/n/1…total, cursor = next index.
func numbers(total int) Page {
	return func(_ context.Context, owner actors.Actor, cursor string, limit int) (PageResult, error) {
		start := 0
		if cursor != "" {
			n, err := strconv.Atoi(cursor)
			if err != nil || n < 0 || n > total {
				return PageResult{}, ErrBadCursor
			}
			start = n
		}
		res := PageResult{Total: total}
		end := min(start+limit, total)
		for i := start; i < end; i++ {
			res.Items = append(res.Items, as2.IRI(fmt.Sprintf("%s/notes/%s/%d", base, owner.Username, i+1)))
		}
		if end < total && limit > 0 {
			res.Next = strconv.Itoa(end)
		}
		if start > 0 {
			res.Prev = strconv.Itoa(max(start-limit, 0))
		}
		return res, nil
	}
}

func newHandler(t *testing.T) *Handler {
	return New(scheme, sampleActors(t), Options{PageSize: 2, Collections: map[urls.Collection]Page{urls.Outbox: numbers(5)}})
}

// goldenDocs are the documents compared with testdata/<name>.json.
var goldenDocs = []struct{ name, path string }{
	{"person", "/users/alice"},
	{"group", "/communities/lernen"},
	{"organization", "/organizations/vhs"},
	{"application", "/actor"},
	{"tombstone", "/users/gone"},
	{"outbox", "/users/alice/outbox"},
	{"outbox_page", "/users/alice/outbox?page=true&cursor=2"},
	{"followers", "/communities/lernen/followers"},
	{"followers_page", "/communities/lernen/followers?page=true"},
}

func TestGolden(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, g := range goldenDocs {
		t.Run(g.name, func(t *testing.T) {
			resp, body := fetch(t, http.MethodGet, srv.URL+g.path, acceptAS)
			want := http.StatusOK
			if g.name == "tombstone" {
				want = http.StatusGone
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != MediaTypeActivityJSON {
				t.Errorf("content type %q", ct)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", g.name+".json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(pretty.Bytes(), golden) {
				t.Errorf("%s differs from %s (run with -update after checking):\n%s", g.path, path, pretty.Bytes())
			}
		})
	}
}

// TestDocumentsDecode: every document served decodes with as2.Decode and
// carries what Mastodon needs of it.
func TestDocumentsDecode(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, g := range goldenDocs {
		t.Run(g.name, func(t *testing.T) {
			_, body := fetch(t, http.MethodGet, srv.URL+g.path, acceptAS)
			o, err := as2.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range o.Issues {
				t.Errorf("decode issue: %s", is)
			}
			if !strings.HasPrefix(o.ID, base+"/") {
				t.Errorf("id %q", o.ID)
			}
			switch o.Kind {
			case as2.KindActor:
				checkActor(t, o, body)
			case as2.KindCollection:
				c := o.Collection
				if c.TotalItems == nil {
					t.Error("no totalItems")
				}
				if o.Type == as2.TypeOrderedCollection && c.First.First().ID != o.ID+"?page=true" {
					t.Errorf("first %q", c.First.First().ID)
				}
				if o.Type == as2.TypeOrderedCollectionPage && !strings.HasPrefix(o.ID, c.PartOf.First().ID+"?") {
					t.Errorf("page %q is not part of %q", o.ID, c.PartOf.First().ID)
				}
			default:
				if o.Type != as2.TypeTombstone || o.Deleted.IsZero() {
					t.Errorf("unexpected %s %s", o.Type, body)
				}
				var m map[string]any
				_ = json.Unmarshal(body, &m)
				if m["formerType"] != "Person" {
					t.Errorf("formerType %v", m["formerType"])
				}
			}
		})
	}
}

func checkActor(t *testing.T, o *as2.Object, body []byte) {
	t.Helper()
	p := o.Profile
	if p == nil {
		t.Fatal("no actor properties")
	}
	need := map[string]string{"preferredUsername": p.PreferredUsername, "inbox": p.Inbox, "outbox": p.Outbox,
		"followers": p.Followers, "following": p.Following, "featured": p.Featured, "sharedInbox": p.SharedInbox,
		"url": o.HTMLURL()}
	for k, v := range need {
		if v == "" {
			t.Errorf("%s missing", k)
		}
	}
	if p.Inbox != o.ID+"/inbox" || p.SharedInbox != base+"/inbox" || o.Published.IsZero() {
		t.Errorf("inbox %q shared %q published %v", p.Inbox, p.SharedInbox, o.Published)
	}
	if len(p.PublicKeys) != 1 || p.PublicKeys[0].Owner != o.ID || !strings.HasPrefix(p.PublicKeys[0].ID, o.ID+"#") {
		t.Fatalf("public keys %+v", p.PublicKeys)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"@context", "manuallyApprovesFollowers", "discoverable", "endpoints", "publicKey"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	key, err := httpsig.PublicKeyFromDocument(body, p.PublicKeys[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := key.Key.(*rsa.PublicKey); !ok || key.Owner != o.ID {
		t.Errorf("key %T owned by %q", key.Key, key.Owner)
	}
}

func TestPublicKeyPEM(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct{ path, keyID string }{
		{"/users/alice", base + "/users/alice#main-key"},
		{"/communities/lernen", base + "/communities/lernen#key-3"},
		{"/actor", base + "/actor#main-key"},
	}
	for _, tt := range tests {
		_, body := fetch(t, http.MethodGet, srv.URL+tt.path, acceptAS)
		o, err := as2.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		k := o.Profile.PublicKey(tt.keyID)
		if k == nil {
			t.Fatalf("%s: no key %s", tt.path, tt.keyID)
		}
		pub, err := httpsig.ParsePublicKeyPEM([]byte(k.PEM))
		if err != nil {
			t.Fatal(err)
		}
		if rk, ok := pub.(*rsa.PublicKey); !ok || rk.N.BitLen() != 2048 {
			t.Errorf("%s: key %T", tt.path, pub)
		}
	}
}

func TestContentNegotiation(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		accept string
		json   bool
	}{
		{"application/activity+json", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json;profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json; profile="http://example.org/other https://www.w3.org/ns/activitystreams"`, true},
		{"application/ld+json", true},
		{`application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{"text/html, application/activity+json;q=0.9", true},
		{"Application/Activity+JSON", true},
		{`application/ld+json; profile="http://example.org/other"`, false},
		{"application/activity+json;q=0", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"text/html", false},
		{"*/*", false},
		{"application/json", false},
		{"", false},
		{"garbage;;;=", false},
		{strings.Repeat("x/y, ", 2000) + "application/activity+json", false},
	}
	for _, tt := range tests {
		for _, path := range []string{"/users/alice", "/@alice"} {
			resp, body := fetch(t, http.MethodGet, srv.URL+path, tt.accept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%q %s: status %d", tt.accept, path, resp.StatusCode)
			}
			if resp.Header.Get("Vary") != "Accept" {
				t.Errorf("%q %s: Vary %q", tt.accept, path, resp.Header.Get("Vary"))
			}
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if tt.json {
				if mt != MediaTypeActivityJSON || !json.Valid(body) {
					t.Errorf("%q %s: got %s %.60s, want AS2", tt.accept, path, mt, body)
				}
				continue
			}
			if mt != "text/html" {
				t.Errorf("%q %s: got %s, want HTML", tt.accept, path, mt)
			}
		}
	}
}

// htmlLinksAndText parses an HTML page and returns its alternate link
// hrefs, whether it holds script/img elements, and its text.
func parseHTML(t *testing.T, body []byte) (alternate []string, active bool, text string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "img", "iframe":
				active = true
			case "link":
				attrs := map[string]string{}
				for _, a := range n.Attr {
					attrs[a.Key] = a.Val
				}
				if attrs["rel"] == "alternate" && attrs["type"] == "application/activity+json" {
					alternate = append(alternate, attrs["href"])
				}
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return alternate, active, b.String()
}

func TestHTMLProfile(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		path, iri, text string
		status          int
	}{
		{"/users/alice", base + "/users/alice", "Alice Müller", 200},
		{"/@alice", base + "/users/alice", "Mag <Bücher> & Kaffee.", 200},
		{"/@lernen", base + "/communities/lernen", "Learning community", 200},
		{"/actor", base + "/actor", "@127.0.0.1@127.0.0.1:8080", 200},
		{"/@xss", base + "/users/xss", `<script>alert("x")</script>`, 200},
		{"/users/gone", base + "/users/gone", "has been deleted", 410},
	}
	for _, tt := range tests {
		resp, body := fetch(t, http.MethodGet, srv.URL+tt.path, "text/html")
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d", tt.path, resp.StatusCode)
		}
		if !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: not an HTML page: %.80s", tt.path, body)
		}
		alt, active, text := parseHTML(t, body)
		if len(alt) != 1 || alt[0] != tt.iri {
			t.Errorf("%s: alternate links %q, want %s", tt.path, alt, tt.iri)
		}
		if active {
			t.Errorf("%s: page holds active elements:\n%s", tt.path, body)
		}
		if !strings.Contains(text, tt.text) {
			t.Errorf("%s: text lacks %q:\n%s", tt.path, tt.text, text)
		}
	}
}

func TestStatuses(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		path   string
		accept string
		status int
	}{
		{"/users/alice", acceptAS, 200},
		{"/users/ALICE", acceptAS, 200},
		{"/communities/alice", acceptAS, 404},
		{"/organizations/lernen", acceptAS, 404},
		{"/users/lernen", "", 404},
		{"/users/127.0.0.1", acceptAS, 404},
		{"/users/nobody", acceptAS, 404},
		{"/@nobody", "", 404},
		{"/users/gone", acceptAS, 410},
		{"/users/gone", "", 410},
		{"/@gone", acceptAS, 410},
		{"/users/gone/outbox", acceptAS, 410},
		{"/users/alice/likes", acceptAS, 404},
		{"/users/alice/inbox", acceptAS, 404},
		{"/users/alice/outbox?page=true&cursor=99", acceptAS, 400},
		{"/users/alice/outbox?page=true&cursor=x", acceptAS, 400},
		{"/users/alice/outbox?page=true&cursor=1&cursor=2", acceptAS, 400},
		{"/users/alice/outbox?page=true&cursor=" + strings.Repeat("9", MaxCursorBytes+1), acceptAS, 400},
		{"/users/alice/outbox?page=%zz", acceptAS, 200}, // an unreadable query is ignored
		{"/users/alice/outbox", "", 200},
		{"/actor/outbox", "", 200},
		{"/actor/followers?page=true", "", 200},
		{"/users/%00", acceptAS, 404},
		{"/@", acceptAS, 404},
		{"/@" + strings.Repeat("a", 300), acceptAS, 404},
		{"/users/a%2Fb", acceptAS, 404},
	}
	for _, tt := range tests {
		resp, body := fetch(t, http.MethodGet, srv.URL+tt.path, tt.accept)
		if resp.StatusCode != tt.status {
			t.Errorf("%s (%q): status %d, want %d: %.200s", tt.path, tt.accept, resp.StatusCode, tt.status, body)
		}
	}
}

// TestBadPathsDirect calls the handler directly (no router in front) with
// paths no route would hand it: never a panic, always 404.
func TestBadPathsDirect(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"", "/", "/users", "/users/", "/users//outbox", "/users/alice/outbox/x", "/actor/inbox",
		"/actor/x", "/@a/b", "/@a@b", "/communities/\x7f", "/users/alice/inbox", "/nodeinfo/2.1", "/" + strings.Repeat("@", 5000)} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%q: status %d", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/users/alice", strings.NewReader("{}")))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestHead(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, path := range []string{"/users/alice", "/@alice", "/actor", "/users/alice/outbox", "/users/alice/outbox?page=true"} {
		for _, accept := range []string{acceptAS, "text/html"} {
			get, getBody := fetch(t, http.MethodGet, srv.URL+path, accept)
			head, headBody := fetch(t, http.MethodHead, srv.URL+path, accept)
			if head.StatusCode != get.StatusCode || len(headBody) != 0 || len(getBody) == 0 ||
				head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("%s %q: HEAD %d %q (%d bytes), GET %d %q", path, accept, head.StatusCode,
					head.Header.Get("Content-Type"), len(headBody), get.StatusCode, get.Header.Get("Content-Type"))
			}
		}
	}
}

func TestPaging(t *testing.T) {
	srv := serve(t, newHandler(t))
	next := base + "/users/alice/outbox?page=true"
	var got []string
	var pages int
	for next != "" && pages < 10 {
		pages++
		_, body := fetch(t, http.MethodGet, srv.URL+strings.TrimPrefix(next, base), acceptAS)
		o, err := as2.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != next || o.Type != as2.TypeOrderedCollectionPage {
			t.Fatalf("page id %q type %s, want %q", o.ID, o.Type, next)
		}
		if *o.Collection.TotalItems != 5 {
			t.Errorf("totalItems %d", *o.Collection.TotalItems)
		}
		if pages > 1 && o.Collection.Prev.First().ID == "" {
			t.Errorf("page %d has no prev", pages)
		}
		if pages == 1 && o.Collection.Prev.First().ID != "" {
			t.Errorf("first page has prev %q", o.Collection.Prev.First().ID)
		}
		got = append(got, o.Collection.Items.IDs()...)
		next = o.Collection.Next.First().ID
	}
	want := []string{"1", "2", "3", "4", "5"}
	if len(got) != len(want) || pages != 3 {
		t.Fatalf("items %q over %d pages", got, pages)
	}
	for i, w := range want {
		if got[i] != base+"/notes/alice/"+w {
			t.Errorf("item %d = %q", i, got[i])
		}
	}
	// The collection itself reports the total without items.
	_, body := fetch(t, http.MethodGet, srv.URL+"/users/alice/outbox", acceptAS)
	o, _ := as2.Decode(body)
	if *o.Collection.TotalItems != 5 || len(o.Collection.Items) != 0 {
		t.Errorf("collection %s", body)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{projections.ErrNotLive, http.StatusServiceUnavailable},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		srv := serve(t, New(scheme, &fakeReader{Err: tt.err}, Options{}))
		for _, path := range []string{"/users/alice", "/actor", "/@alice", "/users/alice/outbox"} {
			resp, body := fetch(t, http.MethodGet, srv.URL+path, acceptAS)
			if resp.StatusCode != tt.status || strings.Contains(string(body), "disk on fire") {
				t.Errorf("%s with %v: %d %s", path, tt.err, resp.StatusCode, body)
			}
		}
	}
	// A Page failing.
	h := New(scheme, sampleActors(t), Options{Collections: map[urls.Collection]Page{
		urls.Followers: func(context.Context, actors.Actor, string, int) (PageResult, error) {
			return PageResult{}, errors.New("boom")
		}}})
	srv := serve(t, h)
	if resp, _ := fetch(t, http.MethodGet, srv.URL+"/users/alice/followers?page=true", acceptAS); resp.StatusCode != 500 {
		t.Errorf("failing page: %d", resp.StatusCode)
	}
}

func TestTombstone(t *testing.T) {
	b, err := Tombstone(base+"/users/x", "Group", t0)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["type"] != "Tombstone" || m["id"] != base+"/users/x" || m["formerType"] != "Group" || m["deleted"] != "2026-03-14T09:30:00Z" {
		t.Errorf("tombstone %s", b)
	}
}

func TestSummaryHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  \n ", ""},
		{"plain", "<p>plain</p>"},
		{"a\nb", "<p>a<br>b</p>"},
		{"a\r\n\r\nb", "<p>a</p><p>b</p>"},
		{"<b>&\"'", "<p>&lt;b&gt;&amp;&#34;&#39;</p>"},
		{"a\n\n\n\nb", "<p>a</p><p>b</p>"},
	}
	for _, tt := range tests {
		if got := summaryHTML(tt.in); got != tt.want {
			t.Errorf("summaryHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
