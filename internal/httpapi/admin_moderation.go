package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	domain "github.com/hanse-network/hanse/internal/domain/moderation"
	"github.com/hanse-network/hanse/projections/moderation"
)

// Paths of the moderation administration API (under AdminPrefix).
const (
	AdminDomainBlocksPath   = AdminPrefix + "/domain-blocks"
	AdminAllowlistModePath  = AdminPrefix + "/allowlist-mode"
	AdminAllowedDomainsPath = AdminPrefix + "/allowed-domains"
	AdminReportsPath        = AdminPrefix + "/reports"
)

// Error codes of the moderation administration API.
const (
	// CodeOwnDomain: a block would cover this instance's own domain (422).
	CodeOwnDomain = "own_domain"
)

// Paging of GET …/reports.
const (
	DefaultReportsLimit = 50
)

// ModerationCommands are the moderation commands the admin API calls
// (*app.Moderation implements them).
type ModerationCommands interface {
	BlockDomain(ctx context.Context, c app.BlockDomainCommand, by string) (app.DomainResult, error)
	UnblockDomain(ctx context.Context, domain, by string) (app.DomainResult, error)
	AllowDomain(ctx context.Context, domain, by string) (app.DomainResult, error)
	DisallowDomain(ctx context.Context, domain, by string) (app.DomainResult, error)
	SetAllowlistMode(ctx context.Context, enabled bool, by string) (app.ModerationResult, error)
	ResolveReport(ctx context.Context, id, note, by string) (app.ModerationResult, error)
}

// ModerationQueries are the moderation read model's queries the admin API
// serves (moderation.Reader implements them).
type ModerationQueries interface {
	AllowlistMode(ctx context.Context) (bool, error)
	DomainBlocks(ctx context.Context) ([]moderation.DomainBlock, error)
	AllowedDomains(ctx context.Context) ([]moderation.AllowedDomain, error)
	Reports(ctx context.Context, openOnly bool, cursor string, limit int) (moderation.ReportPage, error)
	Report(ctx context.Context, id string) (moderation.Report, error)
}

// DomainBlockRequest is the body of POST …/domain-blocks.
type DomainBlockRequest struct {
	Domain         string `json:"domain"`
	Severity       string `json:"severity"`
	PublicComment  string `json:"public_comment,omitempty"`
	PrivateComment string `json:"private_comment,omitempty"`
}

// DomainRequest is the body of DELETE …/domain-blocks and of POST and
// DELETE …/allowed-domains (DELETE also takes ?domain=).
type DomainRequest struct {
	Domain string `json:"domain"`
}

// AllowlistModeRequest is the body of PUT …/allowlist-mode.
type AllowlistModeRequest struct {
	Enabled *bool `json:"enabled"`
}

// ResolveReportRequest is the (optional) body of POST …/reports/{id}/resolve.
type ResolveReportRequest struct {
	Note string `json:"note,omitempty"`
}

// DomainBlockItem is one domain block.
type DomainBlockItem struct {
	Domain         string          `json:"domain"`
	Severity       string          `json:"severity"`
	PublicComment  string          `json:"public_comment"`
	PrivateComment string          `json:"private_comment"`
	BlockedAt      time.Time       `json:"blocked_at"`
	Position       events.Position `json:"position"`
}

// DomainBlocksResponse is the 200 body of GET …/domain-blocks.
type DomainBlocksResponse struct {
	Items []DomainBlockItem `json:"items"`
}

// AllowedDomainItem is one domain on the allow-list.
type AllowedDomainItem struct {
	Domain    string          `json:"domain"`
	AllowedAt time.Time       `json:"allowed_at"`
	Position  events.Position `json:"position"`
}

// AllowedDomainsResponse is the 200 body of GET …/allowed-domains.
type AllowedDomainsResponse struct {
	AllowlistMode bool                `json:"allowlist_mode"`
	Items         []AllowedDomainItem `json:"items"`
}

// ModerationWriteResponse is the body of the moderation write routes.
type ModerationWriteResponse struct {
	// Domain is the normalised domain (domain routes).
	Domain string `json:"domain,omitempty"`
	// Severity is the block's severity (POST …/domain-blocks).
	Severity string `json:"severity,omitempty"`
	// Enabled is the allow-list mode (PUT …/allowlist-mode).
	Enabled *bool `json:"enabled,omitempty"`
	// ReportID names the report (resolve).
	ReportID string `json:"report_id,omitempty"`
	// Changed is false when the command found nothing to do.
	Changed bool `json:"changed"`
	// Position is the write's global position (or of the stream's last
	// event when nothing changed), for Hanse-Min-Position.
	Position events.Position `json:"position"`
}

