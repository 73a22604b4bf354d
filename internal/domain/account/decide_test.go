package account_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

func ptr[T any](v T) *T { return &v }

func sealed(subject, s string) personal.Text {
	t, _ := personal.Plain{}.Seal(subject, s)
	return t
}

const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

var (
	registered = account.Registered{AccountID: "a1", Username: "alice", Role: account.Learner,
		Email: sealed("a1", "alice@example.org"), EmailDigest: "d1", PasswordHash: hash, Locale: "de"}
	erased = account.Erased{Reason: account.ReasonSelf}
)

func newAccount(mod func(*account.NewAccount)) account.NewAccount {
	in := account.NewAccount{ID: "a1", Username: "alice", Role: account.Learner, Email: sealed("a1", "alice@example.org"),
		EmailDigest: "d1", PasswordHash: hash, Locale: "de"}
	if mod != nil {
		mod(&in)
	}
	return in
}

// when is a command: it decides against the folded state and returns the
// events (none or one) or an error.
type when func(account.State) ([]any, error)

func one(ev any, changed bool, err error) ([]any, error) {
	if err != nil || !changed {
		return nil, err
	}
	return []any{ev}, nil
}

func register(in account.NewAccount) when {
	return func(s account.State) ([]any, error) {
		ev, err := account.Create(s, in)
		return one(ev, true, err)
	}
}

func profile(p account.ProfileUpdated) when {
	return func(s account.State) ([]any, error) { return one(account.UpdateProfile(s, p)) }
}

func password(h string) when {
	return func(s account.State) ([]any, error) {
		ev, err := account.ChangePassword(s, h)
		return one(ev, true, err)
	}
}

func role(r, by account.Role) when {
	return func(s account.State) ([]any, error) { return one(account.ChangeRole(s, r, by)) }
}

func erase(reason string) when {
	return func(s account.State) ([]any, error) {
		ev, err := account.Erase(s, reason)
		return one(ev, true, err)
	}
}

