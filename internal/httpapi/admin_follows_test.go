package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections/follows"
)

const (
	afOpen   = "http://127.0.0.1:8080/communities/open"
	afClosed = "http://127.0.0.1:8080/communities/closed"
	afCarol  = "https://other.example/users/carol"
	afDave   = "https://third.example/users/dave"
)

type afActors map[string]app.LocalActor

func (a afActors) ByIRI(_ context.Context, iri string) (app.LocalActor, error) {
	for _, x := range a {
		if x.IRI == iri {
			return x, nil
		}
	}
	return app.LocalActor{}, app.ErrActorNotFound
}

func (a afActors) ByID(_ context.Context, id string) (app.LocalActor, error) {
	if x, ok := a[id]; ok {
		return x, nil
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, id)
}

// afResolver knows dave by handle and every https actor by IRI except
// those on unreachable.example.
type afResolver struct{}

func (afResolver) ResolveHandle(_ context.Context, handle string) (string, error) {
	if handle == "dave@third.example" {
		return afDave, nil
	}
	return "", errors.New("webfinger: not found")
}

func (afResolver) Actor(_ context.Context, iri string) (remote.ActorFetched, error) {
	if iri == "https://unreachable.example/users/x" {
		return remote.ActorFetched{}, errors.New("fetch: timeout")
	}
	return remote.ActorFetched{IRI: iri, Inbox: iri + "/inbox"}, nil
}

// afRequests serves Pending from the commands' event store state.
type afRequests struct{ cmds *app.Follows }

func (q afRequests) Pending(ctx context.Context, localActorID string) ([]follows.Relationship, error) {
	if localActorID != "g2" {
		return nil, nil
	}
	s, err := q.cmds.Relationship(ctx, afCarol, afClosed)
	if err != nil || s.Status != "pending" {
		return nil, err
	}
	return []follows.Relationship{{FollowerIRI: s.FollowerIRI, FolloweeIRI: s.FolloweeIRI, FollowActivityID: s.FollowActivityID,
		UpdatedAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}}, nil
}

func TestAdminFollowRoutes(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := afActors{
		"g1": {ID: "g1", IRI: afOpen},
		"g2": {ID: "g2", IRI: afClosed, ManuallyApprovesFollowers: true},
		"g9": {ID: "g9", IRI: "http://127.0.0.1:8080/communities/gone", Deleted: true},
	}
	cmds := app.NewFollows(store, events.NewRegistry(), dir, "127.0.0.1:8080")
	ctx := context.Background()
	if _, err := cmds.ReceiveFollow(ctx, app.ReceivedFollow{ActivityID: "https://other.example/f/1", Follower: afCarol,
		Followee: afClosed, RemoteInbox: afCarol + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewRouter(Deps{AdminToken: adminTestToken, Admin: AdminFollowRoutes(cmds, afRequests{cmds}, afResolver{})}))
	defer srv.Close()
	base := srv.URL + AdminActorsPath

	resp, body := adminDo(t, http.MethodGet, base+"/g2/follow-requests", "", "", adminTestToken)
	var list FollowRequestsResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Items) != 1 ||
		list.Items[0].Follower != afCarol || list.Items[0].ActivityID != "https://other.example/f/1" {
		t.Fatalf("follow-requests: %d %s", resp.StatusCode, body)
	}

	carol := fmt.Sprintf(`{"follower":%q}`, afCarol)
	dave := `{"target":"@dave@third.example"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		state                    string
		changed                  bool
		code                     string
	}{
		{name: "reject an unknown follower", method: http.MethodPost, path: "/g2/follow-requests/reject",
			body: `{"follower":"https://x.example/u"}`, status: 404, code: CodeNotFound},
		{name: "accept", method: http.MethodPost, path: "/g2/follow-requests/accept", body: carol, status: 200, state: "accepted", changed: true},
		{name: "accept again", method: http.MethodPost, path: "/g2/follow-requests/accept", body: carol, status: 200, state: "accepted"},
		{name: "reject the accepted", method: http.MethodPost, path: "/g2/follow-requests/reject", body: carol, status: 409, code: CodeNotPending},
		{name: "remove follower", method: http.MethodDelete, path: "/g2/followers", body: carol, status: 200, state: "removed", changed: true},
		{name: "remove again", method: http.MethodDelete, path: "/g2/followers", body: carol, status: 404, code: CodeNotFound},
		{name: "follower missing", method: http.MethodDelete, path: "/g2/followers", body: `{}`, status: 400, code: CodeBadRequest},
		{name: "unknown field", method: http.MethodDelete, path: "/g2/followers", body: `{"followr":"x"}`, status: 400, code: CodeBadRequest},
		{name: "follow by handle", method: http.MethodPost, path: "/g1/following", body: dave, status: 201, state: "pending", changed: true},
		{name: "follow again by IRI", method: http.MethodPost, path: "/g1/following", body: fmt.Sprintf(`{"target":%q}`, afDave), status: 200, state: "pending"},
		{name: "follow an unknown handle", method: http.MethodPost, path: "/g1/following", body: `{"target":"nobody@nowhere.example"}`, status: 422, code: CodeUnresolvable},
		{name: "follow an unreachable actor", method: http.MethodPost, path: "/g1/following", body: `{"target":"https://unreachable.example/users/x"}`, status: 422, code: CodeUnresolvable},
		{name: "follow garbage", method: http.MethodPost, path: "/g1/following", body: `{"target":"dave"}`, status: 400, code: CodeBadRequest},
		{name: "unfollow", method: http.MethodDelete, path: "/g1/following", body: dave, status: 200, state: "undone", changed: true},
		{name: "unfollow again", method: http.MethodDelete, path: "/g1/following", body: dave, status: 404, code: CodeNotFound},
		{name: "unknown actor", method: http.MethodPost, path: "/nobody/following", body: dave, status: 404, code: CodeNotFound},
		{name: "deleted actor", method: http.MethodPost, path: "/g9/following", body: dave, status: 410, code: CodeGone},
		{name: "remove a followee as follower", method: http.MethodDelete, path: "/g1/followers", body: fmt.Sprintf(`{"follower":%q}`, afDave),
			status: 404, code: CodeNotFound},
	}
	var lastPos events.Position
	for _, tc := range cases {
		resp, body := adminDo(t, tc.method, base+tc.path, "application/json", tc.body, adminTestToken)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if tc.code != "" {
			var e ErrorBody
			if json.Unmarshal(body, &e) != nil || e.Error.Code != tc.code {
				t.Fatalf("%s: body %s, want code %s", tc.name, body, tc.code)
			}
			continue
		}
		var w FollowWriteResponse
		if err := json.Unmarshal(body, &w); err != nil || w.State != tc.state || w.Changed != tc.changed || w.Position == 0 {
			t.Fatalf("%s: body %s, want state %s changed %v", tc.name, body, tc.state, tc.changed)
		}
		if tc.changed && w.Position <= lastPos {
			t.Fatalf("%s: position %d not after %d", tc.name, w.Position, lastPos)
		}
		lastPos = max(lastPos, w.Position)
	}
	if resp, _ := adminDo(t, http.MethodPost, base+"/g1/following", "application/json", dave, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %d", resp.StatusCode)
	}
}
