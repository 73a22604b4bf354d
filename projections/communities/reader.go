package communities

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/projections"
)

// Page sizes of the Reader's lists: a limit of 0 or less means
// DefaultPageSize, more than MaxPageSize means MaxPageSize.
const (
	DefaultPageSize = 20
	MaxPageSize     = 200
)

// MaxMemberships caps MembershipsOf.
const MaxMemberships = 1000

// Errors of the Reader.
var (
	// ErrNotFound: no community has that id or username.
	ErrNotFound = errors.New("communities: not found")
	// ErrBadCursor: a cursor the Reader did not issue (or one of another
	// order).
	ErrBadCursor = errors.New("communities: invalid cursor")
)

// Community is one community as the directory shows it.
type Community struct {
	ID          string
	Username    string
	Name        string
	Description string
	Topics      []string
	Languages   []string
	// Location is nil when the community gave none.
	Location    *community.Location
	Policy      community.Policy
	Visibility  community.Visibility
	MemberCount int
	CreatedAt   time.Time
	// Position is the log position of community.created.
	Position events.Position
}

// Order is the order of a directory listing.
type Order string

// The orders of List.
const (
	// ByName: by name (case-insensitively), then id. The default.
	ByName Order = "name"
	// Newest: most recently created first.
	Newest Order = "newest"
)

// Filter selects and pages communities for List. Empty fields do not
// filter.
type Filter struct {
	// Topic is a hashtag (with or without '#', any case).
	Topic string
	// Language is a BCP 47 tag; "de" also matches "de-AT".
	Language string
	// Country is an ISO 3166-1 alpha-2 code (any case).
	Country string
	// Query is text searched (case-insensitively) in username, name,
	// description and topics.
	Query string
	// IncludeMembersOnly lists members-only communities too (for admins);
	// otherwise only public ones.
	IncludeMembersOnly bool
	Order              Order
	// Cursor is Page.Next of the previous page ("" for the first).
	Cursor string
	Limit  int
}

