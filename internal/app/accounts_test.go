package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/datakeys"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// cheapPasswords keeps argon2id fast in tests.
var cheapPasswords = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}

type accountsEnv struct {
	*env
	acc    *app.Accounts
	keys   *datakeys.Store
	cipher *flakyCipher
	now    time.Time
	purged *recordingPurger
}

// flakyCipher is the real key store, except that Seal fails while failSeals
// is positive (to stop a registration half-way).
type flakyCipher struct {
	*datakeys.Store
	failSeals atomic.Int32
}

func (c *flakyCipher) Seal(subject, plain string) (personal.Text, error) {
	if c.failSeals.Add(-1) >= 0 {
		return personal.Text{}, errors.New("simulated crash")
	}
	return c.Store.Seal(subject, plain)
}

type recordingPurger struct {
	mu   sync.Mutex
	ids  []string
	fail bool
}

func (p *recordingPurger) PurgeAccount(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, id)
	if p.fail {
		return errors.New("media store unavailable")
	}
	return nil
}

func newAccountsEnv(t testing.TB) *accountsEnv {
	t.Helper()
	e := newEnv(t)
	keys, err := datakeys.Open(filepath.Join(t.TempDir(), datakeys.FileName), e.ring)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	ae := &accountsEnv{env: e, keys: keys, cipher: &flakyCipher{Store: keys}, now: t0, purged: &recordingPurger{}}
	ae.acc = app.NewAccounts(e.store, e.reg, e.a, ae.cipher, keys, e.ring.DeriveKey(app.EmailDigestPurpose), "hanse.example")
	ae.acc.Password = cheapPasswords
	ae.acc.Clock = func() time.Time { return ae.now }
	ae.acc.Purgers = []app.AccountPurger{ae.purged}
	return ae
}

func (e *accountsEnv) register(username, email string) app.AccountInfo {
	e.t.Helper()
	info, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: username, Email: email, Password: "correct horse battery", By: "admin-token"})
	if err != nil {
		e.t.Fatalf("Register(%s): %v", username, err)
	}
	return info
}

