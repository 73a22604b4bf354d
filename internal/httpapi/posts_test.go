package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/media"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// postPrincipalHeader carries "account id|role|scope scope …" for
// withPostPrincipal, which stands in for the bearer middleware.
const postPrincipalHeader = "X-Test-Post-Principal"

func withPostPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(postPrincipalHeader); v != "" {
			parts := strings.SplitN(v, "|", 3)
			r = r.WithContext(WithPrincipal(r.Context(), Principal{AccountID: parts[0], Role: account.Role(parts[1]),
				Scopes: strings.Fields(parts[2])}))
		}
		next.ServeHTTP(w, r)
	})
}

// postTestGate: community c1 (public) with members alice, bob and fac
// (a facilitator); members-only community closed with member alice.
type postTestGate struct{}

var postGateMembers = map[string]bool{"c1|alice": true, "c1|bob": true, "c1|fac": true, "closed|alice": true}

func (postTestGate) CanPost(_ context.Context, c, author string) error {
	switch {
	case c != "c1" && c != "closed":
		return app.ErrCommunityNotFound
	case author == "mallory":
		return app.ErrBanned
	case !postGateMembers[c+"|"+author]:
		return app.ErrNotMember
	}
	return nil
}

func (postTestGate) CanModerate(_ context.Context, c string, by app.Acting) error {
	if by.Admin || by.ID == "fac" && c == "c1" {
		return nil
	}
	return app.ErrNotFacilitator
}

func (postTestGate) Membership(_ context.Context, c, member string) (community.MembershipState, error) {
	switch {
	case c != "c1" && c != "closed":
		return "", app.ErrCommunityNotFound
	case postGateMembers[c+"|"+member]:
		return community.StateMember, nil
	}
	return community.StateNone, nil
}

func (postTestGate) Visibility(_ context.Context, c string) (community.Visibility, error) {
	if c == "closed" {
		return community.Members, nil
	}
	return community.Public, nil
}

// postMentions resolves "bob" and "carol@remote.example".
type postMentions struct{}

func (postMentions) Resolve(_ context.Context, handle string) (string, error) {
	switch handle {
	case "bob":
		return postActorIRI("bob"), nil
	case "carol@remote.example":
		return "https://remote.example/users/carol", nil
	}
	return "", fmt.Errorf("unknown %s", handle)
}

func postActorIRI(id string) string { return "https://hanse.test/users/" + id }

type postStack struct {
	env      *testEnv
	store    events.Store
	registry *events.Registry
	mu       sync.Mutex
	last     events.Position // the newest write's position (read-your-writes)
}

type postStackOptions struct {
	maxUpload       int64
	postRateLimit   func(http.Handler) http.Handler
	withCommunities bool
}

func newPostStack(t *testing.T, so postStackOptions) *postStack {
	t.Helper()
	pe := projectiontest.Open(t)
	files, err := media.New(t.TempDir(), media.Options{MaxBytes: so.maxUpload})
	if err != nil {
		t.Fatal(err)
	}
	cmds := app.NewPosts(pe.Store, pe.Registry, personal.Plain{}, postTestGate{}, "hanse.test")
	mediaCmds := app.NewMedia(pe.Store, pe.Registry, files, personal.Plain{}, "hanse.test")
	if !pe.Registry.Known(actor.TypeCreated) {
		actor.Register(pe.Registry)
	}
	for _, id := range []string{"alice", "bob", "carol", "fac", "mallory", "root"} {
		pe.Record(actor.Stream(id), actor.Created{ActorID: id, Kind: actor.KindPerson, Username: id}, events.Metadata{})
	}
	runner := pe.Runner("read.db", posts.New(personal.Plain{}, posts.ActorIRIs(func(_ actor.Kind, username string) string {
		return postActorIRI(username)
	})))
	reader := posts.NewReader(runner.DB())
	s := &postStack{store: pe.Store, registry: pe.Registry}
	s.env = newTestServer(t, Deps{Mount: func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(withPostPrincipal)
			if so.withCommunities {
				CommunityRoutes(nil, nil, nil)(r)
			}
			PostRoutes(PostRoutesOptions{Commands: cmds, Reader: reader, Mentions: postMentions{},
				Reads: AwaitPosition(runner, posts.Name, 0), PostRateLimit: so.postRateLimit,
				Links: func(p posts.Post) (string, string) {
					if p.Local() {
						return p.AuthorIRI + "/posts/" + p.ID, "https://hanse.test/@x/" + p.ID
					}
					return p.ObjectIRI, p.URL
				}})(r)
			MediaRoutes(MediaRoutesOptions{Commands: mediaCmds, MaxUploadBytes: so.maxUpload})(r)
		})
	}})
	return s
}

