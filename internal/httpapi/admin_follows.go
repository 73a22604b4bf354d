package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections/follows"
)

// Error codes of the follow administration API.
const (
	// CodeNotPending: the follow request is no longer pending (409).
	CodeNotPending = "not_pending"
	// CodeUnresolvable: the target actor could not be resolved (422).
	CodeUnresolvable = "unresolvable"
)

// FollowCommands are the follow commands the admin API calls
// (*app.Follows implements them).
type FollowCommands interface {
	Approve(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
	Reject(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
	RemoveFollower(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)
	Follow(ctx context.Context, localActorID string, target app.RemoteTarget, by string) (app.FollowResult, error)
	Unfollow(ctx context.Context, localActorID, targetIRI, by string) (app.FollowResult, error)
}

// FollowRequests lists pending follow requests (follows.Reader).
type FollowRequests interface {
	Pending(ctx context.Context, localActorID string) ([]follows.Relationship, error)
}

// Resolver finds remote actors (federation/resolve.Resolver): a handle
// "user@host" to its actor IRI, and an IRI to the actor's document.
type Resolver interface {
	ResolveHandle(ctx context.Context, handle string) (string, error)
	Actor(ctx context.Context, iri string) (remote.ActorFetched, error)
}

// FollowerRequest is the body of the follow-request and follower routes.
type FollowerRequest struct {
	// Follower is the remote follower's actor IRI.
	Follower string `json:"follower"`
}

// FollowTargetRequest is the body of the following routes.
type FollowTargetRequest struct {
	// Target is the remote actor's IRI or handle ("user@host", with or
	// without a leading "@").
	Target string `json:"target"`
}

// FollowRequestItem is one pending follow request.
type FollowRequestItem struct {
	Follower    string    `json:"follower"`
	Followee    string    `json:"followee"`
	ActivityID  string    `json:"activity_id"`
	RequestedAt time.Time `json:"requested_at"`
}

// FollowRequestsResponse is the 200 body of GET …/follow-requests.
type FollowRequestsResponse struct {
	Items []FollowRequestItem `json:"items"`
}

// FollowWriteResponse is the body of the follow write routes.
type FollowWriteResponse struct {
	// Follower and Followee name the relationship; State is where it
	// stands after the write.
	Follower string `json:"follower"`
	Followee string `json:"followee"`
	State    string `json:"state"`
	// Changed is false when the command found nothing to do.
	Changed bool `json:"changed"`
	// Position is the write's global position (or of the relationship's
	// last event), for Hanse-Min-Position.
	Position events.Position `json:"position"`
}

// AdminFollowRoutes returns the follow administration routes, to be added
// under AdminPrefix (Deps.Admin, behind the admin token):
//
//	GET    /actors/{id}/follow-requests          pending requests (200)
//	POST   /actors/{id}/follow-requests/accept   {follower} approve (200)
//	POST   /actors/{id}/follow-requests/reject   {follower} refuse (200)
//	DELETE /actors/{id}/followers                {follower} remove (200)
//	POST   /actors/{id}/following                {target} follow (201; 200 when already following)
//	DELETE /actors/{id}/following                {target} unfollow (200)
//
// Errors: 400 malformed JSON or missing fields, 404 unknown actor or no
// such relationship, 409 not pending, 410 deleted actor, 422 unresolvable
// target, 403 a relationship of the other direction.
func AdminFollowRoutes(cmds FollowCommands, requests FollowRequests, resolver Resolver) func(chi.Router) {
	a := adminFollows{cmds: cmds, requests: requests, resolver: resolver}
	return func(r chi.Router) {
		r.Get("/actors/{id}/follow-requests", a.pending)
		r.Post("/actors/{id}/follow-requests/accept", a.follower(cmds.Approve))
		r.Post("/actors/{id}/follow-requests/reject", a.follower(cmds.Reject))
		r.Delete("/actors/{id}/followers", a.follower(cmds.RemoveFollower))
		r.Post("/actors/{id}/following", a.follow)
		r.Delete("/actors/{id}/following", a.unfollow)
	}
}

type adminFollows struct {
	cmds     FollowCommands
	requests FollowRequests
	resolver Resolver
}

func (a adminFollows) pending(w http.ResponseWriter, r *http.Request) {
	rels, err := a.requests.Pending(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeFollowError(w, r, err)
		return
	}
	out := FollowRequestsResponse{Items: []FollowRequestItem{}}
	for _, rel := range rels {
		out.Items = append(out.Items, FollowRequestItem{Follower: rel.FollowerIRI, Followee: rel.FolloweeIRI,
			ActivityID: rel.FollowActivityID, RequestedAt: rel.UpdatedAt})
	}
	WriteJSON(w, http.StatusOK, out)
}

type followerCommand func(ctx context.Context, localActorID, followerIRI, by string) (app.FollowResult, error)

func (a adminFollows) follower(cmd followerCommand) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req FollowerRequest
		if !ReadJSON(w, r, &req) {
			return
		}
		if !absoluteHTTP(req.Follower) {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "follower must be an actor IRI")
			return
		}
		res, err := cmd(r.Context(), chi.URLParam(r, "id"), req.Follower, adminActorBy)
		if err != nil {
			writeFollowError(w, r, err)
			return
		}
		writeFollowResult(w, http.StatusOK, res)
	}
}