func (e *accountsEnv) accountState(id string) account.State {
	e.t.Helper()
	payloads, _ := e.read(account.Stream(id))
	s, err := account.Fold(payloads...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// logHolds reports whether any event payload in the log contains s.
func (e *accountsEnv) logHolds(s string) bool {
	e.t.Helper()
	envs, err := e.store.ReadAll(e.ctx, 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, env := range envs {
		if bytes.Contains(bytes.ToLower(env.Data), bytes.ToLower([]byte(s))) {
			return true
		}
	}
	return false
}

func TestAccountsRegister(t *testing.T) {
	e := newAccountsEnv(t)
	info, pos, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: "Alice", Email: " Alice.Lernt@Example.ORG ",
		Password: "correct horse battery", Locale: "de", DisplayName: "Alice Müller", By: "admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Username != "alice" || info.Role != account.Learner || info.ID == "" || info.Erased || pos == 0 {
		t.Fatalf("Register = %+v at %d", info, pos)
	}
	// The account id is the Person actor's id.
	if a := e.state(info.ID); !a.Exists || a.Kind != actor.KindPerson || a.Username != "alice" || a.Name != "" {
		t.Fatalf("actor = %+v", a)
	}
	s := e.accountState(info.ID)
	if s.Username != "alice" || s.Locale != "de" || !strings.HasPrefix(s.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("account = %+v", s)
	}
	for want, text := range map[string]personal.Text{"alice.lernt@example.org": s.Email, "Alice Müller": s.DisplayName} {
		if got, err := e.keys.Open(text); err != nil || got != want || text.Subject != info.ID {
			t.Fatalf("sealed %q opens to %q, %v (subject %q)", want, got, err, text.Subject)
		}
	}
	// Personal data never appears in the clear in the log.
	for _, secret := range []string{"alice.lernt@example.org", "Alice Müller", "correct horse battery"} {
		if e.logHolds(secret) {
			t.Errorf("the event log holds %q in the clear", secret)
		}
	}
	payloads, envs := e.read(account.EmailStream(s.EmailDigest))
	if len(payloads) != 1 || payloads[0] != (account.EmailReserved{AccountID: info.ID}) || envs[0].Metadata.Actor != "admin-token" {
		t.Fatalf("e-mail reservation = %+v", payloads)
	}
	if got, err := e.acc.Info(e.ctx, info.ID); err != nil || got != info {
		t.Fatalf("Info = %+v, %v", got, err)
	}
	p, err := e.acc.Profile(e.ctx, info.ID)
	if err != nil || p.Email != "alice.lernt@example.org" || p.DisplayName != "Alice Müller" || p.Locale != "de" ||
		!p.CreatedAt.Equal(t0) || p.Position != pos {
		t.Fatalf("Profile = %+v, %v", p, err)
	}
}

func TestAccountsRegisterRefusals(t *testing.T) {
	e := newAccountsEnv(t)
	e.register("alice", "alice@example.org")
	ok := app.RegisterAccount{Username: "bob", Email: "bob@example.org", Password: "correct horse battery"}
	with := func(f func(*app.RegisterAccount)) app.RegisterAccount { c := ok; f(&c); return c }
	cases := []struct {
		name    string
		in      app.RegisterAccount
		field   string
		wantErr error
	}{
		{name: "reserved username", in: with(func(c *app.RegisterAccount) { c.Username = "admin" }), field: "username"},
		{name: "username with a dash", in: with(func(c *app.RegisterAccount) { c.Username = "bo-b" }), field: "username"},
		{name: "bad e-mail", in: with(func(c *app.RegisterAccount) { c.Email = "bob" }), field: "email"},
		{name: "password of 9", in: with(func(c *app.RegisterAccount) { c.Password = "123456789" }), field: "password"},
		{name: "password of 129", in: with(func(c *app.RegisterAccount) { c.Password = strings.Repeat("p", 129) }), field: "password"},
		{name: "unknown role", in: with(func(c *app.RegisterAccount) { c.Role = "teacher" }), field: "role"},
		{name: "bad locale", in: with(func(c *app.RegisterAccount) { c.Locale = "de_DE" }), field: "locale"},
		{name: "long display name", in: with(func(c *app.RegisterAccount) { c.DisplayName = strings.Repeat("x", 101) }), field: "display_name"},
		{name: "username taken", in: with(func(c *app.RegisterAccount) { c.Username = "ALICE" }), wantErr: app.ErrUsernameTaken},
		{name: "e-mail taken, in another case", in: with(func(c *app.RegisterAccount) { c.Email = "Alice@Example.org" }), wantErr: app.ErrEmailTaken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.acc.Register(e.ctx, tc.in)
			var ve *app.ValidationError
			switch {
			case tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field):
				t.Fatalf("err = %v, want a ValidationError on %q", err, tc.field)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	// None of the refusals created the Person actor "bob".
	if payloads, _ := e.read(actor.UsernameStream("bob")); payloads != nil {
		t.Fatalf("a refused registration reserved the username: %+v", payloads)
	}
	// 10 and 128 characters are fine.
	for i, pw := range []string{"1234567890", strings.Repeat("ü", 128)} {
		if _, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: fmt.Sprintf("edge%d", i),
			Email: fmt.Sprintf("edge%d@example.org", i), Password: pw}); err != nil {
			t.Fatalf("password of %d characters: %v", len([]rune(pw)), err)
		}
	}
}

func TestAccountsRegisterIsRetrySafe(t *testing.T) {
	e := newAccountsEnv(t)
	in := app.RegisterAccount{Username: "carla", Email: "carla@example.org", Password: "correct horse battery", DisplayName: "Carla"}
	// The first attempt dies after the Person actor and the e-mail
	// reservation, before account.registered.
	e.cipher.failSeals.Store(1)
	if _, _, err := e.acc.Register(e.ctx, in); err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("first attempt: %v", err)
	}
	orphan, _ := e.read(actor.UsernameStream("carla"))
	orphanID := orphan[0].(actor.UsernameReserved).ActorID
	if e.accountState(orphanID).Exists {
		t.Fatal("the failed attempt registered the account")
	}
	info, _, err := e.acc.Register(e.ctx, in)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if info.ID != orphanID {
		t.Fatalf("retry made account %s, want the orphaned actor %s adopted", info.ID, orphanID)
	}
	if got, err := e.acc.Authenticate(e.ctx, "carla@example.org", in.Password); err != nil || got.ID != orphanID {
		t.Fatalf("Authenticate after retry = %+v, %v", got, err)
	}
	// Once registered, the same registration finds its address taken.
	if _, _, err := e.acc.Register(e.ctx, in); !errors.Is(err, app.ErrEmailTaken) {
		t.Fatalf("third attempt: %v", err)
	}

	// A Person actor made by the admin actor API is never adopted.
	if _, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindPerson, Username: "dora", By: "admin-token"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: "dora", Email: "dora@example.org",
		Password: "correct horse battery"}); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("register over an admin-made actor: %v", err)
	}
}

