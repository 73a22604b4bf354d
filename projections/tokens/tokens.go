package tokens

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/oauth"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name; Version the shape of its tables.
const (
	Name    = "tokens"
	Version = 1
)

// MaxPageSize caps the limit of ByAccount.
const MaxPageSize = 200

// ErrNotFound: no live token has that id.
var ErrNotFound = errors.New("tokens: not found")

// Token is one live token of an account.
type Token struct {
	ID string
	// Hash is the token's SHA-256 (its stream's name); app.OAuth revokes
	// by it.
	Hash      string
	AccountID string
	// ClientID, AppName and AppWebsite name the application; all "" for a
	// personal access token.
	ClientID   string
	AppName    string
	AppWebsite string
	// Name labels a personal access token.
	Name      string
	Scopes    []string
	CreatedAt time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// Position is the log position of oauth.token_issued; listings are
	// ordered by it, newest first.
	Position events.Position
}

// Personal reports whether t is a personal access token.
func (t Token) Personal() bool { return t.ClientID == "" }

// Reader is the read-only query interface of the tokens read model.
type Reader interface {
	// ByAccount lists accountID's tokens that are not revoked (expired
	// ones included, with their ExpiresAt), newest first, at most limit
	// (1..MaxPageSize).
	ByAccount(ctx context.Context, accountID string, limit int) ([]Token, error)
	// ByID returns a token that is not revoked; ErrNotFound otherwise.
	ByID(ctx context.Context, id string) (Token, error)
}

// Projector builds the tokens read model.
type Projector struct{ reg *events.Registry }

var _ projections.Projector = (*Projector)(nil)

// New returns the tokens projector.
func New() *Projector {
	reg := events.NewRegistry()
	oauth.Register(reg)
	account.Register(reg)
	return &Projector{reg: reg}
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool {
	switch t {
	case oauth.TypeAppRegistered, oauth.TypeTokenIssued, oauth.TypeTokenRevoked, account.TypeErased:
		return true
	}
	return false
}

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			client_id TEXT NOT NULL PRIMARY KEY,
			name      TEXT NOT NULL,
			website   TEXT NOT NULL
		) WITHOUT ROWID;
		CREATE TABLE %[2]s (
			id         TEXT    NOT NULL PRIMARY KEY,
			hash       TEXT    NOT NULL UNIQUE,
			account_id TEXT    NOT NULL,
			client_id  TEXT    NOT NULL,
			name       TEXT    NOT NULL,
			scopes     TEXT    NOT NULL,
			created_at TEXT    NOT NULL,
			expires_at TEXT,
			revoked_at TEXT,
			position   INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[3]s ON %[2]s (account_id, position) WHERE revoked_at IS NULL;`,
		t.Name("apps"), t.Name("tokens"), t.Name("tokens_account")))
	return err
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	apps, tokens := t.Name("apps"), t.Name("tokens")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		switch ev := payload.(type) {
		case *oauth.AppRegistered:
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (client_id, name, website) VALUES (?, ?, ?)`, apps),
				ev.ClientID, ev.Name, ev.Website)
		case *oauth.TokenIssued:
			if ev.AccountID == "" {
				continue // an application's own token acts for nobody
			}
			var expires any
			if ev.ExpiresAt != nil {
				expires = projections.FormatTime(*ev.ExpiresAt)
			}
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (id, hash, account_id, client_id, name, scopes, created_at, expires_at, position)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tokens),
				ev.TokenID, ev.TokenHash, ev.AccountID, ev.ClientID, ev.Name, oauth.JoinScopes(ev.Scopes),
				projections.FormatTime(projections.OccurredAt(e)), expires, int64(e.Position))
		case *oauth.TokenRevoked:
			hash, _ := strings.CutPrefix(e.StreamID, oauth.TokenStreamPrefix)
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL`, tokens),
				projections.FormatTime(projections.OccurredAt(e)), hash)
		case *account.Erased:
			id, _ := strings.CutPrefix(e.StreamID, "account-")
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE account_id = ?`, tokens), id)
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("tokens: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

func query(t projections.Tables) string {
	return fmt.Sprintf(`SELECT k.id, k.hash, k.account_id, k.client_id, coalesce(a.name, ''), coalesce(a.website, ''),
		k.name, k.scopes, k.created_at, k.expires_at, k.position
		FROM %s k LEFT JOIN %s a ON a.client_id = k.client_id AND k.client_id <> ''
		WHERE k.revoked_at IS NULL`, t.Name("tokens"), t.Name("apps"))
}

func scan(sc interface{ Scan(...any) error }) (Token, error) {
	var (
		tk      Token
		scopes  string
		created string
		expires sql.NullString
		pos     int64
	)
	if err := sc.Scan(&tk.ID, &tk.Hash, &tk.AccountID, &tk.ClientID, &tk.AppName, &tk.AppWebsite, &tk.Name, &scopes,
		&created, &expires, &pos); err != nil {
		return Token{}, err
	}
	tk.Scopes, tk.Position = strings.Fields(scopes), events.Position(pos)
	var err error
	if tk.CreatedAt, err = projections.ParseTime(created); err != nil {
		return Token{}, err
	}
	if tk.ExpiresAt, err = projections.ParseNullTime(expires); err != nil {
		return Token{}, err
	}
	return tk, nil
}

func (r *reader) ByAccount(ctx context.Context, accountID string, limit int) ([]Token, error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, fmt.Errorf("tokens: limit %d outside 1..%d", limit, MaxPageSize)
	}
	out := []Token{}
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		tks, err := projections.QueryAll(ctx, tx, scan, query(t)+` AND k.account_id = ? ORDER BY k.position DESC LIMIT ?`, accountID, limit)
		out = append(out, tks...)
		return err
	})
	return out, err
}

func (r *reader) ByID(ctx context.Context, id string) (Token, error) {
	var out Token
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, err = scan(tx.QueryRowContext(ctx, query(t)+` AND k.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return err
	})
	return out, err
}