func TestDecide(t *testing.T) {
	admin := account.RoleChanged{Role: account.InstanceAdmin}
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
		field   string
	}{
		{name: "register", when: register(newAccount(nil)), then: []any{registered}},
		{name: "register folds the username", when: register(newAccount(func(a *account.NewAccount) { a.Username = "Alice" })),
			then: []any{registered}},
		{name: "register without locale", when: register(newAccount(func(a *account.NewAccount) { a.Locale = "" })),
			then: []any{func() account.Registered { r := registered; r.Locale = ""; return r }()}},
		{name: "register a facilitator", when: register(newAccount(func(a *account.NewAccount) { a.Role = account.Facilitator })),
			then: []any{func() account.Registered { r := registered; r.Role = account.Facilitator; return r }()}},
		{name: "register twice", given: []any{registered}, when: register(newAccount(nil)), wantErr: account.ErrAlreadyExists},
		{name: "reserved username", when: register(newAccount(func(a *account.NewAccount) { a.Username = "admin" })),
			wantErr: account.ErrInvalid, field: "username"},
		{name: "username with a dot", when: register(newAccount(func(a *account.NewAccount) { a.Username = "a.b" })),
			wantErr: account.ErrInvalid, field: "username"},
		{name: "username of 31 characters", when: register(newAccount(func(a *account.NewAccount) { a.Username = strings.Repeat("a", 31) })),
			wantErr: account.ErrInvalid, field: "username"},
		{name: "empty username", when: register(newAccount(func(a *account.NewAccount) { a.Username = "" })),
			wantErr: account.ErrInvalid, field: "username"},
		{name: "unknown role", when: register(newAccount(func(a *account.NewAccount) { a.Role = "teacher" })),
			wantErr: account.ErrInvalid, field: "role"},
		{name: "no e-mail", when: register(newAccount(func(a *account.NewAccount) { a.Email = personal.Text{} })),
			wantErr: account.ErrInvalid, field: "email"},
		{name: "no e-mail digest", when: register(newAccount(func(a *account.NewAccount) { a.EmailDigest = "" })),
			wantErr: account.ErrInvalid, field: "email"},
		{name: "password not hashed", when: register(newAccount(func(a *account.NewAccount) { a.PasswordHash = "hunter2hunter2" })),
			wantErr: account.ErrInvalid, field: "password"},
		{name: "bad locale", when: register(newAccount(func(a *account.NewAccount) { a.Locale = "de_DE" })),
			wantErr: account.ErrInvalid, field: "locale"},
		{name: "no id", when: register(newAccount(func(a *account.NewAccount) { a.ID = "" })),
			wantErr: account.ErrInvalid, field: "id"},

		{name: "profile", given: []any{registered},
			when: profile(account.ProfileUpdated{DisplayName: ptr(sealed("a1", "Alice")), Bio: ptr(sealed("a1", "Hi")), Locale: ptr("en")}),
			then: []any{account.ProfileUpdated{DisplayName: ptr(sealed("a1", "Alice")), Bio: ptr(sealed("a1", "Hi")), Locale: ptr("en")}}},
		{name: "profile drops an unchanged locale", given: []any{registered},
			when: profile(account.ProfileUpdated{Bio: ptr(sealed("a1", "Hi")), Locale: ptr("de")}),
			then: []any{account.ProfileUpdated{Bio: ptr(sealed("a1", "Hi"))}}},
		{name: "profile clears the bio", given: []any{registered}, when: profile(account.ProfileUpdated{Bio: ptr(personal.Text{})}),
			then: []any{account.ProfileUpdated{Bio: ptr(personal.Text{})}}},
		{name: "profile without change", given: []any{registered}, when: profile(account.ProfileUpdated{Locale: ptr("de")})},
		{name: "profile sealed for someone else", given: []any{registered},
			when: profile(account.ProfileUpdated{Bio: ptr(sealed("b2", "Hi"))}), wantErr: account.ErrInvalid, field: "profile"},
		{name: "profile with bad locale", given: []any{registered}, when: profile(account.ProfileUpdated{Locale: ptr("x y")}),
			wantErr: account.ErrInvalid, field: "locale"},
		{name: "profile of unknown account", when: profile(account.ProfileUpdated{Locale: ptr("en")}), wantErr: account.ErrNotFound},
		{name: "profile of erased account", given: []any{registered, erased}, when: profile(account.ProfileUpdated{Locale: ptr("en")}),
			wantErr: account.ErrErased},

		{name: "password", given: []any{registered}, when: password(hash + "x"), then: []any{account.PasswordChanged{PasswordHash: hash + "x"}}},
		{name: "password not hashed", given: []any{registered}, when: password("plain"), wantErr: account.ErrInvalid, field: "password"},
		{name: "password of erased account", given: []any{registered, erased}, when: password(hash), wantErr: account.ErrErased},

		{name: "institution admin makes a facilitator", given: []any{registered}, when: role(account.Facilitator, account.InstitutionAdmin),
			then: []any{account.RoleChanged{Role: account.Facilitator}}},
		{name: "instance admin makes an instance admin", given: []any{registered}, when: role(account.InstanceAdmin, account.InstanceAdmin),
			then: []any{admin}},
		{name: "same role", given: []any{registered}, when: role(account.Learner, account.InstanceAdmin)},
		{name: "facilitator may not change roles", given: []any{registered}, when: role(account.Facilitator, account.Facilitator),
			wantErr: account.ErrForbidden},
		{name: "institution admin may not grant instance admin", given: []any{registered},
			when: role(account.InstanceAdmin, account.InstitutionAdmin), wantErr: account.ErrForbidden},
		{name: "institution admin may not demote an instance admin", given: []any{registered, admin},
			when: role(account.Learner, account.InstitutionAdmin), wantErr: account.ErrForbidden},
		{name: "unknown role", given: []any{registered}, when: role("root", account.InstanceAdmin), wantErr: account.ErrInvalid, field: "role"},
		{name: "role of erased account", given: []any{registered, erased}, when: role(account.Facilitator, account.InstanceAdmin),
			wantErr: account.ErrErased},

		{name: "erase", given: []any{registered}, when: erase(account.ReasonAdmin), then: []any{account.Erased{Reason: account.ReasonAdmin}}},
		{name: "erase twice", given: []any{registered, erased}, when: erase(account.ReasonSelf), wantErr: account.ErrErased},
		{name: "erase unknown", when: erase(account.ReasonSelf), wantErr: account.ErrNotFound},
		{name: "erase with odd reason", given: []any{registered}, when: erase("bored"), wantErr: account.ErrInvalid, field: "reason"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := account.Fold(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.field != "" {
				var fe *account.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("err = %#v, want a FieldError on %q", err, tc.field)
				}
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events =\n%#v\nwant\n%#v", got, tc.then)
			}
		})
	}
}