func TestAccountsEmailTakeOver(t *testing.T) {
	e := newAccountsEnv(t)
	gone := e.register("gone", "shared@example.org")
	if _, err := e.acc.Erase(e.ctx, gone.ID, account.ReasonSelf, gone.ID); err != nil {
		t.Fatal(err)
	}
	// An erased account's address is free again.
	next := e.register("next", "shared@example.org")
	if got, err := e.acc.Authenticate(e.ctx, "shared@example.org", "correct horse battery"); err != nil || got.ID != next.ID {
		t.Fatalf("e-mail login after take-over = %+v, %v", got, err)
	}

	// A reservation whose account never registered blocks the address
	// for EmailOrphanAfter, then may be taken over.
	digest := e.acc.EmailDigest("orphan@example.org")
	ev, err := e.reg.NewEvent(events.NewUUID(), account.EmailReserved{AccountID: "never-registered"}, events.Metadata{OccurredAt: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, account.EmailStream(digest), events.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	try := func(username string) error {
		_, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: username, Email: "orphan@example.org", Password: "correct horse battery"})
		return err
	}
	if err := try("early"); !errors.Is(err, app.ErrEmailTaken) {
		t.Fatalf("take-over of a fresh orphan: %v", err)
	}
	e.now = e.now.Add(app.DefaultEmailOrphanAfter + time.Second)
	if err := try("late"); err != nil {
		t.Fatalf("take-over of an old orphan: %v", err)
	}
}

func TestAccountsAuthenticate(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "Alice@Example.org")
	bob := e.register("bob", "bob@example.org")
	if _, err := e.acc.Erase(e.ctx, bob.ID, account.ReasonAdmin, "admin-token"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		login, password string
		want            string // account id, "" for ErrInvalidCredentials
	}{
		{"alice", "correct horse battery", alice.ID},
		{"ALICE", "correct horse battery", alice.ID},
		{"@alice", "correct horse battery", alice.ID},
		{" alice@example.org ", "correct horse battery", alice.ID},
		{"ALICE@EXAMPLE.ORG", "correct horse battery", alice.ID},
		{"alice", "correct horse batterY", ""},
		{"alice", "", ""},
		{"alice@example.org", "wrong password!", ""},
		{"nobody", "correct horse battery", ""},
		{"nobody@example.org", "correct horse battery", ""},
		{"bob", "correct horse battery", ""}, // erased
		{"bob@example.org", "correct horse battery", ""},
		{"not a login!", "correct horse battery", ""},
		{"", "", ""},
	}
	for _, tc := range cases {
		got, err := e.acc.Authenticate(e.ctx, tc.login, tc.password)
		switch {
		case tc.want == "" && !errors.Is(err, app.ErrInvalidCredentials):
			t.Errorf("Authenticate(%q, %q) = %+v, %v; want ErrInvalidCredentials", tc.login, tc.password, got, err)
		case tc.want != "" && (err != nil || got.ID != tc.want || got.Username != "alice"):
			t.Errorf("Authenticate(%q) = %+v, %v; want %s", tc.login, got, err, tc.want)
		}
	}
}