// AllowlistModeResponse is the 200 body of GET …/allowlist-mode.
type AllowlistModeResponse struct {
	Enabled bool `json:"enabled"`
}

// ReportItem is one report.
type ReportItem struct {
	ID             string          `json:"id"`
	Reporter       string          `json:"reporter"`
	Targets        []string        `json:"targets"`
	Content        string          `json:"content"`
	FlagActivityID string          `json:"flag_activity_id"`
	ReceivedAt     time.Time       `json:"received_at"`
	Resolved       bool            `json:"resolved"`
	ResolvedBy     string          `json:"resolved_by,omitempty"`
	Note           string          `json:"note,omitempty"`
	ResolvedAt     *time.Time      `json:"resolved_at,omitempty"`
	Position       events.Position `json:"position"`
}

// ReportsResponse is the 200 body of GET …/reports.
type ReportsResponse struct {
	Items []ReportItem `json:"items"`
	// Next is the cursor of the next page ("" on the last).
	Next string `json:"next,omitempty"`
}

// AdminModerationRoutes returns the moderation administration routes, to
// be added under AdminPrefix (Deps.Admin, behind the admin token):
//
//	GET    /domain-blocks                 list blocks (200)
//	POST   /domain-blocks                 {domain, severity: reject|silence, public_comment, private_comment} (201; 200 unchanged)
//	DELETE /domain-blocks[?domain=]       {domain} lift a block (200)
//	GET    /allowlist-mode                {enabled} (200)
//	PUT    /allowlist-mode                {enabled} (200)
//	GET    /allowed-domains               {allowlist_mode, items} (200)
//	POST   /allowed-domains               {domain} (201; 200 unchanged)
//	DELETE /allowed-domains[?domain=]     {domain} (200)
//	GET    /reports?state=open|all&cursor=&limit=   newest first (200)
//	GET    /reports/{id}                  one report (200)
//	POST   /reports/{id}/resolve          {note} (200)
//
// Writes answer the write's position; reads wrapped by await (e.g.
// AwaitPosition(runner, moderation.Name, 0); nil: none) honour
// Hanse-Min-Position. Errors: 400 malformed JSON, bad domain or severity,
// bad cursor or limit; 404 no such block, allowed domain or report; 409
// concurrent modification; 422 a block covering this instance's domain.
func AdminModerationRoutes(cmds ModerationCommands, q ModerationQueries, await func(http.Handler) http.Handler) func(chi.Router) {
	a := adminModeration{cmds: cmds, q: q}
	if await == nil {
		await = func(h http.Handler) http.Handler { return h }
	}
	get := func(h http.HandlerFunc) http.Handler { return await(h) }
	return func(r chi.Router) {
		r.Method(http.MethodGet, "/domain-blocks", get(a.domainBlocks))
		r.Post("/domain-blocks", a.block)
		r.Delete("/domain-blocks", a.domain(cmds.UnblockDomain, http.StatusOK))
		r.Method(http.MethodGet, "/allowlist-mode", get(a.allowlistMode))
		r.Put("/allowlist-mode", a.setAllowlistMode)
		r.Method(http.MethodGet, "/allowed-domains", get(a.allowedDomains))
		r.Post("/allowed-domains", a.domain(cmds.AllowDomain, http.StatusCreated))
		r.Delete("/allowed-domains", a.domain(cmds.DisallowDomain, http.StatusOK))
		r.Method(http.MethodGet, "/reports", get(a.reports))
		r.Method(http.MethodGet, "/reports/{id}", get(a.report))
		r.Post("/reports/{id}/resolve", a.resolve)
	}
}

type adminModeration struct {
	cmds ModerationCommands
	q    ModerationQueries
}

func (a adminModeration) domainBlocks(w http.ResponseWriter, r *http.Request) {
	blocks, err := a.q.DomainBlocks(r.Context())
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	out := DomainBlocksResponse{Items: []DomainBlockItem{}}
	for _, b := range blocks {
		out.Items = append(out.Items, DomainBlockItem{Domain: b.Domain, Severity: string(b.Severity), PublicComment: b.PublicComment,
			PrivateComment: b.PrivateComment, BlockedAt: b.BlockedAt, Position: b.Position})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a adminModeration) block(w http.ResponseWriter, r *http.Request) {
	var req DomainBlockRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if req.Domain == "" || req.Severity == "" {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "domain and severity (reject or silence) are required")
		return
	}
	res, err := a.cmds.BlockDomain(r.Context(), app.BlockDomainCommand{Domain: req.Domain, Severity: domain.Severity(req.Severity),
		PublicComment: req.PublicComment, PrivateComment: req.PrivateComment}, adminActorBy)
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	WriteJSON(w, status, ModerationWriteResponse{Domain: res.Domain, Severity: req.Severity, Changed: res.Changed, Position: res.Position})
}