func TestFold(t *testing.T) {
	cases := []struct {
		name    string
		given   []any
		want    account.State
		wantErr bool
	}{
		{name: "nothing"},
		{name: "registered, as a pointer", given: []any{&registered},
			want: account.State{Exists: true, ID: "a1", Username: "alice", Role: account.Learner, Email: sealed("a1", "alice@example.org"),
				EmailDigest: "d1", PasswordHash: hash, Locale: "de"}},
		{name: "history", given: []any{registered, &account.ProfileUpdated{DisplayName: ptr(sealed("a1", "Al")), Locale: ptr("en")},
			account.ProfileUpdated{Bio: ptr(sealed("a1", "Bio"))}, account.PasswordChanged{PasswordHash: "h2"},
			&account.RoleChanged{Role: account.Facilitator}},
			want: account.State{Exists: true, ID: "a1", Username: "alice", Role: account.Facilitator, Email: sealed("a1", "alice@example.org"),
				EmailDigest: "d1", PasswordHash: "h2", Locale: "en", DisplayName: sealed("a1", "Al"), Bio: sealed("a1", "Bio")}},
		{name: "erased forgets the personal fields", given: []any{registered, account.ProfileUpdated{Bio: ptr(sealed("a1", "Bio"))}, &erased},
			want: account.State{Exists: true, ID: "a1", Username: "alice", Role: account.Learner, EmailDigest: "d1", PasswordHash: hash,
				Erased: true, ErasedReason: account.ReasonSelf}},
		{name: "registered twice", given: []any{registered, registered}, wantErr: true},
		{name: "profile before registration", given: []any{account.ProfileUpdated{}}, wantErr: true},
		{name: "password before registration", given: []any{account.PasswordChanged{}}, wantErr: true},
		{name: "role before registration", given: []any{account.RoleChanged{}}, wantErr: true},
		{name: "erased before registration", given: []any{erased}, wantErr: true},
		{name: "foreign payload", given: []any{registered, "x"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := account.Fold(tc.given...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("state =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"alice@example.org", "alice@example.org", true},
		{"  Alice.Müller+lernen@Example.ORG ", "alice.müller+lernen@example.org", true},
		{"a@b.co", "a@b.co", true},
		{"", "", false},
		{"alice", "", false},
		{"alice@localhost", "", false},
		{"@example.org", "", false},
		{"alice@example.org.", "", false},
		{"Alice <alice@example.org>", "", false},
		{"<alice@example.org>", "", false},
		{"alice@[127.0.0.1]", "", false},
		{"a b@example.org", "", false},
		{"alice@example.org, bob@example.org", "", false},
		{strings.Repeat("a", 250) + "@example.org", "", false},
		{"al\xffice@example.org", "", false},
	}
	for _, tc := range cases {
		got, err := account.NormalizeEmail(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", tc.in, got, err)
		}
		var fe *account.FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "email") {
			t.Errorf("NormalizeEmail(%q) error %v is no FieldError on email", tc.in, err)
		}
	}
}

func TestCheckProfile(t *testing.T) {
	cases := []struct {
		name              string
		display, bio, loc *string
		field             string
	}{
		{name: "nothing"},
		{name: "all fine", display: ptr("Alice 🌍"), bio: ptr("Line one\nLine two\tTab"), loc: ptr("pt-BR")},
		{name: "100 characters", display: ptr(strings.Repeat("ü", 100))},
		{name: "101 characters", display: ptr(strings.Repeat("ü", 101)), field: "display_name"},
		{name: "newline in display name", display: ptr("a\nb"), field: "display_name"},
		{name: "bio of 2000", bio: ptr(strings.Repeat("x", 2000))},
		{name: "bio of 2001", bio: ptr(strings.Repeat("x", 2001)), field: "bio"},
		{name: "NUL in bio", bio: ptr("a\x00b"), field: "bio"},
		{name: "invalid UTF-8", bio: ptr("a\xffb"), field: "bio"},
		{name: "bad locale", loc: ptr("deutsch!"), field: "locale"},
		{name: "empty locale clears", loc: ptr("")},
	}
	for _, tc := range cases {
		err := account.CheckProfile(tc.display, tc.bio, tc.loc)
		var fe *account.FieldError
		if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("%s: err = %v, want field %q", tc.name, err, tc.field)
		}
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		r                      account.Role
		valid, admin, atLeastF bool
	}{
		{account.Learner, true, false, false},
		{account.Facilitator, true, false, true},
		{account.InstitutionAdmin, true, true, true},
		{account.InstanceAdmin, true, true, true},
		{"root", false, false, false},
		{"", false, false, false},
	}
	for _, tc := range cases {
		if account.ValidRole(tc.r) != tc.valid || tc.r.Admin() != tc.admin || tc.r.AtLeast(account.Facilitator) != tc.atLeastF {
			t.Errorf("%q: valid %v admin %v atLeast(facilitator) %v", tc.r, account.ValidRole(tc.r), tc.r.Admin(), tc.r.AtLeast(account.Facilitator))
		}
	}
}

func TestEmailHolder(t *testing.T) {
	var h account.EmailHolder
	for _, p := range []any{account.EmailReserved{AccountID: "a1"}, &account.EmailReserved{AccountID: "a2"}} {
		if err := h.Apply(p); err != nil {
			t.Fatal(err)
		}
	}
	if h.AccountID != "a2" {
		t.Fatalf("holder %q, want the last reservation a2", h.AccountID)
	}
	if h.Apply(account.EmailReserved{}) == nil || h.Apply(registered) == nil {
		t.Fatal("accepted a reservation without account, or a foreign event")
	}
	live, _ := account.Fold(registered)
	gone, _ := account.Fold(registered, erased)
	for _, tc := range []struct {
		s      account.State
		digest string
		want   bool
	}{{live, "d1", true}, {live, "d2", false}, {gone, "d1", false}, {account.State{}, "d1", false}} {
		if got := account.HoldsEmail(tc.s, tc.digest); got != tc.want {
			t.Errorf("HoldsEmail(%+v, %s) = %v", tc.s, tc.digest, got)
		}
	}
}

// TestRoundTripThroughRegistry checks that every payload survives the
// registry's JSON encoding unchanged.
func TestRoundTripThroughRegistry(t *testing.T) {
	r := events.NewRegistry()
	account.Register(r)
	for _, p := range []any{registered, account.ProfileUpdated{DisplayName: ptr(sealed("a1", "x")), Bio: ptr(personal.Text{}), Locale: ptr("")},
		account.PasswordChanged{PasswordHash: hash}, account.RoleChanged{Role: account.InstanceAdmin}, erased,
		account.EmailReserved{AccountID: "a1"}} {
		ed, err := r.NewEvent(events.NewUUID(), p, events.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := r.Decode(events.Envelope{Type: ed.Type, Data: ed.Data, Metadata: ed.Metadata})
		if err != nil {
			t.Fatal(err)
		}
		if got := reflect.ValueOf(back).Elem().Interface(); !reflect.DeepEqual(got, p) {
			t.Errorf("%s: round trip gave %#v, want %#v", ed.Type, got, p)
		}
	}
}