// Page is one page of a listing.
type Page struct {
	Items []Community
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// Member is one person's membership in a community.
type Member struct {
	CommunityID string
	// Member is a local account id or a remote actor IRI.
	Member string
	// Role is set while State is member.
	Role  community.Role
	State community.MembershipState
	// Since is when the membership reached its state.
	Since time.Time
}

// MemberQuery selects and pages a community's members.
type MemberQuery struct {
	// State filters by state ("" for every state).
	State community.MembershipState
	// Role filters by role ("" for every role).
	Role   community.Role
	Cursor string
	Limit  int
}

// MemberPage is one page of members, ordered by member.
type MemberPage struct {
	Items []Member
	Next  string
}

// AuditEntry is one moderation or membership decision in a community.
type AuditEntry struct {
	CommunityID string
	// Position of the event in the log; the feed is newest first.
	Position events.Position
	// Type is the event type ("community.member_banned", "post.removed", …).
	Type string
	// Actor decided; Member (a person, or a post's author) was concerned.
	// Either is Erased for an erased account.
	Actor  string
	Member string
	// Detail holds the decision's details as JSON ("role", "reason",
	// "postId", or the changed fields of community.updated).
	Detail json.RawMessage
	At     time.Time
}

// AuditPage is one page of an audit feed.
type AuditPage struct {
	Items []AuditEntry
	Next  string
}

// Reader is the read-only query interface of the communities read model.
type Reader interface {
	// Get returns a community by id; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Community, error)
	// GetByUsername returns a community by username (any case).
	GetByUsername(ctx context.Context, username string) (Community, error)
	// List pages the directory.
	List(ctx context.Context, f Filter) (Page, error)
	// Members pages a community's members, ordered by member.
	Members(ctx context.Context, communityID string, q MemberQuery) (MemberPage, error)
	// MembershipsOf lists member's memberships in state (every state when
	// ""), ordered by community id, at most MaxMemberships.
	MembershipsOf(ctx context.Context, member string, state community.MembershipState) ([]Member, error)
	// Audit pages a community's audit feed, newest first.
	Audit(ctx context.Context, communityID, cursor string, limit int) (AuditPage, error)
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

const communityColumns = `c.id, c.username, c.name, c.sort_name, c.description, c.topics, c.languages, c.city, c.country,
	c.lat, c.lon, c.policy, c.visibility, c.member_count, c.created_at, c.position`

func scanCommunity(sc interface{ Scan(...any) error }) (Community, string, error) {
	var (
		c                           Community
		sortName, topics, languages string
		city, country               string
		lat, lon                    sql.NullFloat64
		policy, visibility, created string
		pos                         int64
	)
	if err := sc.Scan(&c.ID, &c.Username, &c.Name, &sortName, &c.Description, &topics, &languages, &city, &country,
		&lat, &lon, &policy, &visibility, &c.MemberCount, &created, &pos); err != nil {
		return Community{}, "", err
	}
	if err := json.Unmarshal([]byte(topics), &c.Topics); err != nil {
		return Community{}, "", err
	}
	if err := json.Unmarshal([]byte(languages), &c.Languages); err != nil {
		return Community{}, "", err
	}
	if city != "" || country != "" || lat.Valid {
		c.Location = &community.Location{City: city, Country: country}
		if lat.Valid && lon.Valid {
			la, lo := lat.Float64, lon.Float64
			c.Location.Latitude, c.Location.Longitude = &la, &lo
		}
	}
	c.Policy, c.Visibility, c.Position = community.Policy(policy), community.Visibility(visibility), events.Position(pos)
	var err error
	if c.CreatedAt, err = projections.ParseTime(created); err != nil {
		return Community{}, "", err
	}
	return c, sortName, nil
}

func (r *reader) one(ctx context.Context, column, value string) (Community, error) {
	var out Community
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, _, err = scanCommunity(tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s c WHERE c.%s = ? ORDER BY c.position LIMIT 1`,
			communityColumns, t.Name("communities"), column), value))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNotFound, value)
		}
		return err
	})
	return out, err
}

func (r *reader) Get(ctx context.Context, id string) (Community, error) { return r.one(ctx, "id", id) }

func (r *reader) GetByUsername(ctx context.Context, username string) (Community, error) {
	return r.one(ctx, "username", strings.ToLower(username))
}

// nameCursor is the position of the last item of a page by name.
type nameCursor struct {
	SortName string `json:"n"`
	ID       string `json:"i"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(b, v) != nil {
		return fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return nil
}

func parsePosition(c string) (int64, error) {
	v, err := strconv.ParseInt(c, 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != c {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return v, nil
}

func (r *reader) List(ctx context.Context, f Filter) (Page, error) {
	limit := pageSize(f.Limit)
	var (
		where []string
		args  []any
	)
	if !f.IncludeMembersOnly {
		where = append(where, `c.visibility = 'public'`)
	}
	if topic := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(f.Topic), "#")); topic != "" {
		where = append(where, `EXISTS (SELECT 1 FROM %[2]s g WHERE g.kind = 'topic' AND g.value = ? AND g.community_id = c.id)`)
		args = append(args, topic)
	}
	if lang := strings.TrimSpace(f.Language); lang != "" {
		lang = community.CanonicalLanguage(lang)
		where = append(where, `EXISTS (SELECT 1 FROM %[2]s g WHERE g.kind = 'language' AND g.community_id = c.id
			AND (g.value = ? OR substr(g.value, 1, ?) = ?))`)
		args = append(args, lang, len(lang)+1, lang+"-")
	}
	if country := strings.ToUpper(strings.TrimSpace(f.Country)); country != "" {
		where = append(where, `c.country = ?`)
		args = append(args, country)
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		where = append(where, `instr(c.search, ?) > 0`)
		args = append(args, q)
	}
	order := `c.sort_name, c.id`
	switch f.Order {
	case "", ByName:
		if f.Cursor != "" {
			var cur nameCursor
			if err := decodeCursor(f.Cursor, &cur); err != nil {
				return Page{}, err
			}
			where = append(where, `(c.sort_name > ? OR (c.sort_name = ? AND c.id > ?))`)
			args = append(args, cur.SortName, cur.SortName, cur.ID)
		}
	case Newest:
		order = `c.position DESC`
		if f.Cursor != "" {
			before, err := parsePosition(f.Cursor)
			if err != nil {
				return Page{}, err
			}
			where = append(where, `c.position < ?`)
			args = append(args, before)
		}
	default:
		return Page{}, fmt.Errorf("communities: unknown order %q", f.Order)
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	var page Page
	var lastSort string
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		q := fmt.Sprintf(`SELECT `+communityColumns+` FROM %[1]s c `+cond+` ORDER BY `+order+` LIMIT ?`,
			t.Name("communities"), t.Name("tags"))
		rows, err := tx.QueryContext(ctx, q, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, sortName, err := scanCommunity(rows)
			if err != nil {
				return err
			}
			if len(page.Items) < limit {
				page.Items, lastSort = append(page.Items, c), sortName
			} else {
				page.Next = "more"
			}
		}
		return rows.Err()
	})
	if err != nil {
		return Page{}, err
	}
	if page.Next != "" {
		last := page.Items[len(page.Items)-1]
		if f.Order == Newest {
			page.Next = strconv.FormatInt(int64(last.Position), 10)
		} else {
			page.Next = encodeCursor(nameCursor{SortName: lastSort, ID: last.ID})
		}
	}
	return page, nil
}

func scanMember(sc interface{ Scan(...any) error }) (Member, error) {
	var (
		m                  Member
		role, state, since string
	)
	if err := sc.Scan(&m.CommunityID, &m.Member, &role, &state, &since); err != nil {
		return Member{}, err
	}
	m.Role, m.State = community.Role(role), community.MembershipState(state)
	var err error
	m.Since, err = projections.ParseTime(since)
	return m, err
}

func (r *reader) Members(ctx context.Context, communityID string, q MemberQuery) (MemberPage, error) {
	limit := pageSize(q.Limit)
	where, args := []string{`community_id = ?`}, []any{communityID}
	if q.State != "" {
		where, args = append(where, `state = ?`), append(args, string(q.State))
	}
	if q.Role != "" {
		where, args = append(where, `role = ?`), append(args, string(q.Role))
	}
	if q.Cursor != "" {
		var after string
		if err := decodeCursor(q.Cursor, &after); err != nil {
			return MemberPage{}, err
		}
		where, args = append(where, `member > ?`), append(args, after)
	}
	var page MemberPage
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		members, err := projections.QueryAll(ctx, tx, scanMember, fmt.Sprintf(`SELECT community_id, member, role, state, since FROM %s
			WHERE %s ORDER BY member LIMIT ?`, t.Name("members"), strings.Join(where, " AND ")), append(args, limit+1)...)
		page.Items = append(page.Items, members...)
		return err
	})
	if err != nil {
		return MemberPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = encodeCursor(page.Items[limit-1].Member)
	}
	return page, nil
}

func (r *reader) MembershipsOf(ctx context.Context, member string, state community.MembershipState) ([]Member, error) {
	where, args := `member = ?`, []any{member}
	if state != "" {
		where, args = where+` AND state = ?`, append(args, string(state))
	}
	var out []Member
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		members, err := projections.QueryAll(ctx, tx, scanMember, fmt.Sprintf(`SELECT community_id, member, role, state, since FROM %s
			WHERE %s ORDER BY community_id LIMIT ?`, t.Name("members"), where), append(args, MaxMemberships)...)
		out = append(out, members...)
		return err
	})
	return out, err
}

func (r *reader) Audit(ctx context.Context, communityID, cursor string, limit int) (AuditPage, error) {
	limit = pageSize(limit)
	where, args := `community_id = ?`, []any{communityID}
	if cursor != "" {
		before, err := parsePosition(cursor)
		if err != nil {
			return AuditPage{}, err
		}
		where, args = where+` AND position < ?`, append(args, before)
	}
	var page AuditPage
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT community_id, position, type, actor, member, detail, at FROM %s
			WHERE %s ORDER BY position DESC LIMIT ?`, t.Name("audit"), where), append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a     AuditEntry
				pos   int64
				d, at string
			)
			if err := rows.Scan(&a.CommunityID, &pos, &a.Type, &a.Actor, &a.Member, &d, &at); err != nil {
				return err
			}
			a.Position, a.Detail = events.Position(pos), json.RawMessage(d)
			if a.At, err = projections.ParseTime(at); err != nil {
				return err
			}
			page.Items = append(page.Items, a)
		}
		return rows.Err()
	})
	if err != nil {
		return AuditPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = strconv.FormatInt(int64(page.Items[limit-1].Position), 10)
	}
	return page, nil
}