const postScopes = "read write follow"

func as(id string) string { return id + "|learner|" + postScopes }

// call makes one request as principal ("" for none), waiting for the
// newest write, and decodes a JSON body into out (when not nil).
func (s *postStack) call(t *testing.T, principal, method, path, body string, out any) response {
	t.Helper()
	h := map[string]string{}
	if principal != "" {
		h[postPrincipalHeader] = principal
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	s.mu.Lock()
	if s.last > 0 && method == http.MethodGet {
		h[MinPositionHeader] = fmt.Sprint(s.last)
	}
	s.mu.Unlock()
	res := s.env.do(t, method, path, strings.NewReader(body), h)
	if res.status < 300 && method != http.MethodGet {
		var w struct {
			Position events.Position `json:"position"`
		}
		if json.Unmarshal(res.body, &w) == nil && w.Position > 0 {
			s.mu.Lock()
			s.last = max(s.last, w.Position)
			s.mu.Unlock()
		}
	}
	if out != nil {
		if res.status >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, res.status, res.body)
		}
		if err := json.Unmarshal(res.body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, res.body)
		}
	}
	return res
}

// publish posts body as principal and returns the new post's id.
func (s *postStack) publish(t *testing.T, principal, body string) string {
	t.Helper()
	var w PostWriteJSON
	res := s.call(t, principal, "POST", PostsPath, body, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("publish %s = %d %s", body, res.status, res.body)
	}
	if err := json.Unmarshal(res.body, &w); err != nil || w.ID == "" || w.Position == 0 {
		t.Fatalf("publish answer %s: %v", res.body, err)
	}
	return w.ID
}

func (s *postStack) list(t *testing.T, principal, path string) []string {
	t.Helper()
	var l PostListJSON
	s.call(t, principal, "GET", path, "", &l)
	out := []string{}
	for _, p := range l.Items {
		out = append(out, p.ID)
	}
	return out
}

func wantStatus(t *testing.T, what string, res response, status int, code string) {
	t.Helper()
	if res.status != status || code != "" && !strings.Contains(string(res.body), `"`+code+`"`) {
		t.Fatalf("%s = %d %s; want %d %s", what, res.status, res.body, status, code)
	}
}

