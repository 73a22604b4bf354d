package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/projections/communities"
)

// CommunitiesPath is where the community routes live (Hanse's native
// JSON API).
const CommunitiesPath = "/api/hanse/v1/communities"

// CommunityCommands is what the community routes need of the application
// (app.Communities implements it).
type CommunityCommands interface {
	Create(ctx context.Context, cmd app.CreateCommunity) (string, events.Position, error)
	Update(ctx context.Context, id string, upd community.Updated, by app.Acting) (events.Position, error)
	Join(ctx context.Context, communityID, member string) (app.MembershipState, events.Position, error)
	Leave(ctx context.Context, communityID, member string) (events.Position, error)
	Approve(ctx context.Context, communityID, member string, by app.Acting) (events.Position, error)
	Reject(ctx context.Context, communityID, member string, by app.Acting) (events.Position, error)
	Invite(ctx context.Context, communityID, member string, by app.Acting) (events.Position, error)
	Remove(ctx context.Context, communityID, member string, by app.Acting, reason string) (events.Position, error)
	Ban(ctx context.Context, communityID, member string, by app.Acting, reason string) (events.Position, error)
	Unban(ctx context.Context, communityID, member string, by app.Acting) (events.Position, error)
	ChangeRole(ctx context.Context, communityID, member string, role community.Role, by app.Acting) (events.Position, error)
	// MembershipOf is the authoritative membership (from the event
	// store), used to decide who may read what.
	MembershipOf(ctx context.Context, communityID, member string) (community.Membership, error)
}

// Error codes of the community routes.
const (
	CodeCommunityNotMember      = "not_member"
	CodeCommunityNotInvited     = "not_invited"
	CodeCommunityBanned         = "banned"
	CodeCommunityNotFacilitator = "not_facilitator"
	CodeCommunityNotOwner       = "not_owner"
	CodeCommunityForbiddenRole  = "forbidden_role"
	CodeCommunityAlreadyMember  = "already_member"
	CodeCommunityNotRequested   = "not_requested"
	CodeCommunityNotBanned      = "not_banned"
	CodeCommunityOwnerLeave     = "owner_cannot_leave"
	CodeCommunitySelf           = "not_on_yourself"
)

// CommunityJSON is a community as the API shows it.
type CommunityJSON struct {
	ID          string              `json:"id"`
	Username    string              `json:"username"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Topics      []string            `json:"topics"`
	Languages   []string            `json:"languages"`
	Location    *community.Location `json:"location,omitempty"`
	Policy      string              `json:"policy"`
	Visibility  string              `json:"visibility"`
	MemberCount int                 `json:"member_count"`
	CreatedAt   time.Time           `json:"created_at"`
	// Membership is the signed-in caller's own membership (GET of one
	// community only).
	Membership *CommunityMembershipJSON `json:"membership,omitempty"`
}

// CommunityMembershipJSON is a person's membership.
type CommunityMembershipJSON struct {
	State string `json:"state"`
	Role  string `json:"role,omitempty"`
}

// CommunityListJSON is a page of communities.
type CommunityListJSON struct {
	Items []CommunityJSON `json:"items"`
	// Next is the cursor of the next page (pass it as ?cursor=), absent
	// on the last one.
	Next string `json:"next,omitempty"`
}

// CommunityMemberJSON is one member row.
type CommunityMemberJSON struct {
	Member string    `json:"member"`
	Role   string    `json:"role,omitempty"`
	State  string    `json:"state"`
	Since  time.Time `json:"since"`
}

// CommunityMemberListJSON is a page of members.
type CommunityMemberListJSON struct {
	Items []CommunityMemberJSON `json:"items"`
	Next  string                `json:"next,omitempty"`
}

// CommunityAuditEntryJSON is one audit feed entry.
type CommunityAuditEntryJSON struct {
	Position events.Position `json:"position"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	Member   string          `json:"member,omitempty"`
	Detail   json.RawMessage `json:"detail"`
	At       time.Time       `json:"at"`
}

