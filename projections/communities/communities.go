package communities

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name; Version the shape of its tables.
const (
	Name    = "communities"
	Version = 1
)

// Erased stands in for an erased account in members' and audit rows.
const Erased = "erased"

// Tag kinds in the tags table.
const (
	kindTopic    = "topic"
	kindLanguage = "language"
)

// Projector builds the communities read model.
type Projector struct{ reg *events.Registry }

var _ projections.Projector = (*Projector)(nil)

// New returns the communities projector.
func New() *Projector {
	reg := events.NewRegistry()
	community.Register(reg)
	post.Register(reg)
	account.Register(reg)
	return &Projector{reg: reg}
}

var handled = map[string]bool{
	community.TypeCreated: true, community.TypeUpdated: true,
	community.TypeJoinRequested: true, community.TypeMemberJoined: true, community.TypeJoinRejected: true,
	community.TypeMemberLeft: true, community.TypeMemberInvited: true, community.TypeMemberRemoved: true,
	community.TypeMemberBanned: true, community.TypeMemberUnbanned: true, community.TypeRoleChanged: true,
	post.TypePublished: true, post.TypeRemoved: true, post.TypeThreadLocked: true, post.TypeThreadUnlocked: true,
	post.TypePinned: true, post.TypeUnpinned: true,
	account.TypeErased: true,
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool { return handled[t] }

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id           TEXT    NOT NULL PRIMARY KEY,
			username     TEXT    NOT NULL,
			name         TEXT    NOT NULL,
			sort_name    TEXT    NOT NULL,
			description  TEXT    NOT NULL,
			topics       TEXT    NOT NULL,
			languages    TEXT    NOT NULL,
			city         TEXT    NOT NULL,
			country      TEXT    NOT NULL,
			lat          REAL,
			lon          REAL,
			policy       TEXT    NOT NULL,
			visibility   TEXT    NOT NULL,
			member_count INTEGER NOT NULL,
			created_at   TEXT    NOT NULL,
			position     INTEGER NOT NULL,
			search       TEXT    NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (username);
		CREATE INDEX %[3]s ON %[1]s (sort_name, id);
		CREATE INDEX %[4]s ON %[1]s (position);
		CREATE TABLE %[5]s (
			kind         TEXT NOT NULL,
			value        TEXT NOT NULL,
			community_id TEXT NOT NULL,
			PRIMARY KEY (kind, value, community_id)
		) WITHOUT ROWID;
		CREATE INDEX %[6]s ON %[5]s (community_id);
		CREATE TABLE %[7]s (
			community_id TEXT NOT NULL,
			member       TEXT NOT NULL,
			role         TEXT NOT NULL,
			state        TEXT NOT NULL,
			since        TEXT NOT NULL,
			PRIMARY KEY (community_id, member)
		) WITHOUT ROWID;
		CREATE INDEX %[8]s ON %[7]s (member, community_id);
		CREATE INDEX %[9]s ON %[7]s (community_id, state, member);
		CREATE TABLE %[10]s (
			position     INTEGER NOT NULL PRIMARY KEY,
			community_id TEXT    NOT NULL,
			type         TEXT    NOT NULL,
			actor        TEXT    NOT NULL,
			member       TEXT    NOT NULL,
			detail       TEXT    NOT NULL,
			at           TEXT    NOT NULL
		);
		CREATE INDEX %[11]s ON %[10]s (community_id, position);
		CREATE INDEX %[12]s ON %[10]s (member);
		CREATE INDEX %[13]s ON %[10]s (actor);
		CREATE TABLE %[14]s (
			post_id      TEXT NOT NULL PRIMARY KEY,
			community_id TEXT NOT NULL,
			author       TEXT NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[15]s ON %[14]s (author);
		CREATE TABLE %[16]s (
			account_id TEXT NOT NULL PRIMARY KEY
		) WITHOUT ROWID;`,
		t.Name("communities"), t.Name("communities_username"), t.Name("communities_name"), t.Name("communities_position"),
		t.Name("tags"), t.Name("tags_community"),
		t.Name("members"), t.Name("members_member"), t.Name("members_state"),
		t.Name("audit"), t.Name("audit_community"), t.Name("audit_member"), t.Name("audit_actor"),
		t.Name("posts"), t.Name("posts_author"),
		t.Name("erased")))
	return err
}

// applier applies the events of one batch inside its transaction.
type applier struct {
	ctx context.Context
	tx  *sql.Tx
	t   projections.Tables
}

func (a applier) exec(query string, args ...any) (sql.Result, error) {
	return a.tx.ExecContext(a.ctx, query, args...)
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	a := applier{ctx: ctx, tx: tx, t: t}
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		if err := a.apply(e, payload); err != nil {
			return fmt.Errorf("communities: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}

func (a applier) apply(e events.Envelope, payload any) error {
	at := projections.FormatTime(projections.OccurredAt(e))
	switch ev := payload.(type) {
	case *community.Created:
		return a.created(e, ev, at)
	case *community.Updated:
		return a.updated(e, ev)
	case *community.JoinRequested:
		return a.membership(e, ev.CommunityID, ev.Member, "", community.StateRequested, "", at, nil)
	case *community.MemberJoined:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateMember, ev.Role, at, detail{Role: ev.Role})
	case *community.JoinRejected:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateRejected, "", at, nil)
	case *community.MemberLeft:
		return a.membership(e, ev.CommunityID, ev.Member, "", community.StateLeft, "", at, nil)
	case *community.MemberInvited:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateInvited, "", at, nil)
	case *community.MemberRemoved:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateRemoved, "", at, detail{Reason: ev.Reason})
	case *community.MemberBanned:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateBanned, "", at, detail{Reason: ev.Reason})
	case *community.MemberUnbanned:
		return a.membership(e, ev.CommunityID, ev.Member, ev.By, community.StateNone, "", at, nil)
	case *community.RoleChanged:
		return a.roleChanged(e, ev, at)
	case *post.Published:
		if ev.CommunityID == "" {
			return nil
		}
		author := ev.AuthorID
		if author == "" {
			author = ev.AuthorIRI
		}
		if a.erased(author) {
			author = Erased
		}
		_, err := a.exec(fmt.Sprintf(`INSERT OR IGNORE INTO %s (post_id, community_id, author) VALUES (?, ?, ?)`,
			a.t.Name("posts")), ev.PostID, ev.CommunityID, author)
		return err
	case *post.Removed:
		return a.postAudit(e, ev.CommunityID, ev.By, at, detail{Reason: ev.Reason})
	case *post.ThreadLocked:
		return a.postAudit(e, "", ev.By, at, detail{})
	case *post.ThreadUnlocked:
		return a.postAudit(e, "", ev.By, at, detail{})
	case *post.Pinned:
		return a.postAudit(e, ev.CommunityID, ev.By, at, detail{})
	case *post.Unpinned:
		return a.postAudit(e, ev.CommunityID, ev.By, at, detail{})
	case *account.Erased:
		id, ok := strings.CutPrefix(e.StreamID, "account-")
		if !ok || id == "" {
			return fmt.Errorf("account.erased on stream %s", e.StreamID)
		}
		return a.erase(id)
	}
	return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
}

// detail is the JSON detail of an audit row; only set fields are written.
type detail struct {
	Username   string         `json:"username,omitempty"`
	Name       string         `json:"name,omitempty"`
	Policy     string         `json:"policy,omitempty"`
	Visibility string         `json:"visibility,omitempty"`
	Role       community.Role `json:"role,omitempty"`
	PostID     string         `json:"postId,omitempty"`
	Reason     string         `json:"reason,omitempty"`
}

func searchText(username, name, description string, topics []string) string {
	return strings.ToLower(username + "\n" + name + "\n" + description + "\n" + strings.Join(topics, " "))
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func (a applier) created(e events.Envelope, ev *community.Created, at string) error {
	id := ev.CommunityID
	if id == "" {
		id = strings.TrimPrefix(e.StreamID, "community-")
	}
	var city, country string
	var lat, lon sql.NullFloat64
	if l := ev.Location; l != nil {
		city, country = l.City, l.Country
		if l.Latitude != nil && l.Longitude != nil {
			lat, lon = sql.NullFloat64{Float64: *l.Latitude, Valid: true}, sql.NullFloat64{Float64: *l.Longitude, Valid: true}
		}
	}
	// Members recorded before the community (never in practice) count.
	if _, err := a.exec(fmt.Sprintf(`
		INSERT INTO %[1]s (id, username, name, sort_name, description, topics, languages, city, country, lat, lon,
			policy, visibility, member_count, created_at, position, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT count(*) FROM %[2]s WHERE community_id = ? AND state = 'member'), ?, ?, ?)`,
		a.t.Name("communities"), a.t.Name("members")),
		id, ev.Username, ev.Name, strings.ToLower(ev.Name), ev.Description, jsonList(ev.Topics), jsonList(ev.Languages),
		city, country, lat, lon, string(ev.Policy), string(ev.Visibility), id, at, int64(e.Position),
		searchText(ev.Username, ev.Name, ev.Description, ev.Topics)); err != nil {
		return err
	}
	if err := a.setTags(id, kindTopic, ev.Topics); err != nil {
		return err
	}
	if err := a.setTags(id, kindLanguage, ev.Languages); err != nil {
		return err
	}
	actor := e.Metadata.Actor
	if actor == "" {
		actor = ev.OwnerID
	}
	return a.audit(e, id, actor, "", at, detail{Username: ev.Username, Name: ev.Name, Policy: string(ev.Policy),
		Visibility: string(ev.Visibility)})
}

func (a applier) setTags(id, kind string, values []string) error {
	if _, err := a.exec(fmt.Sprintf(`DELETE FROM %s WHERE community_id = ? AND kind = ?`, a.t.Name("tags")), id, kind); err != nil {
		return err
	}
	for _, v := range values {
		if _, err := a.exec(fmt.Sprintf(`INSERT OR IGNORE INTO %s (kind, value, community_id) VALUES (?, ?, ?)`,
			a.t.Name("tags")), kind, v, id); err != nil {
			return err
		}
	}
	return nil
}

func (a applier) updated(e events.Envelope, ev *community.Updated) error {
	id := strings.TrimPrefix(e.StreamID, "community-")
	var (
		username, name, description, topicsJSON, languagesJSON, city, country, policy, visibility string
		lat, lon                                                                                  sql.NullFloat64
	)
	err := a.tx.QueryRowContext(a.ctx, fmt.Sprintf(`
		SELECT username, name, description, topics, languages, city, country, lat, lon, policy, visibility
		FROM %s WHERE id = ?`, a.t.Name("communities")), id).
		Scan(&username, &name, &description, &topicsJSON, &languagesJSON, &city, &country, &lat, &lon, &policy, &visibility)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no community %s", id)
	}
	if err != nil {
		return err
	}
	var topics, languages []string
	if err := json.Unmarshal([]byte(topicsJSON), &topics); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(languagesJSON), &languages); err != nil {
		return err
	}
	if ev.Name != nil {
		name = *ev.Name
	}
	if ev.Description != nil {
		description = *ev.Description
	}
	if ev.Topics != nil {
		topics = *ev.Topics
		if err := a.setTags(id, kindTopic, topics); err != nil {
			return err
		}
	}
	if ev.Languages != nil {
		languages = *ev.Languages
		if err := a.setTags(id, kindLanguage, languages); err != nil {
			return err
		}
	}
	if l := ev.Location; l != nil {
		city, country, lat, lon = l.City, l.Country, sql.NullFloat64{}, sql.NullFloat64{}
		if l.Latitude != nil && l.Longitude != nil {
			lat, lon = sql.NullFloat64{Float64: *l.Latitude, Valid: true}, sql.NullFloat64{Float64: *l.Longitude, Valid: true}
		}
	}
	if ev.Policy != nil {
		policy = string(*ev.Policy)
	}
	if ev.Visibility != nil {
		visibility = string(*ev.Visibility)
	}
	if _, err := a.exec(fmt.Sprintf(`
		UPDATE %s SET name = ?, sort_name = ?, description = ?, topics = ?, languages = ?, city = ?, country = ?,
			lat = ?, lon = ?, policy = ?, visibility = ?, search = ?
		WHERE id = ?`, a.t.Name("communities")),
		name, strings.ToLower(name), description, jsonList(topics), jsonList(languages), city, country, lat, lon,
		policy, visibility, searchText(username, name, description, topics), id); err != nil {
		return err
	}
	return a.audit(e, id, e.Metadata.Actor, "", projections.FormatTime(projections.OccurredAt(e)), ev)
}

// membership records member's new state (StateNone deletes the row),
// keeps the member count, and writes the audit row. by "" means the
// member acted.
func (a applier) membership(e events.Envelope, communityID, member, by string, state community.MembershipState,
	role community.Role, at string, d any) error {
	if by == "" {
		by = member
	}
	if d == nil {
		d = detail{}
	}
	if !a.erased(member) {
		var old string
		err := a.tx.QueryRowContext(a.ctx, fmt.Sprintf(`SELECT state FROM %s WHERE community_id = ? AND member = ?`,
			a.t.Name("members")), communityID, member).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if state == community.StateNone {
			_, err = a.exec(fmt.Sprintf(`DELETE FROM %s WHERE community_id = ? AND member = ?`, a.t.Name("members")),
				communityID, member)
		} else {
			_, err = a.exec(fmt.Sprintf(`
				INSERT INTO %s (community_id, member, role, state, since) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (community_id, member) DO UPDATE SET role = excluded.role, state = excluded.state, since = excluded.since`,
				a.t.Name("members")), communityID, member, string(role), string(state), at)
		}
		if err != nil {
			return err
		}
		delta := 0
		if state == community.StateMember {
			delta++
		}
		if old == string(community.StateMember) {
			delta--
		}
		if delta != 0 {
			if _, err := a.exec(fmt.Sprintf(`UPDATE %s SET member_count = member_count + ? WHERE id = ?`,
				a.t.Name("communities")), delta, communityID); err != nil {
				return err
			}
		}
	}
	return a.audit(e, communityID, by, member, at, d)
}

func (a applier) roleChanged(e events.Envelope, ev *community.RoleChanged, at string) error {
	if _, err := a.exec(fmt.Sprintf(`UPDATE %s SET role = ? WHERE community_id = ? AND member = ? AND state = 'member'`,
		a.t.Name("members")), string(ev.Role), ev.CommunityID, ev.Member); err != nil {
		return err
	}
	return a.audit(e, ev.CommunityID, ev.By, ev.Member, at, detail{Role: ev.Role})
}

// postAudit writes the audit row of a moderation event on a post; with
// communityID "" the community is looked up from the post (a post
// outside any community leaves no row).
func (a applier) postAudit(e events.Envelope, communityID, by, at string, d detail) error {
	postID := strings.TrimPrefix(e.StreamID, "post-")
	var known, author string
	err := a.tx.QueryRowContext(a.ctx, fmt.Sprintf(`SELECT community_id, author FROM %s WHERE post_id = ?`,
		a.t.Name("posts")), postID).Scan(&known, &author)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if communityID == "" {
		communityID = known
	}
	if communityID == "" {
		return nil
	}
	if by == "" {
		by = e.Metadata.Actor
	}
	d.PostID = postID
	return a.audit(e, communityID, by, author, at, d)
}

func (a applier) audit(e events.Envelope, communityID, actor, member, at string, d any) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return a.auditRaw(e, communityID, actor, member, at, string(b))
}

func (a applier) auditRaw(e events.Envelope, communityID, actor, member, at, d string) error {
	if member == Erased || a.erased(member) {
		member, d = Erased, "{}"
	}
	if actor == Erased || a.erased(actor) {
		actor, d = Erased, "{}"
	}
	_, err := a.exec(fmt.Sprintf(`
		INSERT INTO %s (position, community_id, type, actor, member, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.t.Name("audit")), int64(e.Position), communityID, e.Type, actor, member, d, at)
	return err
}