type domainCommand func(ctx context.Context, domain, by string) (app.DomainResult, error)

// domain serves a route taking one domain (body, or ?domain= for DELETE);
// created is the status of a write that changed something.
func (a adminModeration) domain(cmd domainCommand, created int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req DomainRequest
		if d := r.URL.Query().Get("domain"); d != "" && r.Method == http.MethodDelete {
			req.Domain = d
		} else if !ReadJSON(w, r, &req) {
			return
		}
		if req.Domain == "" {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "domain is required")
			return
		}
		res, err := cmd(r.Context(), req.Domain, adminActorBy)
		if err != nil {
			writeModerationError(w, r, err)
			return
		}
		status := http.StatusOK
		if res.Changed {
			status = created
		}
		WriteJSON(w, status, ModerationWriteResponse{Domain: res.Domain, Changed: res.Changed, Position: res.Position})
	}
}

func (a adminModeration) allowlistMode(w http.ResponseWriter, r *http.Request) {
	on, err := a.q.AllowlistMode(r.Context())
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, AllowlistModeResponse{Enabled: on})
}

func (a adminModeration) setAllowlistMode(w http.ResponseWriter, r *http.Request) {
	var req AllowlistModeRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if req.Enabled == nil {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "enabled (true or false) is required")
		return
	}
	res, err := a.cmds.SetAllowlistMode(r.Context(), *req.Enabled, adminActorBy)
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ModerationWriteResponse{Enabled: req.Enabled, Changed: res.Changed, Position: res.Position})
}

func (a adminModeration) allowedDomains(w http.ResponseWriter, r *http.Request) {
	on, err := a.q.AllowlistMode(r.Context())
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	list, err := a.q.AllowedDomains(r.Context())
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	out := AllowedDomainsResponse{AllowlistMode: on, Items: []AllowedDomainItem{}}
	for _, d := range list {
		out.Items = append(out.Items, AllowedDomainItem{Domain: d.Domain, AllowedAt: d.AllowedAt, Position: d.Position})
	}
	WriteJSON(w, http.StatusOK, out)
}

func reportItem(rep moderation.Report) ReportItem {
	it := ReportItem{ID: rep.ID, Reporter: rep.ReporterIRI, Targets: rep.TargetIRIs, Content: rep.Content,
		FlagActivityID: rep.FlagActivityID, ReceivedAt: rep.ReceivedAt, Resolved: rep.Resolved, ResolvedBy: rep.ResolvedBy,
		Note: rep.Note, Position: rep.Position}
	if it.Targets == nil {
		it.Targets = []string{}
	}
	if !rep.ResolvedAt.IsZero() {
		at := rep.ResolvedAt
		it.ResolvedAt = &at
	}
	return it
}

func (a adminModeration) reports(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	openOnly := true
	switch qs.Get("state") {
	case "", "open":
	case "all":
		openOnly = false
	default:
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "state must be open or all")
		return
	}
	limit := DefaultReportsLimit
	if s := qs.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > moderation.MaxPageSize {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "limit must be 1.."+strconv.Itoa(moderation.MaxPageSize))
			return
		}
		limit = n
	}
	page, err := a.q.Reports(r.Context(), openOnly, qs.Get("cursor"), limit)
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	out := ReportsResponse{Items: []ReportItem{}, Next: page.Next}
	for _, rep := range page.Items {
		out.Items = append(out.Items, reportItem(rep))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a adminModeration) report(w http.ResponseWriter, r *http.Request) {
	rep, err := a.q.Report(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, reportItem(rep))
}

func (a adminModeration) resolve(w http.ResponseWriter, r *http.Request) {
	var req ResolveReportRequest
	if r.ContentLength != 0 && !ReadJSON(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	res, err := a.cmds.ResolveReport(r.Context(), id, req.Note, adminActorBy)
	if err != nil {
		writeModerationError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ModerationWriteResponse{ReportID: id, Changed: res.Changed, Position: res.Position})
}

// writeModerationError maps the moderation commands' and queries' errors
// to responses.
func writeModerationError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, app.ErrOwnDomain):
		WriteError(w, r, http.StatusUnprocessableEntity, CodeOwnDomain, err.Error())
	case errors.Is(err, app.ErrModerationInvalid):
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, err.Error())
	case errors.Is(err, app.ErrModerationNotFound), errors.Is(err, moderation.ErrNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "not found")
	case errors.Is(err, moderation.ErrBadCursor):
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid cursor")
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, "conflict", "concurrent modification, try again")
	case r.Context().Err() != nil:
		// The client has gone.
	default:
		slog.Default().ErrorContext(r.Context(), "admin moderation", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the request failed")
	}
}
