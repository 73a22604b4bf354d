package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name; Version the shape of its tables.
const (
	Name    = "accounts"
	Version = 1
)

// MaxPageSize caps the limit of List.
const MaxPageSize = 200

// ErrNotFound: no account has that id or username.
var ErrNotFound = errors.New("accounts: not found")

// Account is one local account as the read model holds it.
type Account struct {
	ID          string
	Username    string
	Role        account.Role
	DisplayName string
	Bio         string
	Locale      string
	// CreatedAt is when account.registered occurred.
	CreatedAt time.Time
	// Erased is set once the account was erased (ErasedAt says when);
	// the personal fields are then empty.
	Erased   bool
	ErasedAt time.Time
}

// Page is one page of List.
type Page struct {
	Items []Account
	// Next is the cursor of the next page ("" on the last one).
	Next string
}

// Reader is the read-only query interface of the accounts read model.
type Reader interface {
	// ByID returns an account (erased ones included); ErrNotFound when
	// there is none.
	ByID(ctx context.Context, id string) (Account, error)
	// ByUsername finds an account by username, case-insensitively.
	ByUsername(ctx context.Context, username string) (Account, error)
	// List returns at most limit (1..MaxPageSize) accounts in the order
	// they were created, starting after the cursor after ("" for the
	// first page).
	List(ctx context.Context, after string, limit int) (Page, error)
}

// Projector builds the accounts read model.
type Projector struct {
	reg    *events.Registry
	opener personal.Opener
}

var _ projections.Projector = (*Projector)(nil)