// CommunityAuditListJSON is a page of the audit feed.
type CommunityAuditListJSON struct {
	Items []CommunityAuditEntryJSON `json:"items"`
	Next  string                    `json:"next,omitempty"`
}

// CreateCommunityRequest is the body of POST /communities.
type CreateCommunityRequest struct {
	Username    string              `json:"username"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Topics      []string            `json:"topics,omitempty"`
	Languages   []string            `json:"languages,omitempty"`
	Location    *community.Location `json:"location,omitempty"`
	// Policy is open (default), approval or invite.
	Policy string `json:"policy,omitempty"`
	// Visibility is public (default) or members.
	Visibility string `json:"visibility,omitempty"`
}

// UpdateCommunityRequest is the body of PATCH /communities/{id}: absent
// fields stay; "location": null removes the location.
type UpdateCommunityRequest struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Topics      *[]string       `json:"topics,omitempty"`
	Languages   *[]string       `json:"languages,omitempty"`
	Location    json.RawMessage `json:"location,omitempty"`
	Policy      *string         `json:"policy,omitempty"`
	Visibility  *string         `json:"visibility,omitempty"`
}

// CommunityWriteJSON answers a community command with the write's
// position (for read-your-writes: pass it as Hanse-Min-Position).
type CommunityWriteJSON struct {
	ID       string          `json:"id,omitempty"`
	Username string          `json:"username,omitempty"`
	Member   string          `json:"member,omitempty"`
	State    string          `json:"state,omitempty"`
	Role     string          `json:"role,omitempty"`
	Position events.Position `json:"position"`
}

// CommunityReasonRequest is the optional body of remove and ban.
type CommunityReasonRequest struct {
	Reason string `json:"reason,omitempty"`
}

// CommunityRoleRequest is the body of PUT …/members/{member}/role.
type CommunityRoleRequest struct {
	Role string `json:"role"`
}

// CommunityInvitationRequest is the body of POST …/invitations.
type CommunityInvitationRequest struct {
	// Member is a local account id or a remote actor IRI.
	Member string `json:"member"`
}

// CommunityRoutes mounts the community API under CommunitiesPath:
//
//	GET    /communities                         directory of public communities (?topic, language, country, q, order=name|newest, cursor, limit); no sign-in needed
//	POST   /communities                         create (scope write; facilitators and admins) → 201
//	GET    /communities/{id}                    one community, by id or username (members-only ones: members, invitees and admins; 404 otherwise)
//	PATCH  /communities/{id}                    change (scope write; owners and admins)
//	GET    /communities/{id}/members            members (scope read; ?state, role, cursor, limit; other states than member: facilitators)
//	POST   /communities/{id}/members            join yourself (scope write or follow) → state member or requested
//	DELETE /communities/{id}/members/me         leave
//	POST   /communities/{id}/members/{member}/approve|reject|remove|ban|unban   (scope write; facilitators)
//	PUT    /communities/{id}/members/{member}/role                            (scope write; owners)
//	POST   /communities/{id}/invitations        invite {"member"} (scope write; facilitators) → 201
//	GET    /communities/{id}/audit              audit feed (scope read; facilitators, owners, admins)
//
// A {member} that is a remote actor IRI is sent percent-encoded; "me" is
// the caller. reads wraps the GET handlers (httpapi.AwaitPosition on the
// communities projection for read-your-writes); nil means none.
func CommunityRoutes(cmds CommunityCommands, reader communities.Reader, reads func(http.Handler) http.Handler) func(chi.Router) {
	if reads == nil {
		reads = func(h http.Handler) http.Handler { return h }
	}
	h := communityHandlers{cmds: cmds, q: reader}
	get := func(f http.HandlerFunc) http.Handler { return reads(f) }
	write := requireCommunityScope("write")
	join := requireCommunityScope("write", "follow")
	read := requireCommunityScope("read")
	return func(r chi.Router) {
		r.Route(CommunitiesPath, func(r chi.Router) {
			r.Method(http.MethodGet, "/", get(h.list))
			r.With(write).Post("/", h.create)
			r.Method(http.MethodGet, "/{id}", get(h.get))
			r.With(write).Patch("/{id}", h.update)
			r.With(read).Method(http.MethodGet, "/{id}/members", get(h.members))
			r.With(join).Post("/{id}/members", h.join)
			r.With(join).Delete("/{id}/members/me", h.leave)
			r.With(write).Post("/{id}/members/{member}/approve", h.moderate(CommunityCommands.Approve))
			r.With(write).Post("/{id}/members/{member}/reject", h.moderate(CommunityCommands.Reject))
			r.With(write).Post("/{id}/members/{member}/unban", h.moderate(CommunityCommands.Unban))
			r.With(write).Post("/{id}/members/{member}/remove", h.withReason(CommunityCommands.Remove))
			r.With(write).Post("/{id}/members/{member}/ban", h.withReason(CommunityCommands.Ban))
			r.With(write).Put("/{id}/members/{member}/role", h.changeRole)
			r.With(write).Post("/{id}/invitations", h.invite)
			r.With(read).Method(http.MethodGet, "/{id}/audit", get(h.audit))
		})
	}
}

// requireCommunityScope lets a request through when it acts for an
// account and its token grants one of scopes (RequireScope's 401/403
// otherwise).
func requireCommunityScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			if p.AccountID == "" {
				WriteError(w, r, http.StatusForbidden, CodeForbidden, "this method needs a token that acts for an account")
				return
			}
			for _, s := range scopes {
				if p.HasScope(s) {
					next.ServeHTTP(w, r)
					return
				}
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="hanse", error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
			WriteError(w, r, http.StatusForbidden, CodeInsufficientScope, "the token lacks the scope "+strings.Join(scopes, " or "))
		})
		return RequireScope("")(inner)
	}
}

// communityActing is who a signed-in principal acts as: institution and
// instance admins moderate every community.
func communityActing(p Principal) app.Acting {
	return app.Acting{ID: p.AccountID, Admin: p.Role == account.InstitutionAdmin || p.Role == account.InstanceAdmin}
}

type communityHandlers struct {
	cmds CommunityCommands
	q    communities.Reader
}

func communityJSON(c communities.Community) CommunityJSON {
	topics, languages := c.Topics, c.Languages
	if topics == nil {
		topics = []string{}
	}
	if languages == nil {
		languages = []string{}
	}
	return CommunityJSON{ID: c.ID, Username: c.Username, Name: c.Name, Description: c.Description, Topics: topics,
		Languages: languages, Location: c.Location, Policy: string(c.Policy), Visibility: string(c.Visibility),
		MemberCount: c.MemberCount, CreatedAt: c.CreatedAt}
}

// communityPage reads ?cursor and ?limit (1..communities.MaxPageSize).
func communityPage(w http.ResponseWriter, r *http.Request) (cursor string, limit int, ok bool) {
	q := r.URL.Query()
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > communities.MaxPageSize {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "limit must be a number from 1 to "+strconv.Itoa(communities.MaxPageSize))
			return "", 0, false
		}
		limit = n
	}
	return q.Get("cursor"), limit, true
}

func (h communityHandlers) list(w http.ResponseWriter, r *http.Request) {
	cursor, limit, ok := communityPage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	order := communities.Order(q.Get("order"))
	if order != "" && order != communities.ByName && order != communities.Newest {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "order must be name or newest")
		return
	}
	page, err := h.q.List(r.Context(), communities.Filter{Topic: q.Get("topic"), Language: q.Get("language"),
		Country: q.Get("country"), Query: q.Get("q"), Order: order, Cursor: cursor, Limit: limit})
	if err != nil {
		writeCommunityReadError(w, r, err)
		return
	}
	out := CommunityListJSON{Items: []CommunityJSON{}, Next: page.Next}
	for _, c := range page.Items {
		out.Items = append(out.Items, communityJSON(c))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h communityHandlers) create(w http.ResponseWriter, r *http.Request) {
	var req CreateCommunityRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	policy, visibility := community.Policy(req.Policy), community.Visibility(req.Visibility)
	if policy == "" {
		policy = community.Open
	}
	if visibility == "" {
		visibility = community.Public
	}
	id, pos, err := h.cmds.Create(r.Context(), app.CreateCommunity{Username: req.Username, Name: req.Name,
		Description: req.Description, Topics: req.Topics, Languages: req.Languages, Location: req.Location,
		Policy: policy, Visibility: visibility, Owner: communityActing(p), OwnerRole: p.Role})
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, CommunityWriteJSON{ID: id, Username: strings.ToLower(strings.TrimSpace(req.Username)), Position: pos})
}

// visible loads community {id} (or a username) and decides whether the
// caller may see it: public ones everybody, members-only ones their
// members, invitees and admins (404 for everyone else, as if it did not
// exist). It writes the error response and returns false otherwise.
func (h communityHandlers) visible(w http.ResponseWriter, r *http.Request) (communities.Community, *community.Membership, bool) {
	id := chi.URLParam(r, "id")
	c, err := h.q.Get(r.Context(), id)
	if errors.Is(err, communities.ErrNotFound) {
		c, err = h.q.GetByUsername(r.Context(), id)
	}
	if err != nil {
		writeCommunityReadError(w, r, err)
		return communities.Community{}, nil, false
	}
	p, signedIn := PrincipalFrom(r.Context())
	var own *community.Membership
	if signedIn && p.AccountID != "" {
		m, err := h.cmds.MembershipOf(r.Context(), c.ID, p.AccountID)
		if err != nil {
			WriteCommunityError(w, r, err)
			return communities.Community{}, nil, false
		}
		own = &m
	}
	if c.Visibility == community.Members && !communityActing(p).Admin &&
		(own == nil || own.Status() != community.StateMember && own.Status() != community.StateInvited) {
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such community")
		return communities.Community{}, nil, false
	}
	return c, own, true
}

func (h communityHandlers) get(w http.ResponseWriter, r *http.Request) {
	c, own, ok := h.visible(w, r)
	if !ok {
		return
	}
	out := communityJSON(c)
	if own != nil {
		out.Membership = &CommunityMembershipJSON{State: string(own.Status()), Role: string(own.Role)}
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h communityHandlers) update(w http.ResponseWriter, r *http.Request) {
	var req UpdateCommunityRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	upd := community.Updated{Name: req.Name, Description: req.Description, Topics: req.Topics, Languages: req.Languages}
	if req.Policy != nil {
		p := community.Policy(*req.Policy)
		upd.Policy = &p
	}
	if req.Visibility != nil {
		v := community.Visibility(*req.Visibility)
		upd.Visibility = &v
	}
	if len(req.Location) > 0 {
		upd.Location = &community.Location{}
		if !bytes.Equal(bytes.TrimSpace(req.Location), []byte("null")) {
			dec := json.NewDecoder(bytes.NewReader(req.Location))
			dec.DisallowUnknownFields()
			if err := dec.Decode(upd.Location); err != nil {
				WriteValidationError(w, r, "location", "must be an object with city, country, latitude and longitude, or null")
				return
			}
		}
	}
	p, _ := PrincipalFrom(r.Context())
	id := chi.URLParam(r, "id")
	pos, err := h.cmds.Update(r.Context(), id, upd, communityActing(p))
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, CommunityWriteJSON{ID: id, Position: pos})
}

func (h communityHandlers) members(w http.ResponseWriter, r *http.Request) {
	c, own, ok := h.visible(w, r)
	if !ok {
		return
	}
	cursor, limit, ok := communityPage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	state := community.MembershipState(q.Get("state"))
	switch {
	case state == "":
		state = community.StateMember
	case state == "all":
		state = ""
	case !community.ValidMembershipState(state) || state == community.StateNone:
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "state must be one of requested, invited, member, rejected, left, removed, banned or all")
		return
	}
	role := community.Role(q.Get("role"))
	if role != "" && !community.ValidRole(role) {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "role must be member, facilitator or owner")
		return
	}
	p, _ := PrincipalFrom(r.Context())
	if state != community.StateMember && community.AuthorityOf(communityOwn(own), communityActing(p).Admin) < community.AsFacilitator {
		WriteError(w, r, http.StatusForbidden, CodeCommunityNotFacilitator, "only the community's facilitators see members in other states")
		return
	}
	page, err := h.q.Members(r.Context(), c.ID, communities.MemberQuery{State: state, Role: role, Cursor: cursor, Limit: limit})
	if err != nil {
		writeCommunityReadError(w, r, err)
		return
	}
	out := CommunityMemberListJSON{Items: []CommunityMemberJSON{}, Next: page.Next}
	for _, m := range page.Items {
		out.Items = append(out.Items, CommunityMemberJSON{Member: m.Member, Role: string(m.Role), State: string(m.State), Since: m.Since})
	}
	WriteJSON(w, http.StatusOK, out)
}

func communityOwn(m *community.Membership) community.Membership {
	if m == nil {
		return community.Membership{}
	}
	return *m
}

func (h communityHandlers) audit(w http.ResponseWriter, r *http.Request) {
	c, own, ok := h.visible(w, r)
	if !ok {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	if community.AuthorityOf(communityOwn(own), communityActing(p).Admin) < community.AsFacilitator {
		WriteError(w, r, http.StatusForbidden, CodeCommunityNotFacilitator, "only the community's facilitators and owners see its audit feed")
		return
	}
	cursor, limit, ok := communityPage(w, r)
	if !ok {
		return
	}
	page, err := h.q.Audit(r.Context(), c.ID, cursor, limit)
	if err != nil {
		writeCommunityReadError(w, r, err)
		return
	}
	out := CommunityAuditListJSON{Items: []CommunityAuditEntryJSON{}, Next: page.Next}
	for _, a := range page.Items {
		out.Items = append(out.Items, CommunityAuditEntryJSON{Position: a.Position, Type: a.Type, Actor: a.Actor, Member: a.Member,
			Detail: a.Detail, At: a.At})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h communityHandlers) join(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	state, pos, err := h.cmds.Join(r.Context(), chi.URLParam(r, "id"), p.AccountID)
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, CommunityWriteJSON{Member: p.AccountID, State: string(state), Position: pos})
}

func (h communityHandlers) leave(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	pos, err := h.cmds.Leave(r.Context(), chi.URLParam(r, "id"), p.AccountID)
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, CommunityWriteJSON{Member: p.AccountID, State: string(community.StateLeft), Position: pos})
}

// communityMemberParam is the {member} path parameter: "me" is the caller; an
// IRI arrives percent-encoded.
func communityMemberParam(r *http.Request) (string, bool) {
	m := chi.URLParam(r, "member")
	if r.URL.RawPath != "" {
		u, err := url.PathUnescape(m)
		if err != nil {
			return "", false
		}
		m = u
	}
	if m == "me" {
		p, _ := PrincipalFrom(r.Context())
		m = p.AccountID
	}
	return m, m != ""
}

func (h communityHandlers) moderate(cmd func(CommunityCommands, context.Context, string, string, app.Acting) (events.Position, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		member, ok := communityMemberParam(r)
		if !ok {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid member in the path")
			return
		}
		p, _ := PrincipalFrom(r.Context())
		pos, err := cmd(h.cmds, r.Context(), chi.URLParam(r, "id"), member, communityActing(p))
		if err != nil {
			WriteCommunityError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, CommunityWriteJSON{Member: member, Position: pos})
	}
}

func (h communityHandlers) withReason(cmd func(CommunityCommands, context.Context, string, string, app.Acting, string) (events.Position, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		member, ok := communityMemberParam(r)
		if !ok {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid member in the path")
			return
		}
		var req CommunityReasonRequest
		if r.ContentLength != 0 && !ReadJSON(w, r, &req) {
			return
		}
		p, _ := PrincipalFrom(r.Context())
		pos, err := cmd(h.cmds, r.Context(), chi.URLParam(r, "id"), member, communityActing(p), req.Reason)
		if err != nil {
			WriteCommunityError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, CommunityWriteJSON{Member: member, Position: pos})
	}
}

func (h communityHandlers) changeRole(w http.ResponseWriter, r *http.Request) {
	member, ok := communityMemberParam(r)
	if !ok {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid member in the path")
		return
	}
	var req CommunityRoleRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	pos, err := h.cmds.ChangeRole(r.Context(), chi.URLParam(r, "id"), member, community.Role(req.Role), communityActing(p))
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, CommunityWriteJSON{Member: member, Role: req.Role, Position: pos})
}

func (h communityHandlers) invite(w http.ResponseWriter, r *http.Request) {
	var req CommunityInvitationRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if req.Member == "" {
		WriteValidationError(w, r, "member", "must not be empty")
		return
	}
	p, _ := PrincipalFrom(r.Context())
	pos, err := h.cmds.Invite(r.Context(), chi.URLParam(r, "id"), req.Member, communityActing(p))
	if err != nil {
		WriteCommunityError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, CommunityWriteJSON{Member: req.Member, Position: pos})
}

// writeCommunityReadError maps the read model's errors.
func writeCommunityReadError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, communities.ErrNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such community")
	case errors.Is(err, communities.ErrBadCursor):
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid cursor")
	default:
		WriteCommunityError(w, r, err)
	}
}

// WriteCommunityError maps the community commands' errors (and the shared
// ones of app/contracts.go) to responses: validation 422, unknown
// community 404, refusals 403 with distinct codes, state conflicts 409.
func WriteCommunityError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *app.ValidationError
	type answer struct {
		status        int
		code, message string
	}
	var a answer
	switch {
	case errors.As(err, &ve):
		WriteValidationError(w, r, ve.Field, ve.Reason)
		return
	case errors.Is(err, app.ErrCommunityNotFound):
		a = answer{http.StatusNotFound, CodeNotFound, "no such community"}
	case errors.Is(err, app.ErrNotInvited):
		a = answer{http.StatusForbidden, CodeCommunityNotInvited, "the community is invite-only and you are not invited"}
	case errors.Is(err, app.ErrBanned):
		a = answer{http.StatusForbidden, CodeCommunityBanned, "banned from the community"}
	case errors.Is(err, app.ErrNotMember):
		a = answer{http.StatusForbidden, CodeCommunityNotMember, "not a member of the community"}
	case errors.Is(err, app.ErrNotFacilitator):
		a = answer{http.StatusForbidden, CodeCommunityNotFacilitator, "only the community's facilitators may do this"}
	case errors.Is(err, app.ErrNotOwner):
		a = answer{http.StatusForbidden, CodeCommunityNotOwner, "only the community's owners may do this"}
	case errors.Is(err, app.ErrForbiddenRole):
		a = answer{http.StatusForbidden, CodeCommunityForbiddenRole, "your role may not create communities"}
	case errors.Is(err, app.ErrUsernameTaken):
		a = answer{http.StatusConflict, CodeUsernameTaken, "the username is taken"}
	case errors.Is(err, app.ErrAlreadyMember):
		a = answer{http.StatusConflict, CodeCommunityAlreadyMember, "already a member of the community"}
	case errors.Is(err, app.ErrNotRequested):
		a = answer{http.StatusConflict, CodeCommunityNotRequested, "no pending join request"}
	case errors.Is(err, app.ErrNotBanned):
		a = answer{http.StatusConflict, CodeCommunityNotBanned, "not banned from the community"}
	case errors.Is(err, app.ErrOwnerCannotLeave):
		a = answer{http.StatusConflict, CodeCommunityOwnerLeave, "an owner cannot leave; another owner must change your role first"}
	case errors.Is(err, app.ErrMembershipSelf):
		a = answer{http.StatusConflict, CodeCommunitySelf, "you cannot do this to yourself"}
	case errors.Is(err, app.ErrConflict):
		a = answer{http.StatusConflict, CodeConflict, "the community changed meanwhile; try again"}
	case r.Context().Err() != nil:
		return // the client has gone
	default:
		slog.Default().ErrorContext(r.Context(), "communities", "err", err, "request_id", RequestID(r.Context()))
		a = answer{http.StatusInternalServerError, CodeInternal, "the command failed"}
	}
	WriteError(w, r, a.status, a.code, a.message)
}