func TestAccountsInfo(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	if _, err := e.acc.Info(e.ctx, "0196b0c2-0000-7000-8000-000000000000"); !errors.Is(err, app.ErrAccountNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := e.acc.Info(e.ctx, "not a stream name"); !errors.Is(err, app.ErrAccountNotFound) {
		t.Fatalf("malformed id: %v", err)
	}
	if _, err := e.acc.Erase(e.ctx, alice.ID, account.ReasonSelf, alice.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.acc.Info(e.ctx, alice.ID)
	if !errors.Is(err, app.ErrAccountErased) || !got.Erased || got.ID != alice.ID {
		t.Fatalf("Info of erased = %+v, %v", got, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestAccountsUpdateProfile(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	pos, err := e.acc.UpdateProfile(e.ctx, alice.ID, ptr("Alice"), ptr("Ich lerne Töpfern.\nUnd Bremisch."), ptr("de"))
	if err != nil || pos == 0 {
		t.Fatal(pos, err)
	}
	p, err := e.acc.Profile(e.ctx, alice.ID)
	if err != nil || p.DisplayName != "Alice" || p.Bio != "Ich lerne Töpfern.\nUnd Bremisch." || p.Locale != "de" || p.Position != pos {
		t.Fatalf("Profile = %+v, %v", p, err)
	}
	if e.logHolds("Töpfern") {
		t.Fatal("the bio is in the log in the clear")
	}
	// Same locale only: nothing appended, the last position returned.
	if again, err := e.acc.UpdateProfile(e.ctx, alice.ID, nil, nil, ptr("de")); err != nil || again != pos {
		t.Fatalf("no-op update = %d, %v; want %d", again, err, pos)
	}
	// "" clears.
	if _, err := e.acc.UpdateProfile(e.ctx, alice.ID, nil, ptr(""), nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.acc.Profile(e.ctx, alice.ID); p.Bio != "" || p.DisplayName != "Alice" {
		t.Fatalf("after clearing the bio: %+v", p)
	}
	for _, tc := range []struct {
		name, field   string
		display, bio  *string
		locale        *string
		wantErr       error
		accountID     string
		registerFirst bool
	}{
		{name: "name too long", field: "display_name", display: ptr(strings.Repeat("a", 101))},
		{name: "bio too long", field: "bio", bio: ptr(strings.Repeat("a", 2001))},
		{name: "control character", field: "display_name", display: ptr("a\x07")},
		{name: "bad locale", field: "locale", locale: ptr("!!")},
		{name: "unknown account", display: ptr("x"), accountID: "0196b0c2-0000-7000-8000-000000000000", wantErr: app.ErrAccountNotFound},
	} {
		id := alice.ID
		if tc.accountID != "" {
			id = tc.accountID
		}
		_, err := e.acc.UpdateProfile(e.ctx, id, tc.display, tc.bio, tc.locale)
		var ve *app.ValidationError
		if tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field) || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	// The refused update of an unknown account made no data key for it.
	probe := personal.Text{Subject: "0196b0c2-0000-7000-8000-000000000000", Sealed: make([]byte, datakeys.Overhead+1)}
	probe.Sealed[0] = datakeys.Version1
	if _, err := e.keys.Open(probe); !errors.Is(err, datakeys.ErrNoKey) {
		t.Fatalf("a key exists for the unknown account: %v", err)
	}
	if _, err := e.acc.Erase(e.ctx, alice.ID, account.ReasonSelf, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.UpdateProfile(e.ctx, alice.ID, ptr("Back"), nil, nil); !errors.Is(err, app.ErrAccountErased) {
		t.Fatalf("update of an erased account: %v", err)
	}
}

func TestAccountsPassword(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	if _, err := e.acc.ChangePassword(e.ctx, alice.ID, "not the password", "new password 123"); !errors.Is(err, app.ErrInvalidCredentials) {
		t.Fatalf("wrong current password: %v", err)
	}
	var ve *app.ValidationError
	if _, err := e.acc.ChangePassword(e.ctx, alice.ID, "correct horse battery", "short"); !errors.As(err, &ve) || ve.Field != "password" {
		t.Fatalf("short new password: %v", err)
	}
	if _, err := e.acc.ChangePassword(e.ctx, alice.ID, "correct horse battery", "new password 123"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Authenticate(e.ctx, "alice", "correct horse battery"); !errors.Is(err, app.ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if err := e.acc.CheckPassword(e.ctx, alice.ID, "new password 123"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := e.acc.SetPassword(e.ctx, alice.ID, "reset by admin 1", "admin-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Authenticate(e.ctx, "alice@example.org", "reset by admin 1"); err != nil {
		t.Fatalf("reset password: %v", err)
	}
	if err := e.acc.CheckPassword(e.ctx, "0196b0c2-0000-7000-8000-000000000000", "x"); !errors.Is(err, app.ErrAccountNotFound) {
		t.Fatalf("CheckPassword of unknown account: %v", err)
	}
}

func TestAccountsChangeRole(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	inst := e.register("inst", "inst@example.org")
	token := app.Acting{ID: "admin-token", Admin: true}
	if _, err := e.acc.ChangeRole(e.ctx, inst.ID, account.InstitutionAdmin, token); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		role    account.Role
		by      app.Acting
		wantErr error
		field   string
		want    account.Role
	}{
		{name: "a learner may not", role: account.Facilitator, by: app.Acting{ID: alice.ID}, wantErr: app.ErrAccountForbidden},
		{name: "admin flag without admin role", role: account.Facilitator, by: app.Acting{ID: alice.ID, Admin: true}, wantErr: app.ErrAccountForbidden},
		{name: "institution admin makes a facilitator", role: account.Facilitator, by: app.Acting{ID: inst.ID, Admin: true}, want: account.Facilitator},
		{name: "institution admin may not grant instance_admin", role: account.InstanceAdmin, by: app.Acting{ID: inst.ID, Admin: true},
			wantErr: app.ErrAccountForbidden, want: account.Facilitator},
		{name: "unknown role", role: "root", by: token, field: "role", want: account.Facilitator},
		{name: "admin token grants instance_admin", role: account.InstanceAdmin, by: token, want: account.InstanceAdmin},
	}
	for _, tc := range cases {
		_, err := e.acc.ChangeRole(e.ctx, alice.ID, tc.role, tc.by)
		var ve *app.ValidationError
		switch {
		case tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field):
			t.Errorf("%s: err = %v, want field %s", tc.name, err, tc.field)
		case tc.field == "" && !errors.Is(err, tc.wantErr):
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
		if tc.want != "" {
			if info, _ := e.acc.Info(e.ctx, alice.ID); info.Role != tc.want {
				t.Errorf("%s: role %s, want %s", tc.name, info.Role, tc.want)
			}
		}
	}
	if _, err := e.acc.ChangeRole(e.ctx, "0196b0c2-0000-7000-8000-000000000000", account.Learner, token); !errors.Is(err, app.ErrAccountNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestAccountsErase(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	if _, err := e.acc.UpdateProfile(e.ctx, alice.ID, ptr("Alice"), ptr("Bio"), nil); err != nil {
		t.Fatal(err)
	}
	before := e.accountState(alice.ID)
	e.purged.fail = true
	pos, err := e.acc.Erase(e.ctx, alice.ID, account.ReasonSelf, alice.ID)
	if err == nil || pos == 0 {
		t.Fatalf("Erase with a failing purger = %d, %v; want the position and an error", pos, err)
	}
	// The decision and the key destruction happened all the same.
	if s := e.accountState(alice.ID); !s.Erased || s.ErasedReason != account.ReasonSelf {
		t.Fatalf("account = %+v", s)
	}
	for _, txt := range []personal.Text{before.Email, before.DisplayName, before.Bio} {
		if _, err := e.keys.Open(txt); !errors.Is(err, personal.ErrErased) {
			t.Fatalf("a sealed field still opens after Erase: %v", err)
		}
	}
	if !e.state(alice.ID).Deleted {
		t.Fatal("the Person actor is not deleted")
	}
	// Erase again completes the interrupted erasure without a second event.
	e.purged.fail = false
	again, err := e.acc.Erase(e.ctx, alice.ID, account.ReasonAdmin, "admin-token")
	if err != nil || again != pos {
		t.Fatalf("second Erase = %d, %v; want %d, nil", again, err, pos)
	}
	if payloads, _ := e.read(account.Stream(alice.ID)); len(payloads) != 3 {
		t.Fatalf("account stream has %d events, want registered, profile, erased", len(payloads))
	}
	if fmt.Sprint(e.purged.ids) != fmt.Sprint([]string{alice.ID, alice.ID}) {
		t.Fatalf("purgers saw %v", e.purged.ids)
	}
	// The username stays reserved.
	if _, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: "alice", Email: "new@example.org",
		Password: "correct horse battery"}); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("reuse of an erased username: %v", err)
	}
	if err := e.acc.CheckPassword(e.ctx, alice.ID, "correct horse battery"); !errors.Is(err, app.ErrAccountErased) {
		t.Fatalf("CheckPassword of erased: %v", err)
	}
	var ve *app.ValidationError
	bob := e.register("bob", "bob@example.org")
	if _, err := e.acc.Erase(e.ctx, bob.ID, "because", "admin-token"); !errors.As(err, &ve) || ve.Field != "reason" {
		t.Fatalf("bad reason: %v", err)
	}
	if _, err := e.acc.Erase(e.ctx, "0196b0c2-0000-7000-8000-000000000000", account.ReasonAdmin, "admin-token"); !errors.Is(err, app.ErrAccountNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestAccountsConcurrentRegistrations(t *testing.T) {
	e := newAccountsEnv(t)
	const n = 6
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.acc.Register(e.ctx, app.RegisterAccount{Username: "same", Email: fmt.Sprintf("u%d@example.org", i),
				Password: "correct horse battery"})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, app.ErrUsernameTaken) && !errors.Is(err, app.ErrEmailTaken) && !errors.Is(err, app.ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations of one username succeeded", won)
	}
}

func TestAccountPasswordHashes(t *testing.T) {
	h, err := app.HashAccountPassword("correct horse battery", app.DefaultPasswordParams)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	for _, tc := range []struct {
		hash, password string
		ok             bool
		bad            bool
	}{
		{h, "correct horse battery", true, false},
		{h, "correct horse batter", false, false},
		{strings.Replace(h, "m=19456", "m=19457", 1), "correct horse battery", false, false},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, true},
		{"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, true},
		{"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ", "x", false, true},
		{"plain", "plain", false, true},
	} {
		ok, err := app.VerifyAccountPassword(tc.hash, tc.password)
		if ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("Verify(%.40s…, %q) = %v, %v", tc.hash, tc.password, ok, err)
		}
	}
	seen := map[string]bool{}
	for range 20 {
		p, err := app.GenerateAccountPassword()
		if err != nil || len(p) != 24 || seen[p] || app.ValidateAccountPassword(p) != nil || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("generated %q, %v", p, err)
		}
		seen[p] = true
	}
}

func TestAccountsInfoCache(t *testing.T) {
	e := newAccountsEnv(t)
	alice := e.register("alice", "alice@example.org")
	if _, err := e.acc.Info(e.ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	// Another process (another Accounts over the same store) changes the
	// role: this one answers from its cache until the entry expires.
	other := app.NewAccounts(e.store, e.reg, e.a, e.cipher, e.keys, e.ring.DeriveKey(app.EmailDigestPurpose), "hanse.example")
	if _, err := other.ChangeRole(e.ctx, alice.ID, account.Facilitator, app.Acting{ID: "admin-token", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if info, _ := e.acc.Info(e.ctx, alice.ID); info.Role != account.Learner {
		t.Fatalf("role %s before the cache expired, want the cached learner", info.Role)
	}
	e.now = e.now.Add(app.DefaultInfoCacheTTL)
	if info, _ := e.acc.Info(e.ctx, alice.ID); info.Role != account.Facilitator {
		t.Fatalf("role %s after the cache expired, want facilitator", info.Role)
	}
	// Changes through this Accounts show at once.
	if _, err := e.acc.Erase(e.ctx, alice.ID, account.ReasonSelf, alice.ID); err != nil {
		t.Fatal(err)
	}
	if info, err := e.acc.Info(e.ctx, alice.ID); !errors.Is(err, app.ErrAccountErased) || !info.Erased {
		t.Fatalf("Info right after Erase = %+v, %v", info, err)
	}
}

// BenchmarkAccountInfo measures Info with its cache (token checks use it);
// BenchmarkAccountInfoUncached reads the account's stream on every call.
func BenchmarkAccountInfo(b *testing.B) { benchmarkAccountInfo(b, app.DefaultInfoCacheTTL) }

func BenchmarkAccountInfoUncached(b *testing.B) { benchmarkAccountInfo(b, 0) }

func benchmarkAccountInfo(b *testing.B, ttl time.Duration) {
	e := newAccountsEnv(b)
	e.acc.InfoCacheTTL = ttl
	alice := e.register("alice", "alice@example.org")
	for range 5 {
		if _, err := e.acc.UpdateProfile(e.ctx, alice.ID, ptr("Alice"), ptr("Bio"), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.acc.Info(e.ctx, alice.ID); err != nil {
			b.Fatal(err)
		}
	}
}