func TestPostRoutesPublishAndRead(t *testing.T) {
	s := newPostStack(t, postStackOptions{})
	id := s.publish(t, as("alice"), `{"content":"Hallo <b>Welt</b> #Imkern\n\nmit @bob und @nobody","language":"de","community_id":"c1"}`)

	var p PostJSON
	s.call(t, "", "GET", PostsPath+"/"+id, "", &p)
	want := PostJSON{ID: id, Kind: "Note", URI: postActorIRI("alice") + "/posts/" + id, URL: "https://hanse.test/@x/" + id,
		Author: PostAuthorJSON{ID: "alice", IRI: postActorIRI("alice")}, CommunityID: "c1", Visibility: "public",
		Languages:  []string{"de"},
		ContentMap: map[string]string{"de": "<p>Hallo &lt;b&gt;Welt&lt;/b&gt; #Imkern</p><p>mit @bob und @nobody</p>"},
		Hashtags:   []string{"imkern"}, Mentions: []string{postActorIRI("bob")}, Attachments: []PostAttachmentJSON{},
		CreatedAt: p.CreatedAt}
	if g, w := fmt.Sprintf("%+v", p), fmt.Sprintf("%+v", want); g != w {
		t.Fatalf("GET post =\n%s\nwant\n%s", g, w)
	}
	if p.CreatedAt == "" {
		t.Fatal("no created_at")
	}

	cases := []struct {
		name, principal, body string
		status                int
		code                  string
	}{
		{"anonymous", "", `{"content":"x"}`, 401, CodeUnauthorized},
		{"read-only token", "alice|learner|read", `{"content":"x"}`, 403, CodeInsufficientScope},
		{"empty text", as("alice"), `{"content":" "}`, 422, CodeValidation},
		{"both forms", as("alice"), `{"content":"x","content_map":{"de":"y"}}`, 422, `content`},
		{"article without title", as("alice"), `{"kind":"Article","content":"x"}`, 422, `name`},
		{"unknown field", as("alice"), `{"content":"x","colour":"red"}`, 400, CodeBadRequest},
		{"not JSON", as("alice"), `content=x`, 400, CodeBadRequest},
		{"bad visibility", as("alice"), `{"content":"x","visibility":"friends"}`, 422, `visibility`},
		{"unknown community", as("alice"), `{"content":"x","community_id":"nope"}`, 404, CodeNotFound},
		{"not a member", as("carol"), `{"content":"x","community_id":"c1"}`, 403, CodeNotMember},
		{"banned", as("mallory"), `{"content":"x","community_id":"c1"}`, 403, CodeBanned},
		{"unknown parent", as("alice"), `{"content":"x","in_reply_to":"0192f1c4-0000-7000-8000-000000000000"}`, 422, `in_reply_to`},
		{"unknown media", as("alice"), `{"content":"x","media_ids":["0192f1c4-0000-7000-8000-000000000000"]}`, 422, `media_ids`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantStatus(t, c.name, s.call(t, c.principal, "POST", PostsPath, c.body, nil), c.status, c.code)
		})
	}

	// Idempotency-Key: a retried request publishes once.
	h := map[string]string{postPrincipalHeader: as("alice"), "Content-Type": "application/json", "Idempotency-Key": "k1"}
	r1 := s.env.do(t, "POST", PostsPath, strings.NewReader(`{"content":"once"}`), h)
	r2 := s.env.do(t, "POST", PostsPath, strings.NewReader(`{"content":"once"}`), h)
	if r1.status != 201 || string(r1.body) != string(r2.body) {
		t.Fatalf("retries answered %d %s and %d %s", r1.status, r1.body, r2.status, r2.body)
	}

	wantStatus(t, "unknown post", s.call(t, "", "GET", PostsPath+"/nope", "", nil), 404, CodeNotFound)
	wantStatus(t, "read without read scope", s.call(t, "alice|learner|write", "GET", PostsPath+"/"+id, "", nil), 403, CodeInsufficientScope)
}

