package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/accounts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// keys is a personal.Opener whose erased subjects can change between
// builds (personal.Plain behind a lock).
type keys struct {
	mu     sync.Mutex
	erased map[string]bool
}

func (k *keys) Open(t personal.Text) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return personal.Plain{Erased: k.erased}.Open(t)
}

func (k *keys) erase(subject string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.erased == nil {
		k.erased = map[string]bool{}
	}
	k.erased[subject] = true
}

func sealed(subject, s string) *personal.Text {
	t, _ := personal.Plain{}.Seal(subject, s)
	return &t
}

type given struct {
	id      string
	payload any
}

func registered(id, username string) given {
	return given{id, account.Registered{AccountID: id, Username: username, Role: account.Learner,
		Email: *sealed(id, username+"@example.org"), EmailDigest: "d-" + id, PasswordHash: "$argon2id$x", Locale: "de"}}
}

func profile(id, name, bio string) given {
	return given{id, account.ProfileUpdated{DisplayName: sealed(id, name), Bio: sealed(id, bio)}}
}

// project appends evs (event i at at(i)) and an unrelated event, and runs
// the accounts projection with opener k to the head.
func project(t *testing.T, k *keys, evs []given) (accounts.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	account.Register(env.Registry)
	for i, e := range evs {
		env.Record(account.Stream(e.id), e.payload, events.Metadata{OccurredAt: at(i)})
	}
	env.AppendUnrelated()
	r := env.Start(accounts.New(k))
	return accounts.NewReader(r.DB()), r
}

func TestAccountsGivenEventsThenReader(t *testing.T) {
	ctx := context.Background()
	alice := accounts.Account{ID: "a1", Username: "alice", Role: account.Learner, Locale: "de", CreatedAt: at(0)}
	cases := []struct {
		name  string
		given []given
		want  accounts.Account
	}{
		{name: "registered", given: []given{registered("a1", "alice")}, want: alice},
		{name: "profile, role and locale",
			given: []given{registered("a1", "alice"), profile("a1", "Alice", "Ich lerne."),
				{"a1", account.ProfileUpdated{Locale: ptr("en")}}, {"a1", account.RoleChanged{Role: account.Facilitator}}},
			want: func() accounts.Account {
				a := alice
				a.DisplayName, a.Bio, a.Locale, a.Role = "Alice", "Ich lerne.", "en", account.Facilitator
				return a
			}()},
		{name: "cleared bio", given: []given{registered("a1", "alice"), profile("a1", "Alice", "Bio"),
			{"a1", account.ProfileUpdated{Bio: &personal.Text{}}}},
			want: func() accounts.Account { a := alice; a.DisplayName = "Alice"; return a }()},
		{name: "erased", given: []given{registered("a1", "alice"), profile("a1", "Alice", "Bio"),
			{"a1", account.Erased{Reason: account.ReasonSelf}}, profile("a1", "Late", "Late")},
			want: func() accounts.Account { a := alice; a.Locale, a.Erased, a.ErasedAt = "", true, at(2); return a }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := project(t, &keys{}, tc.given)
			for _, get := range []func() (accounts.Account, error){
				func() (accounts.Account, error) { return q.ByID(ctx, "a1") },
				func() (accounts.Account, error) { return q.ByUsername(ctx, "ALICE") },
				func() (accounts.Account, error) { return q.ByUsername(ctx, "@alice") },
			} {
				got, err := get()
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
				}
			}
			if _, err := q.ByID(ctx, "zz"); !errors.Is(err, accounts.ErrNotFound) {
				t.Fatalf("ByID(zz) = %v", err)
			}
			if _, err := q.ByUsername(ctx, "bob"); !errors.Is(err, accounts.ErrNotFound) {
				t.Fatalf("ByUsername(bob) = %v", err)
			}
		})
	}
}

func TestAccountsListAndRebuild(t *testing.T) {
	ctx := context.Background()
	var evs []given
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("z%02d", 12-i) // ids sort against creation order
		evs = append(evs, registered(id, fmt.Sprintf("user%02d", i)), profile(id, "Name "+id, "Bio "+id))
		want = append(want, id)
	}
	q, r := project(t, &keys{}, evs)
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		p, err := q.List(ctx, after, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Items {
			got = append(got, a.ID)
		}
		if p.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		after = p.Next
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %v, want creation order %v", got, want)
	}
	if _, err := q.List(ctx, "nope", 5); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("unknown cursor: %v", err)
	}
	for _, bad := range []int{0, accounts.MaxPageSize + 1} {
		if _, err := q.List(ctx, "", bad); err == nil {
			t.Fatalf("limit %d accepted", bad)
		}
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, accounts.Name, nil)
}

// TestRebuildAfterKeyErased: once a person's data key is destroyed, a
// rebuild holds none of their texts, and nothing of anybody else is lost.
func TestRebuildAfterKeyErased(t *testing.T) {
	ctx := context.Background()
	k := &keys{}
	q, r := project(t, k, []given{registered("a1", "alice"), profile("a1", "Alice", "Alice's bio"),
		registered("b2", "bob"), profile("b2", "Bob", "Bob's bio")})
	if a, _ := q.ByID(ctx, "a1"); a.DisplayName != "Alice" || a.Bio != "Alice's bio" {
		t.Fatalf("before: %+v", a)
	}
	k.erase("a1")
	wctx, cancel := context.WithTimeout(ctx, projectiontest.RebuildTimeout)
	defer cancel()
	if err := r.Rebuild(wctx, accounts.Name); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitSettled(wctx, accounts.Name); err != nil {
		t.Fatal(err)
	}
	a, err := q.ByID(ctx, "a1")
	if err != nil || a.DisplayName != "" || a.Bio != "" || a.Username != "alice" {
		t.Fatalf("after the key was erased: %+v, %v", a, err)
	}
	if b, _ := q.ByID(ctx, "b2"); b.DisplayName != "Bob" || b.Bio != "Bob's bio" {
		t.Fatalf("bob after the rebuild: %+v", b)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, accounts.Name, nil)
}

// failingOpener fails as a lost key database would.
type failingOpener struct{}

func (failingOpener) Open(personal.Text) (string, error) { return "", errors.New("no data key") }

func TestUnopenableTextStopsTheProjection(t *testing.T) {
	env := projectiontest.Open(t)
	account.Register(env.Registry)
	for _, e := range []given{registered("a1", "alice"), profile("a1", "Alice", "Bio")} {
		env.Record(account.Stream(e.id), e.payload, events.Metadata{OccurredAt: at(0)})
	}
	r := env.Runner("read.db", accounts.New(failingOpener{}))
	if err := projectiontest.Await(r, accounts.Name, env.Head); err == nil {
		t.Fatal("the projection went past a text it could not open")
	}
}
