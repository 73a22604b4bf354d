package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Errors of the account commands; HTTP maps them to 409, 401, 410, 404
// and 403.
var (
	// ErrEmailTaken: another live account has the e-mail address.
	ErrEmailTaken = errors.New("app: e-mail address taken")
	// ErrInvalidCredentials: wrong login or password, or an erased
	// account (the caller cannot tell which).
	ErrInvalidCredentials = errors.New("app: invalid login or password")
	// ErrAccountErased: the account was erased.
	ErrAccountErased = errors.New("app: account erased")
	// ErrAccountNotFound: no account has that id.
	ErrAccountNotFound = errors.New("app: account not found")
	// ErrAccountForbidden: the acting account may not do this (change
	// roles without being an admin, grant instance_admin without being
	// one).
	ErrAccountForbidden = errors.New("app: not allowed to change this account")
)

// EmailDigestPurpose is the purpose the e-mail digest key is derived for
// from the master key (secrets.Keyring.DeriveKey).
const EmailDigestPurpose = "hanse account e-mail digest v1"

// DefaultEmailOrphanAfter is how old the e-mail reservation of an account
// that never completed its registration must be before another account
// may take the address over.
const DefaultEmailOrphanAfter = 10 * time.Minute

// DefaultInfoCacheTTL is how long Info answers are cached by default.
const DefaultInfoCacheTTL = 5 * time.Second

// maxCachedInfos bounds the Info cache; when full it starts over.
const maxCachedInfos = 10_000

type cachedAccountInfo struct {
	info    AccountInfo
	err     error
	expires time.Time
}

// DataKeyDestroyer destroys a subject's personal-data key
// (internal/datakeys.Store implements it).
type DataKeyDestroyer interface {
	Destroy(ctx context.Context, subject string) error
}

// AccountInfo is what token checks need of an account.
type AccountInfo struct {
	ID       string
	Username string
	Role     account.Role
	Erased   bool
}

// AccountProfile is an account with its personal fields opened, read
// from its stream (strongly consistent).
type AccountProfile struct {
	AccountInfo
	Email       string
	DisplayName string
	Bio         string
	Locale      string
	// CreatedAt is when the account was registered.
	CreatedAt time.Time
	// Position is the position of the account's last event.
	Position events.Position
}

// RegisterAccount is the command that creates an account.
type RegisterAccount struct {
	Username string
	Email    string
	Password string
	// Role defaults to learner.
	Role        account.Role
	Locale      string
	DisplayName string
	// By identifies who acts (recorded as the events' actor): an admin's
	// account id, "admin-token", or the OAuth application of a sign-up.
	By string
}

// Accounts is the application service for local accounts. Use
// NewAccounts; the exported fields may be changed before the first call.
type Accounts struct {
	Store    events.Store
	Registry *events.Registry
	Actors   ActorCommands
	// Cipher seals and opens the personal fields under the account's
	// data key (subject: the account id).
	Cipher personal.Cipher
	// Keys destroys data keys on erasure.
	Keys DataKeyDestroyer
	// Purgers remove what features keep about an account outside the
	// event log; Erase calls each of them.
	Purgers []AccountPurger
	// Password are the cost parameters of new password hashes; tests may
	// lower them.
	Password PasswordParams
	// EmailOrphanAfter: see DefaultEmailOrphanAfter.
	EmailOrphanAfter time.Duration
	Clock            func() time.Time
	// NewID makes event ids.
	NewID func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string

	// InfoCacheTTL bounds how old a cached Info answer may be (role
	// changes and erasures made through another process show after at
	// most this long; through this one at once). 0 disables the cache.
	InfoCacheTTL time.Duration

	emailKey []byte
	infoMu   sync.Mutex
	infos    map[string]cachedAccountInfo

	dummyOnce sync.Once
	dummyHash string
	dummyErr  error
}