func TestPostRoutesVisibility(t *testing.T) {
	s := newPostStack(t, postStackOptions{})
	dm := s.publish(t, as("alice"), `{"content":"psst @bob","visibility":"direct"}`)
	members := s.publish(t, as("alice"), `{"content":"only us","community_id":"closed","visibility":"public"}`)
	unlisted := s.publish(t, as("alice"), `{"content":"quiet","visibility":"unlisted"}`)
	pub := s.publish(t, as("alice"), `{"content":"loud #bees"}`)

	var p PostJSON
	s.call(t, as("bob"), "GET", PostsPath+"/"+dm, "", &p)
	if p.Visibility != "direct" {
		t.Fatalf("bob reads the direct post as %+v", p)
	}
	wantStatus(t, "carol reads the direct post", s.call(t, as("carol"), "GET", PostsPath+"/"+dm, "", nil), 404, CodeNotFound)
	wantStatus(t, "anonymous reads the direct post", s.call(t, "", "GET", PostsPath+"/"+dm, "", nil), 404, CodeNotFound)
	s.call(t, as("alice"), "GET", PostsPath+"/"+members, "", &p)
	if p.Visibility != "members" {
		t.Fatalf("members-only community post has visibility %s", p.Visibility)
	}
	wantStatus(t, "an outsider reads a members post", s.call(t, as("carol"), "GET", PostsPath+"/"+members, "", nil), 404, CodeNotFound)
	wantStatus(t, "an outsider likes a members post", s.call(t, as("carol"), "POST", PostsPath+"/"+members+"/like", "", nil), 404, CodeNotFound)
	wantStatus(t, "an outsider withdraws from a members post", s.call(t, as("carol"), "DELETE", PostsPath+"/"+members+"/like", "", nil), 404, CodeNotFound)
	wantStatus(t, "a member likes a members post", s.call(t, as("alice"), "POST", PostsPath+"/"+members+"/like", "", nil), 200, "")
	// A hidden parent reads as a missing one: a field error.
	wantStatus(t, "an outsider replies to a direct post", s.call(t, as("carol"), "POST", PostsPath,
		`{"content":"me too","in_reply_to":"`+dm+`"}`, nil), 422, CodeValidation)

	for path, want := range map[string][]string{
		TimelinesPath + "/public":            {pub},
		TimelinesPath + "/public?local=true": {pub},
		TimelinesPath + "/tag/Bees":          {pub},
		CommunitiesPath + "/closed/timeline": {},
	} {
		if got := s.list(t, as("carol"), path); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s for carol = %v, want %v", path, got, want)
		}
	}
	if got := s.list(t, as("alice"), TimelinesPath+"/home"); fmt.Sprint(got) != fmt.Sprint([]string{pub, unlisted, members, dm}) {
		t.Errorf("alice's home = %v", got)
	}
	wantStatus(t, "home without sign-in", s.call(t, "", "GET", TimelinesPath+"/home", "", nil), 401, CodeUnauthorized)
}