// New returns the accounts projector; opener opens the sealed display
// names and bios.
func New(opener personal.Opener) *Projector {
	reg := events.NewRegistry()
	account.Register(reg)
	return &Projector{reg: reg, opener: opener}
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool {
	switch t {
	case account.TypeRegistered, account.TypeProfileUpdated, account.TypeRoleChanged, account.TypeErased:
		return true
	}
	return false
}

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id               TEXT    NOT NULL PRIMARY KEY,
			username         TEXT    NOT NULL,
			username_lower   TEXT    NOT NULL,
			role             TEXT    NOT NULL,
			display_name     TEXT    NOT NULL,
			bio              TEXT    NOT NULL,
			locale           TEXT    NOT NULL,
			created_at       TEXT    NOT NULL,
			created_position INTEGER NOT NULL,
			erased           INTEGER NOT NULL,
			erased_at        TEXT
		) WITHOUT ROWID;
		CREATE UNIQUE INDEX %[2]s ON %[1]s (username_lower);
		CREATE UNIQUE INDEX %[3]s ON %[1]s (created_position);`,
		t.Name("accounts"), t.Name("accounts_username"), t.Name("accounts_created")))
	return err
}

// accountID is the account id of an event of stream "account-<id>".
func accountID(e events.Envelope) (string, error) {
	id, ok := strings.CutPrefix(e.StreamID, "account-")
	if !ok || id == "" {
		return "", &projections.DecodeError{Position: e.Position, Type: e.Type,
			Err: fmt.Errorf("stream %q is not an account stream", e.StreamID)}
	}
	return id, nil
}

// open opens a sealed field: "" for the zero text and for an erased
// subject; other failures stop the projection (a missing key database
// must not silently blank every profile).
func (p *Projector) open(e events.Envelope, t *personal.Text) (any, error) {
	if t == nil {
		return nil, nil
	}
	s, err := personal.OpenOrEmpty(p.opener, *t)
	if err != nil {
		return nil, fmt.Errorf("accounts: %s at position %d: open personal field: %w", e.Type, e.Position, err)
	}
	return s, nil
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("accounts")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		id, err := accountID(e)
		if err != nil {
			return err
		}
		at := projections.FormatTime(projections.OccurredAt(e))
		var res sql.Result
		switch ev := payload.(type) {
		case *account.Registered:
			if ev.AccountID != id {
				return &projections.DecodeError{Position: e.Position, Type: e.Type,
					Err: fmt.Errorf("account id %q in stream %q", ev.AccountID, e.StreamID)}
			}
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (id, username, username_lower, role, display_name, bio, locale, created_at, created_position, erased)
				VALUES (?, ?, ?, ?, '', '', ?, ?, ?, 0)`, table),
				id, ev.Username, strings.ToLower(ev.Username), string(ev.Role), ev.Locale, at, int64(e.Position))
		case *account.ProfileUpdated:
			name, err := p.open(e, ev.DisplayName)
			if err != nil {
				return err
			}
			bio, err := p.open(e, ev.Bio)
			if err != nil {
				return err
			}
			var locale any
			if ev.Locale != nil {
				locale = *ev.Locale
			}
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET display_name = coalesce(?, display_name), bio = coalesce(?, bio), locale = coalesce(?, locale)
				WHERE id = ? AND NOT erased`, table), name, bio, locale, id)
			if err != nil {
				return fmt.Errorf("accounts: %s at position %d: %w", e.Type, e.Position, err)
			}
			continue // a late profile event of an erased account changes nothing
		case *account.RoleChanged:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET role = ? WHERE id = ?`, table), string(ev.Role), id)
		case *account.Erased:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET display_name = '', bio = '', locale = '', erased = 1, erased_at = coalesce(erased_at, ?)
				WHERE id = ?`, table), at, id)
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("accounts: %s at position %d: %w", e.Type, e.Position, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("accounts: %s at position %d for account %s, which has no account.registered before it", e.Type, e.Position, id)
		}
	}
	return nil
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

const columns = `id, username, role, display_name, bio, locale, created_at, erased, erased_at`

func scan(sc interface{ Scan(...any) error }) (Account, error) {
	var (
		a        Account
		role     string
		created  string
		erasedAt sql.NullString
	)
	if err := sc.Scan(&a.ID, &a.Username, &role, &a.DisplayName, &a.Bio, &a.Locale, &created, &a.Erased, &erasedAt); err != nil {
		return Account{}, err
	}
	a.Role = account.Role(role)
	var err error
	if a.CreatedAt, err = projections.ParseTime(created); err != nil {
		return Account{}, err
	}
	if a.ErasedAt, err = projections.ParseNullTime(erasedAt); err != nil {
		return Account{}, err
	}
	return a, nil
}

func (r *reader) one(ctx context.Context, what, where string, arg any) (Account, error) {
	var out Account
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, err = scan(tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s`, columns, t.Name("accounts"), where), arg))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, what)
		}
		return err
	})
	return out, err
}

func (r *reader) ByID(ctx context.Context, id string) (Account, error) {
	return r.one(ctx, fmt.Sprintf("id %q", id), `id = ?`, id)
}

func (r *reader) ByUsername(ctx context.Context, username string) (Account, error) {
	return r.one(ctx, fmt.Sprintf("username %q", username), `username_lower = ?`, strings.ToLower(strings.TrimPrefix(username, "@")))
}

// The cursor of List is the id of the last account of the previous page;
// pages follow the order of creation (the position of account.registered).
func (r *reader) List(ctx context.Context, after string, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, fmt.Errorf("accounts: limit %d outside 1..%d", limit, MaxPageSize)
	}
	var page Page
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		table := t.Name("accounts")
		from := int64(-1)
		if after != "" {
			err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT created_position FROM %s WHERE id = ?`, table), after).Scan(&from)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: cursor %q", ErrNotFound, after)
			}
			if err != nil {
				return err
			}
		}
		accounts, err := projections.QueryAll(ctx, tx, scan, fmt.Sprintf(`SELECT %s FROM %s WHERE created_position > ? ORDER BY created_position LIMIT ?`,
			columns, table), from, limit+1)
		page.Items = append(page.Items, accounts...)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