// NewAccounts returns the account commands. emailKey keys the digests
// that make e-mail addresses unique and findable without storing them in
// the clear (derive it with secrets.Keyring.DeriveKey(EmailDigestPurpose));
// a key shorter than 16 bytes is a wiring mistake and panics. The actor
// and account events are registered in registry unless they already are.
func NewAccounts(store events.Store, registry *events.Registry, actors ActorCommands, cipher personal.Cipher,
	keys interface {
		Destroy(ctx context.Context, subject string) error
	}, emailKey []byte, origin string) *Accounts {
	if len(emailKey) < 16 {
		panic("app: NewAccounts needs an e-mail digest key of at least 16 bytes")
	}
	if !registry.Known(actor.TypeCreated) {
		actor.Register(registry)
	}
	if !registry.Known(account.TypeRegistered) {
		account.Register(registry)
	}
	return &Accounts{Store: store, Registry: registry, Actors: actors, Cipher: cipher, Keys: keys,
		Password: DefaultPasswordParams, EmailOrphanAfter: DefaultEmailOrphanAfter, InfoCacheTTL: DefaultInfoCacheTTL, Clock: time.Now,
		NewID: events.NewUUID, Origin: origin, emailKey: append([]byte(nil), emailKey...)}
}

func (a *Accounts) now() time.Time {
	if a.Clock == nil {
		return time.Now().UTC()
	}
	return a.Clock().UTC()
}

func (a *Accounts) id() events.UUID {
	if a.NewID == nil {
		return events.NewUUID()
	}
	return a.NewID()
}

func (a *Accounts) meta(by, correlationID string) events.Metadata {
	return events.Metadata{Actor: by, CorrelationID: correlationID, OccurredAt: a.now(), Origin: a.Origin}
}