func TestPostRoutesThreadsAndModeration(t *testing.T) {
	s := newPostStack(t, postStackOptions{})
	root := s.publish(t, as("alice"), `{"content":"Frage","community_id":"c1"}`)
	reply := s.publish(t, as("bob"), `{"content":"Antwort","in_reply_to":"`+root+`"}`)
	if got := s.list(t, "", PostsPath+"/"+root+"/replies"); fmt.Sprint(got) != fmt.Sprint([]string{reply}) {
		t.Fatalf("replies = %v", got)
	}
	var p PostJSON
	s.call(t, "", "GET", PostsPath+"/"+reply, "", &p)
	if p.CommunityID != "c1" || p.InReplyTo != root || p.ThreadID != root {
		t.Fatalf("reply %+v", p)
	}
	s.call(t, "", "GET", PostsPath+"/"+root, "", &p)
	if p.RepliesCount != 1 {
		t.Fatalf("replies_count %d", p.RepliesCount)
	}

	for _, c := range []struct {
		name, principal, method, path, body string
		status                              int
		code                                string
	}{
		{"member locks", as("bob"), "POST", "/" + root + "/lock", "", 403, CodeNotFacilitator},
		{"lock a reply", as("fac"), "POST", "/" + reply + "/lock", "", 409, CodeNotThreadRoot},
		{"facilitator locks", as("fac"), "POST", "/" + root + "/lock", "", 200, ""},
		{"reply into the locked thread", as("bob"), "POST", "", `{"content":"x","in_reply_to":"` + reply + `"}`, 409, CodeThreadLocked},
		{"facilitator unlocks", as("fac"), "POST", "/" + root + "/unlock", "", 200, ""},
		{"facilitator pins", as("fac"), "POST", "/" + root + "/pin", "", 200, ""},
		{"admin pins again (no-op)", "root|instance_admin|" + postScopes, "POST", "/" + root + "/pin", "", 200, ""},
		{"someone else edits", as("bob"), "PATCH", "/" + root, `{"content":"mine"}`, 403, CodeNotAuthor},
		{"author edits", as("alice"), "PATCH", "/" + root, `{"content_map":{"en":"Question #help"}}`, 200, ""},
		{"someone else deletes", as("bob"), "DELETE", "/" + root, "", 403, CodeNotAuthor},
		{"member removes", as("bob"), "POST", "/" + reply + "/remove", `{"reason":"x"}`, 403, CodeNotFacilitator},
		{"facilitator removes", as("fac"), "POST", "/" + reply + "/remove", `{"reason":"off topic"}`, 200, ""},
		{"remove again", as("fac"), "POST", "/" + reply + "/remove", "", 410, CodePostGone},
		{"bob likes", as("bob"), "POST", "/" + root + "/like", "", 200, ""},
		{"bob likes again", as("bob"), "POST", "/" + root + "/like", "", 200, ""},
		{"carol likes", as("carol"), "POST", "/" + root + "/like", "", 200, ""},
		{"carol withdraws", as("carol"), "DELETE", "/" + root + "/like", "", 200, ""},
		{"carol withdraws again (no-op)", as("carol"), "DELETE", "/" + root + "/like", "", 200, ""},
		{"like an unknown post", as("carol"), "POST", "/0192f1c4-0000-7000-8000-000000000000/like", "", 404, CodeNotFound},
		{"withdraw from an unknown post", as("carol"), "DELETE", "/0192f1c4-0000-7000-8000-000000000000/like", "", 404, CodeNotFound},
	} {
		path := PostsPath + c.path
		wantStatus(t, c.name, s.call(t, c.principal, c.method, path, c.body, nil), c.status, c.code)
	}
	s.call(t, "", "GET", PostsPath+"/"+root, "", &p)
	if !p.Pinned || p.Locked || p.LikesCount != 1 || p.RepliesCount != 0 || p.EditedAt == "" ||
		p.ContentMap["en"] != "<p>Question #help</p>" || fmt.Sprint(p.Hashtags) != "[help]" {
		t.Fatalf("after moderation %+v", p)
	}
	if got := s.list(t, "", CommunitiesPath+"/c1/featured"); fmt.Sprint(got) != fmt.Sprint([]string{root}) {
		t.Fatalf("featured = %v", got)
	}
	wantStatus(t, "read the removed reply", s.call(t, "", "GET", PostsPath+"/"+reply, "", nil), 404, CodeNotFound)
	wantStatus(t, "author deletes", s.call(t, as("alice"), "DELETE", PostsPath+"/"+root, "", nil), 200, "")
	wantStatus(t, "delete again", s.call(t, as("alice"), "DELETE", PostsPath+"/"+root, "", nil), 410, CodePostGone)
	wantStatus(t, "read the deleted post", s.call(t, "", "GET", PostsPath+"/"+root, "", nil), 404, CodeNotFound)
	wantStatus(t, "edit unknown", s.call(t, as("alice"), "PATCH", PostsPath+"/nope", `{"content":"x"}`, nil), 404, CodeNotFound)
}

func TestPostRoutesTimelinePaging(t *testing.T) {
	s := newPostStack(t, postStackOptions{})
	var ids []string
	for i := range 5 {
		ids = append([]string{s.publish(t, as("alice"), fmt.Sprintf(`{"content":"post %d #paging"}`, i))}, ids...)
	}
	var got []string
	path := TimelinesPath + "/tag/paging?limit=2"
	for range 5 {
		var l PostListJSON
		res := s.call(t, "", "GET", path, "", &l)
		for _, p := range l.Items {
			got = append(got, p.ID)
		}
		if l.Next == "" {
			break
		}
		link := res.header.Get("Link")
		next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
		if !strings.Contains(next, "max_id="+l.Next) || !strings.Contains(link, `rel="prev"`) {
			t.Fatalf("Link %q", link)
		}
		path = next
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("paged %v, want %v", got, ids)
	}
	if newer := s.list(t, "", TimelinesPath+"/public?since_id="+ids[2]); fmt.Sprint(newer) != fmt.Sprint(ids[:2]) {
		t.Fatalf("since_id = %v", newer)
	}
	if big := s.list(t, "", TimelinesPath+"/public?limit=1000"); len(big) != 5 {
		t.Fatalf("limit 1000 = %v", big)
	}
	wantStatus(t, "bad limit", s.call(t, "", "GET", TimelinesPath+"/public?limit=x", "", nil), 400, CodeBadRequest)
	wantStatus(t, "bad local", s.call(t, "", "GET", TimelinesPath+"/public?local=maybe", "", nil), 400, CodeBadRequest)
	wantStatus(t, "unknown max_id", s.call(t, "", "GET", TimelinesPath+"/public?max_id=nope", "", nil), 400, CodeBadCursor)
}