// erased reports whether id is an erased account.
func (a applier) erased(id string) bool {
	if id == "" || strings.Contains(id, "://") {
		return false
	}
	var one int
	err := a.tx.QueryRowContext(a.ctx, fmt.Sprintf(`SELECT 1 FROM %s WHERE account_id = ?`, a.t.Name("erased")), id).Scan(&one)
	return err == nil
}

// erase purges account id: its member rows go (and the member counts
// with them), its audit rows lose the account and their details.
func (a applier) erase(id string) error {
	stmts := []struct {
		query string
		args  []any
	}{
		{fmt.Sprintf(`INSERT OR IGNORE INTO %s (account_id) VALUES (?)`, a.t.Name("erased")), []any{id}},
		{fmt.Sprintf(`UPDATE %s SET member_count = member_count - 1
			WHERE id IN (SELECT community_id FROM %s WHERE member = ? AND state = 'member')`,
			a.t.Name("communities"), a.t.Name("members")), []any{id}},
		{fmt.Sprintf(`DELETE FROM %s WHERE member = ?`, a.t.Name("members")), []any{id}},
		{fmt.Sprintf(`UPDATE %s SET member = ?, detail = '{}' WHERE member = ?`, a.t.Name("audit")), []any{Erased, id}},
		{fmt.Sprintf(`UPDATE %s SET actor = ?, detail = '{}' WHERE actor = ?`, a.t.Name("audit")), []any{Erased, id}},
		{fmt.Sprintf(`UPDATE %s SET author = ? WHERE author = ?`, a.t.Name("posts")), []any{Erased, id}},
	}
	for _, s := range stmts {
		if _, err := a.exec(s.query, s.args...); err != nil {
			return err
		}
	}
	return nil
}