// EmailDigest is the keyed digest (HMAC-SHA-256, hex) of a normalised
// e-mail address: its reservation stream's name and its lookup key.
func (a *Accounts) EmailDigest(normalized string) string {
	m := hmac.New(sha256.New, a.emailKey)
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// registrationCorrelation is the correlation id of every event of the
// registration of username, the Person actor's creation included: it
// marks a Person actor as made by Register, so that a retried
// registration may adopt it (see Register).
func registrationCorrelation(username string) string {
	return "account-registration:" + account.NormalizeUsername(username)
}

// Register creates an account and its Person actor (same id) and returns
// the account and the position of its registration.
//
// Steps, each durable before the next:
//  1. check the input, hash the password (argon2id), and refuse an e-mail
//     address a live account holds (ErrEmailTaken) before anything is
//     written;
//  2. create the Person actor (Actors.Create reserves the username:
//     ErrUsernameTaken); its id becomes the account id;
//  3. reserve the e-mail digest (account.email_reserved on
//     account_email-<digest>, expected revision NoStream, or the
//     reservation's revision when taking over a stale one);
//  4. append account.registered (and the display name, sealed) to
//     account-<id> with NoStream.
//
// Retry safety: a Register that dies after step 2 or 3 leaves a Person
// actor without account. A later Register of the same username adopts
// that actor (its id) when the actor was created by a registration (its
// correlation id says so), is a live Person, and has no account stream;
// Person actors made otherwise (the admin actor API) are never adopted. An
// e-mail reservation may be taken over when its account is erased, was
// registered with another address (it lost an adoption race), or never
// registered and the reservation is older than EmailOrphanAfter. Two
// registrations racing for one orphan end at step 4's NoStream: the loser
// gets ErrUsernameTaken.
func (a *Accounts) Register(ctx context.Context, in RegisterAccount) (AccountInfo, events.Position, error) {
	if in.Role == "" {
		in.Role = account.Learner
	}
	if err := account.CheckUsername(in.Username); err != nil {
		return AccountInfo{}, 0, accountError("", err)
	}
	username := account.NormalizeUsername(in.Username)
	email, err := account.NormalizeEmail(in.Email)
	if err != nil {
		return AccountInfo{}, 0, accountError("", err)
	}
	if err := ValidateAccountPassword(in.Password); err != nil {
		return AccountInfo{}, 0, err
	}
	if !account.ValidRole(in.Role) {
		return AccountInfo{}, 0, &ValidationError{Field: "role", Reason: "must be learner, facilitator, institution_admin or instance_admin"}
	}
	if err := account.CheckLocale(in.Locale); err != nil {
		return AccountInfo{}, 0, accountError("", err)
	}
	if err := account.CheckDisplayName(in.DisplayName); err != nil {
		return AccountInfo{}, 0, accountError("", err)
	}
	digest := a.EmailDigest(email)
	if _, _, err := a.emailAvailable(ctx, digest, ""); err != nil {
		return AccountInfo{}, 0, err
	}
	hash, err := HashAccountPassword(in.Password, a.Password)
	if err != nil {
		return AccountInfo{}, 0, err
	}

	correlationID := registrationCorrelation(username)
	id, err := a.createPerson(ctx, username, in.By, correlationID)
	if err != nil {
		return AccountInfo{}, 0, err
	}
	if err := a.reserveEmail(ctx, digest, id, in.By, correlationID); err != nil {
		return AccountInfo{}, 0, err
	}

	sealedEmail, err := a.Cipher.Seal(id, email)
	if err != nil {
		return AccountInfo{}, 0, fmt.Errorf("app: seal e-mail address: %w", err)
	}
	reg, err := account.Create(account.State{}, account.NewAccount{ID: id, Username: username, Role: in.Role,
		Email: sealedEmail, EmailDigest: digest, PasswordHash: hash, Locale: in.Locale})
	if err != nil {
		return AccountInfo{}, 0, accountError(id, err)
	}
	payloads := []any{reg}
	if in.DisplayName != "" {
		name, err := a.Cipher.Seal(id, in.DisplayName)
		if err != nil {
			return AccountInfo{}, 0, fmt.Errorf("app: seal display name: %w", err)
		}
		payloads = append(payloads, account.ProfileUpdated{DisplayName: &name})
	}
	evs := make([]events.EventData, 0, len(payloads))
	for _, p := range payloads {
		ev, err := a.Registry.NewEvent(a.id(), p, a.meta(in.By, correlationID))
		if err != nil {
			return AccountInfo{}, 0, fmt.Errorf("app: %w", err)
		}
		evs = append(evs, ev)
	}
	res, err := a.Store.Append(ctx, account.Stream(id), events.NoStream, evs...)
	if errors.Is(err, events.ErrWrongExpectedRevision) {
		// Another registration adopted the same orphaned actor first.
		return AccountInfo{}, 0, fmt.Errorf("%w: %q", ErrUsernameTaken, username)
	}
	if err != nil {
		return AccountInfo{}, 0, fmt.Errorf("app: register account %s: %w", id, err)
	}
	a.forget(id)
	return AccountInfo{ID: id, Username: username, Role: in.Role}, res.Position, nil
}

// createPerson creates the account's Person actor, or adopts the Person
// actor of an unfinished registration of the same username.
func (a *Accounts) createPerson(ctx context.Context, username, by, correlationID string) (string, error) {
	res, err := a.Actors.Create(ctx, CreateActor{Kind: actor.KindPerson, Username: username, By: by, CorrelationID: correlationID})
	if err == nil {
		return res.ActorID, nil
	}
	var ve *ValidationError
	if errors.As(err, &ve) || !errors.Is(err, ErrUsernameTaken) {
		return "", err
	}
	id, ok, aerr := a.adoptablePerson(ctx, username, correlationID)
	if aerr != nil {
		return "", aerr
	}
	if !ok {
		return "", err
	}
	return id, nil
}

// adoptablePerson finds the Person actor holding username and reports
// whether a registration may adopt it (see Register).
func (a *Accounts) adoptablePerson(ctx context.Context, username, correlationID string) (string, bool, error) {
	envs, err := a.readStream(ctx, actor.UsernameStream(username), 1)
	if err != nil || len(envs) == 0 {
		return "", false, err
	}
	p, err := a.Registry.Decode(envs[0])
	if err != nil {
		return "", false, fmt.Errorf("app: reservation of %q: %w", username, err)
	}
	r, ok := p.(*actor.UsernameReserved)
	if !ok {
		return "", false, nil
	}
	envs, err = a.readStream(ctx, actor.Stream(r.ActorID), 0)
	if err != nil || len(envs) == 0 {
		return "", false, err
	}
	var s actor.State
	for _, e := range envs {
		p, err := a.Registry.Decode(e)
		if err != nil {
			return "", false, fmt.Errorf("app: actor %s: %w", r.ActorID, err)
		}
		if err := s.Apply(p); err != nil {
			return "", false, fmt.Errorf("app: actor %s: %w", r.ActorID, err)
		}
	}
	if !s.Exists || s.Deleted || s.Kind != actor.KindPerson || envs[0].Metadata.CorrelationID != correlationID {
		return "", false, nil
	}
	l, err := a.load(ctx, r.ActorID)
	if err != nil || l.state.Exists {
		return "", false, err
	}
	return r.ActorID, true, nil
}

// emailAvailable checks whether the address with digest may be reserved
// for account id (id "" only checks that no live account holds it, before
// the account id is known). It
// returns whether id already holds the reservation, and the expected
// revision to append the reservation with.
func (a *Accounts) emailAvailable(ctx context.Context, digest, id string) (bool, events.ExpectedRevision, error) {
	envs, err := a.readStream(ctx, account.EmailStream(digest), 0)
	if err != nil {
		return false, events.ExpectedRevision{}, err
	}
	if len(envs) == 0 {
		return false, events.NoStream, nil
	}
	var h account.EmailHolder
	for _, e := range envs {
		p, err := a.Registry.Decode(e)
		if err != nil {
			return false, events.ExpectedRevision{}, fmt.Errorf("app: e-mail reservation: %w", err)
		}
		if err := h.Apply(p); err != nil {
			return false, events.ExpectedRevision{}, fmt.Errorf("app: e-mail reservation: %w", err)
		}
	}
	last := envs[len(envs)-1]
	if id != "" && h.AccountID == id {
		return true, events.Exact(last.Revision), nil
	}
	l, err := a.load(ctx, h.AccountID)
	if err != nil {
		return false, events.ExpectedRevision{}, err
	}
	switch {
	case account.HoldsEmail(l.state, digest):
		return false, events.ExpectedRevision{}, ErrEmailTaken
	case id != "" && !l.state.Exists && a.now().Sub(accountEventTime(last)) < a.orphanAfter():
		// A registration of another username may still be completing.
		// (The pre-check, id "", lets this pass: the reservation may be
		// the caller's own, from an attempt it now retries.)
		return false, events.ExpectedRevision{}, ErrEmailTaken
	}
	return false, events.Exact(last.Revision), nil
}

func (a *Accounts) orphanAfter() time.Duration {
	if a.EmailOrphanAfter <= 0 {
		return DefaultEmailOrphanAfter
	}
	return a.EmailOrphanAfter
}

func accountEventTime(e events.Envelope) time.Time {
	if !e.Metadata.OccurredAt.IsZero() {
		return e.Metadata.OccurredAt
	}
	return e.RecordedAt
}

// reserveEmail makes account id the holder of the address with digest.
func (a *Accounts) reserveEmail(ctx context.Context, digest, id, by, correlationID string) error {
	_, err := retryConflicts("e-mail reservation", func() (events.Position, error) {
		held, expected, err := a.emailAvailable(ctx, digest, id)
		if err != nil || held {
			return 0, err
		}
		// Derived from what is replaced, so a retried append of the same
		// reservation is an idempotent no-op.
		ev, err := a.Registry.NewEvent(events.DerivedUUID(account.TypeEmailReserved, digest, id, expected.String()),
			account.EmailReserved{AccountID: id}, a.meta(by, correlationID))
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := a.Store.Append(ctx, account.EmailStream(digest), expected, ev)
		return appended(res, err, "reserve e-mail address")
	})
	return err
}

// dummyPasswordHash is a hash with the configured parameters, verified
// when the login is unknown so that unknown and known logins cost the
// same.
func (a *Accounts) dummyPasswordHash() (string, error) {
	a.dummyOnce.Do(func() {
		a.dummyHash, a.dummyErr = HashAccountPassword("not the password of anybody", a.Password)
	})
	return a.dummyHash, a.dummyErr
}

// Authenticate checks a login (username, with or without a leading "@",
// or e-mail address) and password. Wrong password, unknown login and
// erased account all give ErrInvalidCredentials after the same work (one
// argon2id verification).
func (a *Accounts) Authenticate(ctx context.Context, login, password string) (AccountInfo, error) {
	l, digest, err := a.findLogin(ctx, strings.TrimSpace(login))
	if err != nil {
		return AccountInfo{}, err
	}
	hash := l.state.PasswordHash
	known := l.state.Exists && !l.state.Erased && (digest == "" || l.state.EmailDigest == digest)
	if !known {
		if hash, err = a.dummyPasswordHash(); err != nil {
			return AccountInfo{}, err
		}
	}
	ok, err := VerifyAccountPassword(hash, password)
	if err != nil && known {
		return AccountInfo{}, fmt.Errorf("app: password hash of account %s: %w", l.state.ID, err)
	}
	if !ok || !known {
		return AccountInfo{}, ErrInvalidCredentials
	}
	return accountInfoOf(l.state), nil
}

// findLogin loads the account a login names (a zero state when none);
// digest is the e-mail digest for an e-mail login.
func (a *Accounts) findLogin(ctx context.Context, login string) (loadedAccount, string, error) {
	if strings.Contains(strings.TrimPrefix(login, "@"), "@") {
		email, err := account.NormalizeEmail(login)
		if err != nil {
			return loadedAccount{}, "", nil
		}
		digest := a.EmailDigest(email)
		envs, err := a.readStream(ctx, account.EmailStream(digest), 0)
		if err != nil || len(envs) == 0 {
			return loadedAccount{}, digest, err
		}
		var h account.EmailHolder
		for _, e := range envs {
			p, err := a.Registry.Decode(e)
			if err != nil {
				return loadedAccount{}, digest, fmt.Errorf("app: e-mail reservation: %w", err)
			}
			if err := h.Apply(p); err != nil {
				return loadedAccount{}, digest, fmt.Errorf("app: e-mail reservation: %w", err)
			}
		}
		l, err := a.load(ctx, h.AccountID)
		return l, digest, err
	}
	username := account.NormalizeUsername(strings.TrimPrefix(login, "@"))
	if account.CheckUsername(username) != nil {
		return loadedAccount{}, "", nil
	}
	envs, err := a.readStream(ctx, actor.UsernameStream(username), 1)
	if err != nil || len(envs) == 0 {
		return loadedAccount{}, "", err
	}
	p, err := a.Registry.Decode(envs[0])
	if err != nil {
		return loadedAccount{}, "", fmt.Errorf("app: reservation of %q: %w", username, err)
	}
	r, ok := p.(*actor.UsernameReserved)
	if !ok {
		return loadedAccount{}, "", nil
	}
	l, err := a.load(ctx, r.ActorID)
	return l, "", err
}

func accountInfoOf(s account.State) AccountInfo {
	return AccountInfo{ID: s.ID, Username: s.Username, Role: s.Role, Erased: s.Erased}
}

// Info returns the account's id, username, role and erasure, read from its
// stream (so a token check sees a role change or an erasure at once).
// ErrAccountNotFound when there is none; for an erased account the info
// (Erased set) and ErrAccountErased.
//
// Answers are cached for InfoCacheTTL (reading the stream costs a few
// hundred microseconds, see BenchmarkAccountInfo); every change made
// through this Accounts drops the account's entry at once.
func (a *Accounts) Info(ctx context.Context, accountID string) (AccountInfo, error) {
	now := a.now()
	if a.InfoCacheTTL > 0 {
		a.infoMu.Lock()
		c, ok := a.infos[accountID]
		a.infoMu.Unlock()
		if ok && now.Before(c.expires) {
			return c.info, c.err
		}
	}
	l, err := a.load(ctx, accountID)
	if err != nil {
		return AccountInfo{}, err
	}
	var info AccountInfo
	switch {
	case !l.state.Exists:
		err = fmt.Errorf("%w: %s", ErrAccountNotFound, accountID)
	case l.state.Erased:
		info, err = accountInfoOf(l.state), fmt.Errorf("%w: %s", ErrAccountErased, accountID)
	default:
		info = accountInfoOf(l.state)
	}
	if a.InfoCacheTTL > 0 {
		a.infoMu.Lock()
		if a.infos == nil || len(a.infos) >= maxCachedInfos {
			a.infos = map[string]cachedAccountInfo{}
		}
		a.infos[accountID] = cachedAccountInfo{info: info, err: err, expires: now.Add(a.InfoCacheTTL)}
		a.infoMu.Unlock()
	}
	return info, err
}

// forget drops the cached Info of accountID.
func (a *Accounts) forget(accountID string) {
	a.infoMu.Lock()
	delete(a.infos, accountID)
	a.infoMu.Unlock()
}

// Profile returns the account with its e-mail address, display name, bio
// and locale opened, read from its stream. Errors as Info.
func (a *Accounts) Profile(ctx context.Context, accountID string) (AccountProfile, error) {
	l, err := a.load(ctx, accountID)
	if err != nil {
		return AccountProfile{}, err
	}
	if !l.state.Exists {
		return AccountProfile{}, fmt.Errorf("%w: %s", ErrAccountNotFound, accountID)
	}
	p := AccountProfile{AccountInfo: accountInfoOf(l.state), Locale: l.state.Locale, CreatedAt: l.createdAt, Position: l.position}
	if l.state.Erased {
		return p, fmt.Errorf("%w: %s", ErrAccountErased, accountID)
	}
	for _, f := range []struct {
		dst *string
		t   personal.Text
	}{{&p.Email, l.state.Email}, {&p.DisplayName, l.state.DisplayName}, {&p.Bio, l.state.Bio}} {
		if *f.dst, err = personal.OpenOrEmpty(a.Cipher, f.t); err != nil {
			return AccountProfile{}, fmt.Errorf("app: open profile of %s: %w", accountID, err)
		}
	}
	return p, nil
}

// UpdateProfile changes the display name (at most 100 characters), bio
// (at most 2,000) and preferred locale (BCP 47) of the account; nil
// leaves a field unchanged, "" clears it. Names and bios are sealed under
// the account's data key. Without a change it appends nothing and
// returns the position of the account's last event.
func (a *Accounts) UpdateProfile(ctx context.Context, accountID string, displayName, bio, locale *string) (events.Position, error) {
	if err := account.CheckProfile(displayName, bio, locale); err != nil {
		return 0, accountError(accountID, err)
	}
	// Refuse unknown and erased accounts before sealing, which would make
	// a data key for any id.
	l, err := a.load(ctx, accountID)
	if err != nil {
		return 0, err
	}
	if err := l.state.Live(); err != nil {
		return 0, accountError(accountID, err)
	}
	var ev account.ProfileUpdated
	for _, f := range []struct {
		plain *string
		dst   **personal.Text
	}{{displayName, &ev.DisplayName}, {bio, &ev.Bio}} {
		if f.plain == nil {
			continue
		}
		t, err := a.Cipher.Seal(accountID, *f.plain)
		if errors.Is(err, personal.ErrErased) {
			return 0, fmt.Errorf("%w: %s", ErrAccountErased, accountID)
		}
		if err != nil {
			return 0, fmt.Errorf("app: seal profile of %s: %w", accountID, err)
		}
		*f.dst = &t
	}
	ev.Locale = locale
	return a.change(ctx, accountID, accountID, func(s account.State) ([]any, error) {
		ev, changed, err := account.UpdateProfile(s, ev)
		if err != nil || !changed {
			return nil, err
		}
		return []any{ev}, nil
	})
}

// CheckPassword verifies the account's password: nil, ErrInvalidCredentials,
// ErrAccountNotFound or ErrAccountErased.
func (a *Accounts) CheckPassword(ctx context.Context, accountID, password string) error {
	l, err := a.load(ctx, accountID)
	if err != nil {
		return err
	}
	if err := l.state.Live(); err != nil {
		return accountError(accountID, err)
	}
	ok, err := VerifyAccountPassword(l.state.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("app: password hash of account %s: %w", accountID, err)
	}
	if !ok {
		return ErrInvalidCredentials
	}
	return nil
}

// ChangePassword replaces the account's password after checking the
// current one (ErrInvalidCredentials). The new one has 10 to 128
// characters.
func (a *Accounts) ChangePassword(ctx context.Context, accountID, current, next string) (events.Position, error) {
	if err := a.CheckPassword(ctx, accountID, current); err != nil {
		return 0, err
	}
	return a.SetPassword(ctx, accountID, next, accountID)
}

// SetPassword replaces the account's password without the current one
// (an administrator's reset; by is recorded as the actor).
func (a *Accounts) SetPassword(ctx context.Context, accountID, password, by string) (events.Position, error) {
	if err := ValidateAccountPassword(password); err != nil {
		return 0, err
	}
	hash, err := HashAccountPassword(password, a.Password)
	if err != nil {
		return 0, err
	}
	return a.change(ctx, accountID, by, func(s account.State) ([]any, error) {
		ev, err := account.ChangePassword(s, hash)
		if err != nil {
			return nil, err
		}
		return []any{ev}, nil
	})
}

// ChangeRole gives the account a new role on behalf of by, who must be
// an admin (ErrAccountForbidden otherwise). by's role is read from its
// account; an acting id without account (the static admin token, the
// command line) counts as an instance admin. Only instance admins grant
// or revoke instance_admin. The same role appends nothing.
func (a *Accounts) ChangeRole(ctx context.Context, accountID string, role account.Role, by Acting) (events.Position, error) {
	if !by.Admin {
		return 0, fmt.Errorf("%w: only admins change roles", ErrAccountForbidden)
	}
	byRole := account.InstanceAdmin
	if by.ID != "" {
		l, err := a.load(ctx, by.ID)
		if err != nil {
			return 0, err
		}
		if l.state.Exists {
			if l.state.Erased {
				return 0, fmt.Errorf("%w: the acting account is erased", ErrAccountForbidden)
			}
			byRole = l.state.Role
		}
	}
	return a.change(ctx, accountID, by.ID, func(s account.State) ([]any, error) {
		ev, changed, err := account.ChangeRole(s, role, byRole)
		if err != nil || !changed {
			return nil, err
		}
		return []any{ev}, nil
	})
}

// Erase erases the account: reason is account.ReasonSelf or
// account.ReasonAdmin, by who acts. It returns the position of the
// account.erased event.
//
// Order, and why a crash at any point is safe:
//  1. append account.erased: the durable decision. From here on Info
//     reports the account erased (tokens stop working, sign-in fails),
//     and every read model purges the person's rows and texts when it
//     applies the event.
//  2. destroy the account's data key: every sealed field of the person
//     in the event log becomes unreadable for ever (crypto-shredding);
//     rebuilt read models show nothing.
//  3. delete the Person actor (federated as Delete; already deleted is
//     fine).
//  4. call every AccountPurger (media files and other state outside the
//     log).
//
// Steps 2 to 4 are idempotent. Erase of an already erased account does
// not append again: it re-runs them, so an erasure interrupted by a crash
// or a failing step is completed by calling Erase again (for example
// "hanse admin erase-user" once more). The username stays reserved.
func (a *Accounts) Erase(ctx context.Context, accountID, reason, by string) (events.Position, error) {
	pos, err := a.appendErased(ctx, accountID, reason, by)
	if err != nil {
		return 0, err
	}
	if a.Keys == nil {
		return pos, errors.New("app: no data key store to destroy the account's key")
	}
	if err := a.Keys.Destroy(ctx, accountID); err != nil {
		return pos, fmt.Errorf("app: destroy the data key of account %s: %w", accountID, err)
	}
	if _, err := a.Actors.Delete(ctx, accountID, by); err != nil &&
		!errors.Is(err, ErrActorDeleted) && !errors.Is(err, ErrActorNotFound) {
		return pos, fmt.Errorf("app: delete the Person actor of account %s: %w", accountID, err)
	}
	var errs []error
	for _, p := range a.Purgers {
		if err := p.PurgeAccount(ctx, accountID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return pos, fmt.Errorf("app: purge account %s: %w", accountID, err)
	}
	return pos, nil
}

// appendErased appends account.erased unless it is there, and returns its
// position.
func (a *Accounts) appendErased(ctx context.Context, accountID, reason, by string) (events.Position, error) {
	eventID, correlationID := a.id(), a.id().String()
	return retryConflicts("account "+accountID, func() (events.Position, error) {
		l, err := a.load(ctx, accountID)
		if err != nil {
			return 0, err
		}
		if l.state.Erased {
			return l.erasedAt, nil
		}
		ev, err := account.Erase(l.state, reason)
		if err != nil {
			return 0, accountError(accountID, err)
		}
		data, err := a.Registry.NewEvent(eventID, ev, a.meta(by, correlationID))
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := a.Store.Append(ctx, account.Stream(accountID), events.Exact(l.revision), data)
		if err != nil {
			return appended(res, err, "erase account "+accountID)
		}
		a.forget(accountID)
		return res.Position, nil
	})
}

// loadedAccount is an account stream folded.
type loadedAccount struct {
	state     account.State
	revision  uint64          // of the last event; meaningful when state.Exists
	position  events.Position // of the last event
	erasedAt  events.Position // of account.erased, if any
	createdAt time.Time       // when account.registered occurred
}

// load reads and folds account id's stream; a missing stream (or an id
// that makes no valid stream name) gives a zero state.
func (a *Accounts) load(ctx context.Context, id string) (loadedAccount, error) {
	if id == "" {
		return loadedAccount{}, nil
	}
	envs, err := a.readStream(ctx, account.Stream(id), 0)
	if err != nil {
		return loadedAccount{}, fmt.Errorf("app: load account %s: %w", id, err)
	}
	var l loadedAccount
	for _, e := range envs {
		p, err := a.Registry.Decode(e)
		if err != nil {
			return loadedAccount{}, fmt.Errorf("app: load account %s: %w", id, err)
		}
		if err := l.state.Apply(p); err != nil {
			return loadedAccount{}, fmt.Errorf("app: load account %s at revision %d: %w", id, e.Revision, err)
		}
		switch e.Type {
		case account.TypeRegistered:
			l.createdAt = accountEventTime(e)
		case account.TypeErased:
			l.erasedAt = e.Position
		}
		l.revision, l.position = e.Revision, e.Position
	}
	return l, nil
}

// readStream reads up to max events (0: all) of stream forwards; a
// missing, deleted or invalidly named stream gives none.
func (a *Accounts) readStream(ctx context.Context, stream string, max int) ([]events.Envelope, error) {
	envs, err := a.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards, Max: max})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("app: read %s: %w", stream, err)
	}
	return envs, nil
}