func TestPostRoutesRateLimit(t *testing.T) {
	s := newPostStack(t, postStackOptions{postRateLimit: RateLimit(AccountKey, 0.001, 2)})
	for i := range 2 {
		s.publish(t, as("alice"), fmt.Sprintf(`{"content":"%d"}`, i))
	}
	wantStatus(t, "third post", s.call(t, as("alice"), "POST", PostsPath, `{"content":"x"}`, nil), 429, CodeRateLimited)
	s.publish(t, as("bob"), `{"content":"bob has his own budget"}`)
}

// multipartBody builds an upload with a file part (declared type ct) and
// a description.
func multipartBody(t *testing.T, data []byte, ct, description string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="f"`)
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	part, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if description != "" {
		mw.WriteField("description", description)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

var testPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 40)...)

func (s *postStack) upload(t *testing.T, principal string, data []byte, ct, description string) response {
	t.Helper()
	body, formType := multipartBody(t, data, ct, description)
	h := map[string]string{"Content-Type": formType}
	if principal != "" {
		h[postPrincipalHeader] = principal
	}
	return s.env.do(t, "POST", MediaPath, body, h)
}

func TestMediaRoutes(t *testing.T) {
	s := newPostStack(t, postStackOptions{maxUpload: 1 << 10})
	res := s.upload(t, as("alice"), testPNG, "image/png", "ein Bienenstock")
	var m MediaJSON
	if res.status != 201 || json.Unmarshal(res.body, &m) != nil || m.Type != "image/png" || m.Size != int64(len(testPNG)) ||
		m.URL != PublicMediaPath+"/"+m.ID {
		t.Fatalf("upload = %d %s", res.status, res.body)
	}
	for _, path := range []string{PublicMediaPath + "/" + m.ID, MediaPath + "/" + m.ID} {
		got := s.env.do(t, "GET", path, nil, nil)
		if got.status != 200 || !bytes.Equal(got.body, testPNG) || got.header.Get("Content-Type") != "image/png" ||
			got.header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(got.header.Get("Content-Disposition"), "inline") ||
			!strings.Contains(got.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("GET %s = %d %v", path, got.status, got.header)
		}
	}
	if got := s.env.do(t, "GET", PublicMediaPath+"/"+m.ID, nil, map[string]string{"If-None-Match": `"` + m.ID + `"`}); got.status != 304 {
		t.Fatalf("conditional GET = %d", got.status)
	}
	pdf := s.upload(t, as("alice"), []byte("%PDF-1.7\n1 0 obj\n"), "", "")
	var pm MediaJSON
	json.Unmarshal(pdf.body, &pm)
	if got := s.env.do(t, "GET", PublicMediaPath+"/"+pm.ID, nil, nil); got.header.Get("Content-Type") != "application/pdf" ||
		got.header.Get("Content-Disposition") != `attachment; filename="`+pm.ID+`.pdf"` {
		t.Fatalf("pdf served with %v", got.header)
	}

	// A post with the upload: its alt text comes from the upload.
	id := s.publish(t, as("alice"), `{"content":"Foto","media_ids":["`+m.ID+`"]}`)
	var p PostJSON
	s.call(t, "", "GET", PostsPath+"/"+id, "", &p)
	if len(p.Attachments) != 1 || p.Attachments[0] != (PostAttachmentJSON{MediaID: m.ID, URL: PublicMediaPath + "/" + m.ID,
		Type: "image/png", Description: "ein Bienenstock"}) {
		t.Fatalf("attachments %+v", p.Attachments)
	}
	wantStatus(t, "someone else's upload", s.call(t, as("bob"), "POST", PostsPath, `{"content":"x","media_ids":["`+m.ID+`"]}`, nil), 422, "media_ids")

	for _, c := range []struct {
		name      string
		principal string
		data      []byte
		ct        string
		status    int
		code      string
	}{
		{"anonymous", "", testPNG, "image/png", 401, CodeUnauthorized},
		{"svg", as("alice"), []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "image/svg+xml", 415, CodeMediaUnsupported},
		{"declared jpeg", as("alice"), testPNG, "image/jpeg", 422, "file"},
		{"file over the limit", as("alice"), append(append([]byte{}, testPNG...), make([]byte, 1200)...), "image/png", 413, CodeMediaTooLarge},
		{"body over the route cap", as("alice"), append(append([]byte{}, testPNG...), make([]byte, 100<<10)...), "image/png", 413, CodeBodyTooLarge},
	} {
		wantStatus(t, c.name, s.upload(t, c.principal, c.data, c.ct, ""), c.status, c.code)
	}
	noFile := s.env.do(t, "POST", MediaPath, strings.NewReader(`{}`), map[string]string{postPrincipalHeader: as("alice"), "Content-Type": "application/json"})
	wantStatus(t, "not multipart", noFile, 415, CodeUnsupportedMedia)
	wantStatus(t, "unknown file", s.call(t, "", "GET", PublicMediaPath+"/0192f1c4-0000-7000-8000-000000000000", "", nil), 404, CodeNotFound)
	wantStatus(t, "bad id", s.call(t, "", "GET", PublicMediaPath+"/..%2f..%2fetc", "", nil), 404, CodeNotFound)
}

// TestMediaRoutesDefaultCap: with the defaults, a 10 MiB upload is
// refused with 413 only beyond the route's cap, while every other route
// keeps the router's 1 MiB.
func TestMediaRoutesDefaultCap(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 10 MiB")
	}
	s := newPostStack(t, postStackOptions{})
	big := append(append([]byte{}, testPNG...), make([]byte, DefaultMaxUploadBytes-int64(len(testPNG)))...)
	if res := s.upload(t, as("alice"), big, "image/png", ""); res.status != 201 {
		t.Fatalf("10 MiB upload = %d %s", res.status, res.body)
	}
	wantStatus(t, "beyond 10 MiB", s.upload(t, as("alice"), append(big, make([]byte, 100<<10)...), "image/png", ""), 413, CodeBodyTooLarge)
	wantStatus(t, "a 2 MiB post", s.call(t, as("alice"), "POST", PostsPath, `{"content":"`+strings.Repeat("x", 2<<20)+`"}`, nil), 413, CodeBodyTooLarge)
}

// TestPostRoutesBesideCommunityRoutes: the community timeline and
// featured routes live under the communities API's prefix, which
// CommunityRoutes mounts as a subrouter; both work side by side.
func TestPostRoutesBesideCommunityRoutes(t *testing.T) {
	s := newPostStack(t, postStackOptions{withCommunities: true})
	id := s.publish(t, as("alice"), `{"content":"x","community_id":"c1"}`)
	if got := s.list(t, "", CommunitiesPath+"/c1/timeline"); fmt.Sprint(got) != fmt.Sprint([]string{id}) {
		t.Fatalf("community timeline = %v", got)
	}
	wantStatus(t, "a communities route", s.call(t, "", "GET", CommunitiesPath+"/c1/members", "", nil), 401, CodeUnauthorized)
}