func (a adminFollows) follow(w http.ResponseWriter, r *http.Request) {
	var req FollowTargetRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	iri, ok := a.resolveTarget(w, r, req.Target)
	if !ok {
		return
	}
	doc, err := a.resolver.Actor(r.Context(), iri)
	if err != nil || doc.Inbox == "" {
		if r.Context().Err() == nil {
			WriteError(w, r, http.StatusUnprocessableEntity, CodeUnresolvable, "the target actor could not be fetched")
		}
		return
	}
	res, err := a.cmds.Follow(r.Context(), chi.URLParam(r, "id"),
		app.RemoteTarget{IRI: iri, Inbox: doc.Inbox, SharedInbox: doc.SharedInbox}, adminActorBy)
	if err != nil {
		writeFollowError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	writeFollowResult(w, status, res)
}

func (a adminFollows) unfollow(w http.ResponseWriter, r *http.Request) {
	var req FollowTargetRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	iri, ok := a.resolveTarget(w, r, req.Target)
	if !ok {
		return
	}
	res, err := a.cmds.Unfollow(r.Context(), chi.URLParam(r, "id"), iri, adminActorBy)
	if err != nil {
		writeFollowError(w, r, err)
		return
	}
	writeFollowResult(w, http.StatusOK, res)
}

// resolveTarget turns an IRI or a handle into an actor IRI, answering the
// error itself when it cannot.
func (a adminFollows) resolveTarget(w http.ResponseWriter, r *http.Request, target string) (string, bool) {
	target = strings.TrimSpace(target)
	if absoluteHTTP(target) {
		return target, true
	}
	handle := strings.TrimPrefix(strings.TrimPrefix(target, "acct:"), "@")
	user, host, found := strings.Cut(handle, "@")
	if !found || user == "" || host == "" || strings.ContainsAny(host, "@/ ") {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "target must be an actor IRI or a handle user@host")
		return "", false
	}
	iri, err := a.resolver.ResolveHandle(r.Context(), handle)
	if err != nil || !absoluteHTTP(iri) {
		if r.Context().Err() == nil {
			WriteError(w, r, http.StatusUnprocessableEntity, CodeUnresolvable, "the handle could not be resolved")
		}
		return "", false
	}
	return iri, true
}

func absoluteHTTP(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(s) > len("https://") &&
		!strings.ContainsAny(s, " \t\r\n")
}

func writeFollowResult(w http.ResponseWriter, status int, res app.FollowResult) {
	WriteJSON(w, status, FollowWriteResponse{Follower: res.State.FollowerIRI, Followee: res.State.FolloweeIRI,
		State: string(res.State.Status), Changed: res.Changed, Position: res.Position})
}

// writeFollowError maps the follow commands' errors to responses.
func writeFollowError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, app.ErrActorNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such actor")
	case errors.Is(err, app.ErrActorDeleted):
		WriteError(w, r, http.StatusGone, CodeGone, "the actor has been deleted")
	case errors.Is(err, app.ErrFollowNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such follow relationship")
	case errors.Is(err, app.ErrFollowNotPending):
		WriteError(w, r, http.StatusConflict, CodeNotPending, "the follow request is not pending")
	case errors.Is(err, app.ErrFollowForbidden):
		WriteError(w, r, http.StatusForbidden, CodeForbidden, "not allowed on this relationship")
	case errors.Is(err, app.ErrFollowInvalid):
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, err.Error())
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, "conflict", "concurrent modification, try again")
	case r.Context().Err() != nil:
		// The client has gone.
	default:
		slog.Default().ErrorContext(r.Context(), "admin follows", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the command failed")
	}
}