// change runs one command on an existing account: load, decide, append
// with the expected revision, retried on conflicts like Actors.change.
// decide returns the payloads, none for no change (then the position of
// the account's last event is returned).
func (a *Accounts) change(ctx context.Context, id, by string, decide func(account.State) ([]any, error)) (events.Position, error) {
	correlationID := a.id().String()
	var ids []events.UUID
	return retryConflicts("account "+id, func() (events.Position, error) {
		l, err := a.load(ctx, id)
		if err != nil {
			return 0, err
		}
		payloads, err := decide(l.state)
		if err != nil {
			return 0, accountError(id, err)
		}
		if len(payloads) == 0 {
			return l.position, nil
		}
		for len(ids) < len(payloads) {
			ids = append(ids, a.id())
		}
		evs := make([]events.EventData, 0, len(payloads))
		for i, p := range payloads {
			ev, err := a.Registry.NewEvent(ids[i], p, a.meta(by, correlationID))
			if err != nil {
				return 0, fmt.Errorf("app: %w", err)
			}
			evs = append(evs, ev)
		}
		res, err := a.Store.Append(ctx, account.Stream(id), events.Exact(l.revision), evs...)
		if err != nil {
			return appended(res, err, "append to account "+id)
		}
		a.forget(id)
		return res.Position, nil
	})
}

// accountError maps the account domain's errors to the application's.
func accountError(id string, err error) error {
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, account.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrAccountNotFound, id)
	case errors.Is(err, account.ErrErased):
		return fmt.Errorf("%w: %s", ErrAccountErased, id)
	case errors.Is(err, account.ErrForbidden):
		return fmt.Errorf("%w: %w", ErrAccountForbidden, err)
	case errors.Is(err, account.ErrAlreadyExists):
		return fmt.Errorf("%w: %s", ErrUsernameTaken, id)
	}
	return err
}
