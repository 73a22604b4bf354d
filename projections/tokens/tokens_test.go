package tokens_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/oauth"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
	"github.com/hanse-network/hanse/projections/tokens"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

type given struct {
	stream  string
	payload any
}

func app(id, name string) given {
	return given{oauth.AppStream(id), oauth.AppRegistered{ClientID: id, Name: name, Website: "https://" + id + ".example",
		RedirectURIs: []string{oauth.OOB}, Scopes: []string{"read"}, SecretHash: "s"}}
}

func issued(id, client, accountID, name string, expires *time.Time) given {
	return given{oauth.TokenStream("h" + id), oauth.TokenIssued{TokenID: id, TokenHash: "h" + id, ClientID: client,
		AccountID: accountID, Name: name, Scopes: []string{"read", "write:statuses"}, ExpiresAt: expires}}
}

func revoked(id string) given {
	return given{oauth.TokenStream("h" + id), oauth.TokenRevoked{TokenID: id, Reason: oauth.RevokedByOwner}}
}

func erased(accountID string) given {
	return given{account.Stream(accountID), account.Erased{Reason: "self"}}
}

// project appends evs (event i occurs at at(i)) and an unrelated event,
// runs the projection to the head and returns its reader and runner.
func project(t *testing.T, evs ...given) (tokens.Reader, *projections.Runner, []events.Position) {
	t.Helper()
	env := projectiontest.Open(t)
	oauth.Register(env.Registry)
	account.Register(env.Registry)
	var positions []events.Position
	for i, e := range evs {
		positions = append(positions, env.Record(e.stream, e.payload, events.Metadata{OccurredAt: at(i)}))
	}
	env.AppendUnrelated()
	r := env.Start(tokens.New())
	return tokens.NewReader(r.DB()), r, positions
}

func ids(ts []tokens.Token) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestTokensGivenEventsThenReader(t *testing.T) {
	exp := at(3600)
	cases := []struct {
		name  string
		given []given
		a1    []string // a1's live tokens, newest first
		a2    []string
	}{
		{name: "nothing", a1: []string{}, a2: []string{}},
		{name: "personal and application tokens",
			given: []given{app("c1", "Tusky"), issued("t1", "c1", "a1", "", nil), issued("t2", "", "a1", "CLI", &exp),
				issued("t3", "c1", "a2", "", nil), issued("t4", "c1", "", "", nil)},
			a1: []string{"t2", "t1"}, a2: []string{"t3"}},
		{name: "revoked tokens drop out",
			given: []given{issued("t1", "", "a1", "x", nil), issued("t2", "", "a1", "y", nil), revoked("t1")},
			a1:    []string{"t2"}, a2: []string{}},
		{name: "an erased account's tokens are deleted",
			given: []given{issued("t1", "", "a1", "x", nil), issued("t2", "", "a2", "y", nil), erased("a1"), issued("t3", "", "a1", "z", nil)},
			a1:    []string{"t3"}, a2: []string{"t2"}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _, _ := project(t, tc.given...)
			for acct, want := range map[string][]string{"a1": tc.a1, "a2": tc.a2} {
				got, err := q.ByAccount(ctx, acct, 10)
				if err != nil || !reflect.DeepEqual(ids(got), want) {
					t.Fatalf("ByAccount(%s) = %v, %v; want %v", acct, ids(got), err, want)
				}
			}
		})
	}
}

func TestTokensByID(t *testing.T) {
	exp := at(3600)
	q, _, pos := project(t, app("c1", "Tusky"), issued("t1", "c1", "a1", "", nil), issued("t2", "", "a1", "CLI", &exp), revoked("t1"))
	ctx := context.Background()
	got, err := q.ByID(ctx, "t2")
	want := tokens.Token{ID: "t2", Hash: "ht2", AccountID: "a1", Name: "CLI", Scopes: []string{"read", "write:statuses"},
		CreatedAt: at(2), ExpiresAt: exp, Position: pos[2]}
	if err != nil || !reflect.DeepEqual(got, want) || !got.Personal() {
		t.Fatalf("ByID(t2) = %+v, %v\nwant %+v", got, err, want)
	}
	if _, err := q.ByID(ctx, "t1"); !errors.Is(err, tokens.ErrNotFound) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := q.ByID(ctx, "nope"); !errors.Is(err, tokens.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := q.ByAccount(ctx, "a1", 0); err == nil {
		t.Error("limit 0 accepted")
	}
}

func TestTokensAppNamesAndLimit(t *testing.T) {
	evs := []given{app("c1", "Tusky"), app("c2", "Ivory")}
	for i, c := range []string{"c1", "c2", "c1", "", "c2"} {
		evs = append(evs, issued(string(rune('a'+i)), c, "a1", "", nil))
	}
	q, _, _ := project(t, evs...)
	got, err := q.ByAccount(context.Background(), "a1", 3)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range got {
		names = append(names, tk.ID+":"+tk.AppName+":"+tk.AppWebsite)
	}
	want := []string{"e:Ivory:https://c2.example", "d::", "c:Tusky:https://c1.example"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}

func TestTokensRebuildTwiceSameChecksum(t *testing.T) {
	exp := at(3600)
	_, r, _ := project(t, app("c1", "Tusky"), issued("t1", "c1", "a1", "", nil), issued("t2", "", "a1", "CLI", &exp),
		revoked("t1"), issued("t3", "", "a2", "x", nil), erased("a2"), issued("t4", "c1", "", "", nil))
	q := tokens.NewReader(r.DB())
	projectiontest.RebuildTwiceSameChecksum(t, r, tokens.Name, func(int) {
		got, err := q.ByAccount(context.Background(), "a1", 10)
		if err != nil || !reflect.DeepEqual(ids(got), []string{"t2"}) {
			t.Fatalf("after rebuild ByAccount(a1) = %v, %v", ids(got), err)
		}
		if got, _ := q.ByAccount(context.Background(), "a2", 10); len(got) != 0 {
			t.Fatalf("erased account's tokens back after rebuild: %v", ids(got))
		}
	})
}
