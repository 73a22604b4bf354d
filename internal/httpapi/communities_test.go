package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/secrets"
	"github.com/hanse-network/hanse/projections/communities"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

var (
	communityKeyOnce sync.Once
	communityKey     *rsa.PrivateKey
	communityKeyErr  error
)

// communityTestKey is one RSA key for every actor of these tests
// (generating keys is slow).
func communityTestKey() (*rsa.PrivateKey, error) {
	communityKeyOnce.Do(func() { communityKey, communityKeyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return communityKey, communityKeyErr
}

// communityPrincipalHeader carries "account id|role|scope scope …" for
// withCommunityPrincipal.
const communityPrincipalHeader = "X-Test-Principal"

// withCommunityPrincipal stands in for the bearer middleware: it makes the
// principal named by communityPrincipalHeader.
func withCommunityPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(communityPrincipalHeader); v != "" {
			parts := strings.SplitN(v, "|", 3)
			r = r.WithContext(WithPrincipal(r.Context(), Principal{AccountID: parts[0], Role: account.Role(parts[1]),
				Scopes: strings.Fields(parts[2])}))
		}
		next.ServeHTTP(w, r)
	})
}

type communityStack struct {
	env                     *testEnv
	alice, bob, carol, root string
}

func newCommunityStack(t *testing.T) *communityStack {
	t.Helper()
	pe := projectiontest.Open(t)
	keyring, err := secrets.NewKeyring(bytes.Repeat([]byte{9}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	actors := app.NewActors(pe.Store, pe.Registry, keyring, "hanse.test")
	actors.Keys = communityTestKey
	cmds := app.NewCommunities(pe.Store, pe.Registry, actors, "hanse.test")
	s := &communityStack{}
	for _, p := range []struct {
		name string
		id   *string
	}{{"alice", &s.alice}, {"bob", &s.bob}, {"carol", &s.carol}, {"rootadmin", &s.root}} {
		res, err := actors.Create(t.Context(), app.CreateActor{Kind: actor.KindPerson, Username: p.name, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		*p.id = res.ActorID
	}
	runner := pe.Runner("read.db", communities.New())
	reader := communities.NewReader(runner.DB())
	s.env = newTestServer(t, Deps{Mount: func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(withCommunityPrincipal)
			CommunityRoutes(cmds, reader, AwaitPosition(runner, communities.Name, 0))(r)
		})
	}})
	return s
}

const communityScopes = "read write follow"

func communityAs(id string, role account.Role, scopes string) string {
	return id + "|" + string(role) + "|" + scopes
}

// call makes one request as principal ("" for none) and decodes a JSON
// body into out (when not nil).
func (s *communityStack) call(t *testing.T, principal, method, path, body string, out any) response {
	t.Helper()
	h := map[string]string{}
	if principal != "" {
		h[communityPrincipalHeader] = principal
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	res := s.env.do(t, method, path, strings.NewReader(body), h)
	if out != nil && res.status < 300 {
		if err := json.Unmarshal(res.body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, res.body)
		}
	}
	return res
}

func TestCommunityRoutes(t *testing.T) {
	s := newCommunityStack(t)
	alice := communityAs(s.alice, account.Facilitator, communityScopes)
	aliceRO := communityAs(s.alice, account.Facilitator, "read")
	bob := communityAs(s.bob, account.Learner, communityScopes)
	bobFollow := communityAs(s.bob, account.Learner, "read follow")
	carol := communityAs(s.carol, account.Learner, communityScopes)
	root := communityAs(s.root, account.InstanceAdmin, communityScopes)
	appToken := communityAs("", "", communityScopes)
	base := CommunitiesPath

	var created CommunityWriteJSON
	res := s.call(t, alice, "POST", base, `{"username":"Imker","name":"Imkerei","description":"Bienen","topics":["#Bienen"],
		"languages":["de"],"location":{"city":"Lübeck","country":"de","latitude":53.87,"longitude":10.69},"policy":"approval"}`, &created)
	if res.status != http.StatusCreated || created.ID == "" || created.Username != "imker" || created.Position == 0 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	imker := created.ID
	var secret CommunityWriteJSON
	if res := s.call(t, alice, "POST", base, `{"username":"geheim","name":"Geheim","policy":"invite","visibility":"members"}`, &secret); res.status != 201 {
		t.Fatalf("create geheim: %d %s", res.status, res.body)
	}
	geheim := secret.ID
	minPos := fmt.Sprintf("?min_position=%d", secret.Position)
	dora := "https://remote.example/users/dora"
	doraPath := url.PathEscape(dora)

	steps := []struct {
		name, who, method, path, body string
		status                        int
		want                          string // in the body
	}{
		// Creating.
		{"no sign-in", "", "POST", base, `{"username":"x","name":"X"}`, 401, `"code":"unauthorized"`},
		{"application token", appToken, "POST", base, `{"username":"x","name":"X"}`, 403, `"code":"forbidden"`},
		{"read-only token", aliceRO, "POST", base, `{"username":"x","name":"X"}`, 403, `"code":"insufficient_scope"`},
		{"learner creates", bob, "POST", base, `{"username":"x","name":"X"}`, 403, `"code":"forbidden_role"`},
		{"invalid topic", alice, "POST", base, `{"username":"x","name":"X","topics":["a-b"]}`, 422, `"field":"topics"`},
		{"invalid policy", alice, "POST", base, `{"username":"x","name":"X","policy":"closed"}`, 422, `"field":"policy"`},
		{"unknown field", alice, "POST", base, `{"username":"x","name":"X","colour":"red"}`, 400, `"code":"bad_request"`},
		{"username taken", alice, "POST", base, `{"username":"imker","name":"X"}`, 409, `"code":"username_taken"`},

		// The directory: public communities only, no sign-in needed.
		{"directory", "", "GET", base + minPos, ``, 200, `"username":"imker"`},
		{"directory hides members-only", "", "GET", base + minPos, ``, 200, `"items":[{"id":"` + imker + `"`},
		{"directory by topic", "", "GET", base + "?topic=BIENEN&language=de&country=DE&q=imk", ``, 200, `"member_count":1`},
		{"directory filter without match", "", "GET", base + "?country=AT", ``, 200, `"items":[]`},
		{"bad limit", "", "GET", base + "?limit=0", ``, 400, `"code":"bad_request"`},
		{"bad order", "", "GET", base + "?order=size", ``, 400, `"code":"bad_request"`},
		{"bad cursor", "", "GET", base + "?cursor=%21%21", ``, 400, `"code":"bad_request"`},
		{"bad min_position", "", "GET", base + "?min_position=x", ``, 400, `"code":"bad_request"`},

		// One community.
		{"get", "", "GET", base + "/" + imker, ``, 200, `"location":{"city":"Lübeck","country":"DE","latitude":53.87,"longitude":10.69}`},
		{"get by username", "", "GET", base + "/imker", ``, 200, `"id":"` + imker + `"`},
		{"get unknown", "", "GET", base + "/nope", ``, 404, `"code":"not_found"`},
		{"members-only, anonymous", "", "GET", base + "/" + geheim, ``, 404, `"code":"not_found"`},
		{"members-only, outsider", bob, "GET", base + "/" + geheim, ``, 404, `"code":"not_found"`},
		{"members-only, owner", alice, "GET", base + "/" + geheim, ``, 200, `"membership":{"state":"member","role":"owner"}`},
		{"members-only, admin", root, "GET", base + "/" + geheim, ``, 200, `"membership":{"state":"none"}`},

		// Joining.
		{"join needs a scope", aliceRO, "POST", base + "/" + imker + "/members", ``, 403, `"code":"insufficient_scope"`},
		{"join approval", bobFollow, "POST", base + "/" + imker + "/members", ``, 200, `"state":"requested"`},
		{"join invite-only", bob, "POST", base + "/" + geheim + "/members", ``, 403, `"code":"not_invited"`},
		{"join unknown", bob, "POST", base + "/nope/members", ``, 404, `"code":"not_found"`},
		{"approve by a learner", carol, "POST", base + "/" + imker + "/members/" + s.bob + "/approve", ``, 403, `"code":"not_facilitator"`},
		{"approve", alice, "POST", base + "/" + imker + "/members/" + s.bob + "/approve", ``, 200, `"member":"` + s.bob + `"`},
		{"approve again", alice, "POST", base + "/" + imker + "/members/" + s.bob + "/approve", ``, 409, `"code":"not_requested"`},
		{"members need sign-in", "", "GET", base + "/" + imker + "/members", ``, 401, `"code":"unauthorized"`},
		{"members", carol, "GET", base + "/" + imker + "/members", ``, 200, `"member":"` + s.bob + `","role":"member","state":"member"`},
		{"requests are for facilitators", carol, "GET", base + "/" + imker + "/members?state=requested", ``, 403, `"code":"not_facilitator"`},
		{"requests", alice, "GET", base + "/" + imker + "/members?state=requested", ``, 200, `"items":[]`},
		{"bad state", alice, "GET", base + "/" + imker + "/members?state=asleep", ``, 400, `"code":"bad_request"`},
		{"members of members-only, outsider", carol, "GET", base + "/" + geheim + "/members", ``, 404, `"code":"not_found"`},

		// Roles.
		{"role by a member", bob, "PUT", base + "/" + imker + "/members/" + s.bob + "/role", `{"role":"facilitator"}`, 403, `"code":"not_owner"`},
		{"invalid role", alice, "PUT", base + "/" + imker + "/members/" + s.bob + "/role", `{"role":"king"}`, 422, `"field":"role"`},
		{"own role", alice, "PUT", base + "/" + imker + "/members/me/role", `{"role":"member"}`, 409, `"code":"not_on_yourself"`},
		{"make bob facilitator", alice, "PUT", base + "/" + imker + "/members/" + s.bob + "/role", `{"role":"facilitator"}`, 200, `"role":"facilitator"`},

		// Invitations.
		{"invite by a non-member", bob, "POST", base + "/" + geheim + "/invitations", `{"member":"` + s.carol + `"}`, 403, `"code":"not_facilitator"`},
		{"invite nobody", alice, "POST", base + "/" + geheim + "/invitations", `{}`, 422, `"field":"member"`},
		{"invite an unknown account", alice, "POST", base + "/" + geheim + "/invitations", `{"member":"ghost"}`, 422, `"field":"member"`},
		{"invite carol", alice, "POST", base + "/" + geheim + "/invitations", `{"member":"` + s.carol + `"}`, 201, `"member":"` + s.carol + `"`},
		{"the invitee sees the community", carol, "GET", base + "/" + geheim, ``, 200, `"membership":{"state":"invited"}`},
		{"carol joins", carol, "POST", base + "/" + geheim + "/members", ``, 200, `"state":"member"`},
		{"carol joins again", carol, "POST", base + "/" + geheim + "/members", ``, 200, `"state":"member"`},
		{"invite a member", alice, "POST", base + "/" + geheim + "/invitations", `{"member":"` + s.carol + `"}`, 409, `"code":"already_member"`},

		// Moderation, of a remote person too.
		{"facilitator bans a remote person", bob, "POST", base + "/" + imker + "/members/" + doraPath + "/ban", `{"reason":"spam"}`, 200, `"member":"` + dora + `"`},
		{"facilitator cannot ban the owner", bob, "POST", base + "/" + imker + "/members/" + s.alice + "/ban", ``, 403, `"code":"not_owner"`},
		{"ban with a bad body", bob, "POST", base + "/" + imker + "/members/" + s.carol + "/ban", `{"reason":1}`, 400, `"code":"bad_request"`},
		{"unban", bob, "POST", base + "/" + imker + "/members/" + doraPath + "/unban", ``, 200, `"position"`},
		{"unban again", bob, "POST", base + "/" + imker + "/members/" + doraPath + "/unban", ``, 409, `"code":"not_banned"`},
		{"remove a non-member", bob, "POST", base + "/" + imker + "/members/" + s.carol + "/remove", ``, 403, `"code":"not_member"`},
		{"reject without request", bob, "POST", base + "/" + imker + "/members/" + s.carol + "/reject", ``, 409, `"code":"not_requested"`},
		{"owner cannot leave", alice, "DELETE", base + "/" + imker + "/members/me", ``, 409, `"code":"owner_cannot_leave"`},
		{"leave", bob, "DELETE", base + "/" + imker + "/members/me", ``, 200, `"state":"left"`},
		{"leave again", bob, "DELETE", base + "/" + imker + "/members/me", ``, 403, `"code":"not_member"`},

		// Changing the community.
		{"patch by a non-owner", carol, "PATCH", base + "/" + imker, `{"name":"X"}`, 403, `"code":"not_owner"`},
		{"patch invalid", alice, "PATCH", base + "/" + imker, `{"name":""}`, 422, `"field":"name"`},
		{"patch bad location", alice, "PATCH", base + "/" + imker, `{"location":{"town":"x"}}`, 422, `"field":"location"`},
		{"patch unknown field", alice, "PATCH", base + "/" + imker, `{"owner":"x"}`, 400, `"code":"bad_request"`},
		{"patch unknown community", alice, "PATCH", base + "/nope", `{"name":"X"}`, 404, `"code":"not_found"`},
		{"patch", alice, "PATCH", base + "/" + imker, `{"name":"Bienenfreunde","location":null,"policy":"open"}`, 200, `"position"`},
		{"admin patches", root, "PATCH", base + "/" + geheim, `{"description":"Von oben"}`, 200, `"position"`},

		// The audit feed.
		{"audit for a member", carol, "GET", base + "/" + geheim + "/audit", ``, 403, `"code":"not_facilitator"`},
		{"audit for an outsider of a members-only community", bob, "GET", base + "/" + geheim + "/audit", ``, 404, `"code":"not_found"`},
	}
	var last events.Position
	for _, st := range steps {
		var w CommunityWriteJSON
		var out any
		if st.method != "GET" {
			out = &w
		}
		res := s.call(t, st.who, st.method, st.path, st.body, out)
		if res.status != st.status || !strings.Contains(string(res.body), st.want) {
			t.Fatalf("%s: %s %s = %d %s; want %d with %s", st.name, st.method, st.path, res.status, res.body, st.status, st.want)
		}
		if res.status >= 400 {
			errorBody(t, res)
		}
		last = max(last, w.Position)
	}

	// Reads reflect the writes (read-your-writes through min_position).
	after := fmt.Sprintf("?min_position=%d", last)
	var got CommunityJSON
	if res := s.call(t, "", "GET", base+"/"+imker+after, "", &got); res.status != 200 || got.Name != "Bienenfreunde" ||
		got.Location != nil || got.Policy != "open" || got.MemberCount != 1 || got.Membership != nil {
		t.Fatalf("after patch: %d %s", res.status, res.body)
	}
	if res := s.call(t, carol, "GET", base+"/"+geheim+after, "", &got); res.status != 200 || got.Description != "Von oben" ||
		got.MemberCount != 2 || got.Membership == nil || got.Membership.State != "member" {
		t.Fatalf("geheim for carol: %d %s", res.status, res.body)
	}
	var members CommunityMemberListJSON
	if res := s.call(t, alice, "GET", base+"/"+imker+"/members"+after+"&state=all", "", &members); res.status != 200 {
		t.Fatalf("all members: %d %s", res.status, res.body)
	}
	var states []string
	for _, m := range members.Items {
		states = append(states, m.State)
	}
	if len(members.Items) != 2 || members.Items[0].Member != s.alice || members.Items[1].Member != s.bob || states[1] != "left" {
		t.Fatalf("members of imker: %+v", members.Items)
	}
	var audit CommunityAuditListJSON
	if res := s.call(t, alice, "GET", base+"/"+imker+"/audit"+after+"&limit=3", "", &audit); res.status != 200 ||
		len(audit.Items) != 3 || audit.Next == "" {
		t.Fatalf("audit: %d %s", res.status, res.body)
	}
	if a := audit.Items[0]; a.Type != "community.updated" || a.Actor != s.alice || !strings.Contains(string(a.Detail), `"name":"Bienenfreunde"`) {
		t.Fatalf("newest audit entry %+v", a)
	}
	var more CommunityAuditListJSON
	if res := s.call(t, root, "GET", base+"/"+imker+"/audit?cursor="+audit.Next, "", &more); res.status != 200 || len(more.Items) == 0 ||
		more.Items[0].Position >= audit.Items[2].Position {
		t.Fatalf("audit page 2: %d %s", res.status, res.body)
	}
	var banned bool
	for _, a := range append(audit.Items, more.Items...) {
		if a.Type == "community.member_banned" && a.Member == dora && a.Actor == s.bob && string(a.Detail) == `{"reason":"spam"}` {
			banned = true
		}
	}
	if !banned {
		t.Fatalf("the ban is not in the audit feed: %+v %+v", audit.Items, more.Items)
	}
	var dir CommunityListJSON
	if res := s.call(t, "", "GET", base+"?limit=1&order=newest", "", &dir); res.status != 200 || len(dir.Items) != 1 ||
		dir.Items[0].ID != imker || dir.Next != "" {
		t.Fatalf("directory page: %d %s", res.status, res.body)
	}
}
