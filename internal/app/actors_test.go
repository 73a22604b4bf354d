package app_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/secrets"

	_ "modernc.org/sqlite"
)

var (
	testKeysOnce sync.Once
	testKeys     []*rsa.PrivateKey
)

// fixedKeys loads the precomputed test keys (RSA-2048 generation is too
// slow to run dozens of times per test run).
func fixedKeys(t testing.TB) []*rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for _, name := range []string{"test-key-1.pem", "test-key-2.pem"} {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				panic(err)
			}
			block, _ := pem.Decode(b)
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k.(*rsa.PrivateKey))
		}
	})
	return testKeys
}

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

type env struct {
	t     testing.TB
	ctx   context.Context
	store *sqlite.Store
	reg   *events.Registry
	ring  *secrets.Keyring
	a     *app.Actors
	made  atomic.Int64 // keys handed out
}

// newEnv opens a real embedded store in a temporary directory and the actor
// commands over it. Keys alternate between the two fixed test keys.
func newEnv(t testing.TB) *env {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ring, err := secrets.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), store: store, reg: events.NewRegistry(), ring: ring}
	keys := fixedKeys(t)
	e.a = app.NewActors(store, e.reg, ring, "hanse.example")
	e.a.Clock = func() time.Time { return t0 }
	e.a.Keys = func() (*rsa.PrivateKey, error) { return keys[(e.made.Add(1)-1)%2], nil }
	return e
}

// read returns the decoded payloads and envelopes of a stream (nil when it
// does not exist).
func (e *env) read(stream string) ([]any, []events.Envelope) {
	e.t.Helper()
	envs, err := e.store.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrInvalidStreamName) {
		return nil, nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out []any
	for _, env := range envs {
		p, err := e.reg.Decode(env)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, reflect.ValueOf(p).Elem().Interface())
	}
	return out, envs
}

func (e *env) state(id string) actor.State {
	e.t.Helper()
	payloads, _ := e.read(actor.Stream(id))
	s, err := actor.Fold(payloads...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// openKey opens an actor's sealed private key and checks that it is the
// PKCS#8 PEM of the key behind publicPEM.
func (e *env) openKey(id string, s actor.State) *rsa.PrivateKey {
	e.t.Helper()
	plain, err := e.ring.Open(s.SealedPrivateKey, actor.PrivateKeyAD(id))
	if err != nil {
		e.t.Fatalf("open private key of %s: %v", id, err)
	}
	block, _ := pem.Decode(plain)
	if block == nil || block.Type != "PRIVATE KEY" {
		e.t.Fatalf("sealed private key is not a PKCS#8 PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		e.t.Fatal(err)
	}
	pb, _ := pem.Decode([]byte(s.PublicKeyPEM))
	if pb == nil || pb.Type != "PUBLIC KEY" {
		e.t.Fatalf("public key is not an SPKI PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil {
		e.t.Fatal(err)
	}
	rk := k.(*rsa.PrivateKey)
	if !rk.PublicKey.Equal(pub) {
		e.t.Fatal("public key does not match the sealed private key")
	}
	if rk.N.BitLen() != 2048 {
		e.t.Fatalf("key has %d bits", rk.N.BitLen())
	}
	return rk
}

func person(username string) app.CreateActor {
	return app.CreateActor{Kind: actor.KindPerson, Username: username, Name: "Name of " + username, By: "admin-1"}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	res, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindGroup, Username: "Lernen_Koeln", Name: "Lernen in Köln",
		Summary: "Eine Lerngemeinschaft.", Discoverable: true, By: "admin-1", CorrelationID: "req-42"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.ParseUUID(res.ActorID); err != nil {
		t.Fatalf("actor id %q: %v", res.ActorID, err)
	}
	reserved, renvs := e.read(actor.UsernameStream("lernen_koeln"))
	if want := []any{actor.UsernameReserved{Username: "lernen_koeln", ActorID: res.ActorID}}; !reflect.DeepEqual(reserved, want) {
		t.Fatalf("username stream = %#v, want %#v", reserved, want)
	}
	payloads, envs := e.read(actor.Stream(res.ActorID))
	if len(payloads) != 1 || envs[0].Position != res.Position {
		t.Fatalf("actor stream: %d events, position %v; result position %d", len(payloads), envs, res.Position)
	}
	s := e.state(res.ActorID)
	want := actor.State{Exists: true, ID: res.ActorID, Kind: actor.KindGroup, Username: "lernen_koeln", Name: "Lernen in Köln",
		Summary: "Eine Lerngemeinschaft.", Discoverable: true, PublicKeyPEM: s.PublicKeyPEM, SealedPrivateKey: s.SealedPrivateKey, KeyGeneration: 1}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("state =\n%#v\nwant\n%#v", s, want)
	}
	e.openKey(res.ActorID, s)
	if _, err := e.ring.Open(s.SealedPrivateKey, actor.PrivateKeyAD("another-actor")); !errors.Is(err, secrets.ErrOpen) {
		t.Fatalf("sealed key opens for another actor: %v", err)
	}
	for _, env := range []events.Envelope{renvs[0], envs[0]} {
		m := env.Metadata
		if m.Actor != "admin-1" || m.CorrelationID != "req-42" || !m.OccurredAt.Equal(t0) || m.Origin != "hanse.example" || m.SchemaVersion != 1 {
			t.Fatalf("%s metadata = %+v", env.Type, m)
		}
	}
	if envs[0].Metadata.CausationID != renvs[0].ID.String() {
		t.Fatalf("created's causation %q, want the reservation %s", envs[0].Metadata.CausationID, renvs[0].ID)
	}

	// Without a correlation id both events still share a generated one.
	res2, err := e.a.Create(e.ctx, person("bob"))
	if err != nil {
		t.Fatal(err)
	}
	_, r2 := e.read(actor.UsernameStream("bob"))
	_, c2 := e.read(actor.Stream(res2.ActorID))
	if cid := r2[0].Metadata.CorrelationID; cid == "" || c2[0].Metadata.CorrelationID != cid {
		t.Fatalf("correlation ids %q / %q", cid, c2[0].Metadata.CorrelationID)
	}
}

func TestCreateRefuses(t *testing.T) {
	e := newEnv(t)
	if _, err := e.a.Create(e.ctx, person("alice")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cmd     app.CreateActor
		field   string // of a *app.ValidationError
		wantErr error
	}{
		{name: "taken username", cmd: person("alice"), wantErr: app.ErrUsernameTaken},
		{name: "taken username in another case", cmd: person("ALICE"), wantErr: app.ErrUsernameTaken},
		{name: "taken across kinds", cmd: app.CreateActor{Kind: actor.KindOrganization, Username: "Alice"}, wantErr: app.ErrUsernameTaken},
		{name: "reserved name", cmd: person("inbox"), field: "username"},
		{name: "bad character", cmd: person("al ice"), field: "username"},
		{name: "too long", cmd: person("abcdefghijabcdefghijabcdefghijk"), field: "username"},
		{name: "unknown kind", cmd: app.CreateActor{Kind: "Robot", Username: "robo"}, field: "kind"},
		{name: "Application", cmd: app.CreateActor{Kind: actor.KindApplication, Username: "bot"}, field: "kind"},
		{name: "long summary", cmd: app.CreateActor{Kind: actor.KindPerson, Username: "sum", Summary: string(make([]byte, 2001))}, field: "summary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.made.Load()
			_, err := e.a.Create(e.ctx, tc.cmd)
			if tc.field != "" {
				var ve *app.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a ValidationError on %q", err, tc.field)
				}
				if e.made.Load() != before {
					t.Fatal("a key was generated for an invalid command")
				}
				if p, _ := e.read(actor.UsernameStream(tc.cmd.Username)); p != nil {
					t.Fatal("an invalid command reserved its username")
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	head, _ := e.store.Head(e.ctx)
	if head != 2 {
		t.Fatalf("log head %d after refused commands, want 2", head)
	}
}

func TestCreateKeyGeneratorFailureWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.a.Keys = func() (*rsa.PrivateKey, error) { return nil, errors.New("entropy exhausted") }
	if _, err := e.a.Create(e.ctx, person("alice")); err == nil {
		t.Fatal("Create succeeded without a key")
	}
	if head, _ := e.store.Head(e.ctx); head != 0 {
		t.Fatalf("log head %d, want nothing written", head)
	}
}

// TestCreateRetryWithSameIDsIsIdempotent: a command retried with the same
// ids (its outcome unknown to the caller) neither fails nor duplicates.
func TestCreateRetryWithSameIDsIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ids := []events.UUID{events.NewUUID(), events.NewUUID(), events.NewUUID(), events.NewUUID()}
	sequence := func() func() events.UUID {
		i := 0
		return func() events.UUID { i++; return ids[i-1] }
	}
	e.a.NewID = sequence()
	first, err := e.a.Create(e.ctx, person("alice"))
	if err != nil {
		t.Fatal(err)
	}
	e.a.NewID = sequence()
	again, err := e.a.Create(e.ctx, person("alice"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again != first {
		t.Fatalf("retry = %+v, want %+v", again, first)
	}
	if head, _ := e.store.Head(e.ctx); head != 2 {
		t.Fatalf("log head %d after retry, want 2", head)
	}
}

func TestCreateCompletesOrphanedReservation(t *testing.T) {
	e := newEnv(t)
	reserve := func(username, id string) {
		ev, err := e.reg.NewEvent(events.NewUUID(), actor.UsernameReserved{Username: username, ActorID: id}, events.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Append(e.ctx, actor.UsernameStream(username), events.NoStream, ev); err != nil {
			t.Fatal(err)
		}
	}
	// A Create that died after its reservation.
	orphan := events.NewUUID().String()
	reserve("carol", orphan)
	res, err := e.a.Create(e.ctx, person("Carol"))
	if err != nil {
		t.Fatalf("Create over an orphaned reservation: %v", err)
	}
	if res.ActorID != orphan {
		t.Fatalf("actor id %s, want the reservation's %s", res.ActorID, orphan)
	}
	e.openKey(orphan, e.state(orphan)) // sealed for the adopted id
	if _, err := e.a.Create(e.ctx, person("carol")); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("second Create = %v, want ErrUsernameTaken", err)
	}
	// A deleted actor keeps its username.
	if _, err := e.a.Delete(e.ctx, orphan, "admin-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Create(e.ctx, person("carol")); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("Create of a deleted actor's username = %v, want ErrUsernameTaken", err)
	}
	// The instance actor's reservation is never lent to an ordinary actor.
	reserve("hanse", actor.InstanceID)
	if _, err := e.a.Create(e.ctx, person("hanse")); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("Create over the instance's reservation = %v, want ErrUsernameTaken", err)
	}
}

// TestCreateConcurrentSameUsername: of two Creates of one username racing,
// exactly one wins and the other gets ErrUsernameTaken. Many usernames are
// raced to meet different interleavings (including completion of a
// reservation whose actor is still being created).
func TestCreateConcurrentSameUsername(t *testing.T) {
	e := newEnv(t)
	const names, racers = 20, 2
	var wg sync.WaitGroup
	errs := make([][racers]error, names)
	ids := make([][racers]string, names)
	for n := range names {
		for r := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := e.a.Create(e.ctx, app.CreateActor{Kind: []actor.Kind{actor.KindPerson, actor.KindGroup}[r],
					Username: fmt.Sprintf("user_%d", n), By: fmt.Sprintf("racer-%d", r)})
				errs[n][r], ids[n][r] = err, res.ActorID
			}()
		}
	}
	wg.Wait()
	for n := range names {
		winners := 0
		var winner string
		var kind actor.Kind
		for r := range racers {
			switch err := errs[n][r]; {
			case err == nil:
				winners++
				winner, kind = ids[n][r], []actor.Kind{actor.KindPerson, actor.KindGroup}[r]
			case !errors.Is(err, app.ErrUsernameTaken):
				t.Fatalf("user_%d racer %d: %v", n, r, err)
			}
		}
		if winners != 1 {
			t.Fatalf("user_%d: %d winners (%v)", n, winners, errs[n])
		}
		reserved, _ := e.read(actor.UsernameStream(fmt.Sprintf("user_%d", n)))
		if len(reserved) != 1 || reserved[0].(actor.UsernameReserved).ActorID != winner {
			t.Fatalf("user_%d: reservation %#v, winner %s", n, reserved, winner)
		}
		s := e.state(winner)
		if s.Kind != kind || s.Username != fmt.Sprintf("user_%d", n) {
			t.Fatalf("user_%d: the winner's actor is %+v, want kind %s", n, s, kind)
		}
	}
}

func TestRotateKey(t *testing.T) {
	e := newEnv(t)
	res, err := e.a.Create(e.ctx, person("alice"))
	if err != nil {
		t.Fatal(err)
	}
	first := e.openKey(res.ActorID, e.state(res.ActorID))
	for gen := 2; gen <= 3; gen++ {
		pos, err := e.a.RotateKey(e.ctx, res.ActorID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		s := e.state(res.ActorID)
		if s.KeyGeneration != gen {
			t.Fatalf("generation %d, want %d", s.KeyGeneration, gen)
		}
		k := e.openKey(res.ActorID, s)
		if (gen == 2) == k.Equal(first) {
			t.Fatalf("generation %d: key not replaced as expected", gen)
		}
		_, envs := e.read(actor.Stream(res.ActorID))
		last := envs[len(envs)-1]
		if last.Position != pos || last.Type != actor.TypeKeyRotated || last.Metadata.Actor != "alice" || last.Metadata.Origin != "hanse.example" {
			t.Fatalf("last event %+v, position %d", last, pos)
		}
	}
}

func TestCommandsOnMissingOrDeletedActors(t *testing.T) {
	e := newEnv(t)
	res, err := e.a.Create(e.ctx, person("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Delete(e.ctx, res.ActorID, "admin-1"); err != nil {
		t.Fatal(err)
	}
	if !e.state(res.ActorID).Deleted {
		t.Fatal("not deleted")
	}
	if _, _, err := e.a.EnsureInstanceActor(e.ctx, "hanse.example"); err != nil {
		t.Fatal(err)
	}
	keysBefore := e.made.Load()
	missing := events.NewUUID().String()
	cases := []struct {
		name    string
		run     func() error
		wantErr error
		field   string
	}{
		{"rotate missing", func() error { _, err := e.a.RotateKey(e.ctx, missing, "x"); return err }, app.ErrActorNotFound, ""},
		{"delete missing", func() error { _, err := e.a.Delete(e.ctx, missing, "x"); return err }, app.ErrActorNotFound, ""},
		{"update missing", func() error {
			_, err := e.a.UpdateProfile(e.ctx, missing, actor.ProfileUpdated{}, "x")
			return err
		}, app.ErrActorNotFound, ""},
		{"rotate deleted", func() error { _, err := e.a.RotateKey(e.ctx, res.ActorID, "x"); return err }, app.ErrActorDeleted, ""},
		{"delete deleted", func() error { _, err := e.a.Delete(e.ctx, res.ActorID, "x"); return err }, app.ErrActorDeleted, ""},
		{"update deleted", func() error {
			name := "x"
			_, err := e.a.UpdateProfile(e.ctx, res.ActorID, actor.ProfileUpdated{Name: &name}, "x")
			return err
		}, app.ErrActorDeleted, ""},
		{"delete the instance actor", func() error { _, err := e.a.Delete(e.ctx, actor.InstanceID, "x"); return err }, nil, "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head, _ := e.store.Head(e.ctx)
			err := tc.run()
			if tc.field != "" {
				var ve *app.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a ValidationError on %q", err, tc.field)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if after, _ := e.store.Head(e.ctx); after != head {
				t.Fatal("a refused command wrote events")
			}
		})
	}
	if e.made.Load() != keysBefore {
		t.Fatal("keys were generated for refused rotations")
	}
}

func TestUpdateProfile(t *testing.T) {
	e := newEnv(t)
	res, err := e.a.Create(e.ctx, person("alice"))
	if err != nil {
		t.Fatal(err)
	}
	summary, yes := "Lernt Niederländisch.", true
	pos, err := e.a.UpdateProfile(e.ctx, res.ActorID, actor.ProfileUpdated{Summary: &summary, Discoverable: &yes}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	s := e.state(res.ActorID)
	if s.Summary != summary || !s.Discoverable || s.Name != "Name of alice" {
		t.Fatalf("state %+v", s)
	}
	again, err := e.a.UpdateProfile(e.ctx, res.ActorID, actor.ProfileUpdated{Summary: &summary}, "alice")
	if err != nil || again != pos {
		t.Fatalf("unchanged update = %d, %v; want %d (no new event)", again, err, pos)
	}
	long := string(make([]rune, 101))
	var ve *app.ValidationError
	if _, err := e.a.UpdateProfile(e.ctx, res.ActorID, actor.ProfileUpdated{Name: &long}, "alice"); !errors.As(err, &ve) || ve.Field != "name" {
		t.Fatalf("long name: %v", err)
	}
}

// conflictingStore appends a concurrent event to the actor stream before
// each of the first n appends to it, so that they meet a real
// wrong-expected-revision conflict.
type conflictingStore struct {
	events.Store
	reg    *events.Registry
	stream string
	n      atomic.Int32
}

func (s *conflictingStore) Append(ctx context.Context, stream string, expected events.ExpectedRevision, evs ...events.EventData) (events.AppendResult, error) {
	if stream == s.stream && s.n.Add(-1) >= 0 {
		name := fmt.Sprintf("concurrent %d", s.n.Load())
		ev, err := s.reg.NewEvent(events.NewUUID(), actor.ProfileUpdated{Name: &name}, events.Metadata{OccurredAt: t0})
		if err != nil {
			return events.AppendResult{}, err
		}
		if _, err := s.Store.Append(ctx, stream, events.StreamExists, ev); err != nil {
			return events.AppendResult{}, err
		}
	}
	return s.Store.Append(ctx, stream, expected, evs...)
}

func TestConflictsAreRetried(t *testing.T) {
	cases := []struct {
		conflicts int
		wantErr   error
	}{
		{0, nil},
		{1, nil},
		{app.MaxConflictRetries, nil},
		{app.MaxConflictRetries + 1, app.ErrConflict},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d conflicts", tc.conflicts), func(t *testing.T) {
			e := newEnv(t)
			res, err := e.a.Create(e.ctx, person("alice"))
			if err != nil {
				t.Fatal(err)
			}
			cs := &conflictingStore{Store: e.store, reg: e.reg, stream: actor.Stream(res.ActorID)}
			cs.n.Store(int32(tc.conflicts))
			e.a.Store = cs
			_, err = e.a.RotateKey(e.ctx, res.ActorID, "alice")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			s := e.state(res.ActorID)
			if tc.wantErr != nil {
				if !errors.Is(err, events.ErrWrongExpectedRevision) || s.KeyGeneration != 1 {
					t.Fatalf("gave up with %v, generation %d", err, s.KeyGeneration)
				}
				return
			}
			if s.KeyGeneration != 2 || s.Name != fmt.Sprintf("concurrent %d", 0) && tc.conflicts > 0 {
				t.Fatalf("state after %d conflicts: %+v", tc.conflicts, s)
			}
			payloads, _ := e.read(actor.Stream(res.ActorID))
			if len(payloads) != 2+tc.conflicts {
				t.Fatalf("%d events, want %d", len(payloads), 2+tc.conflicts)
			}
		})
	}
}

func TestEnsureInstanceActor(t *testing.T) {
	e := newEnv(t)
	id, pos, err := e.a.EnsureInstanceActor(e.ctx, "hanse.example")
	if err != nil {
		t.Fatal(err)
	}
	if id != actor.InstanceID || pos == 0 {
		t.Fatalf("EnsureInstanceActor = %q, %d", id, pos)
	}
	s := e.state(id)
	if s.Kind != actor.KindApplication || s.Username != "hanse.example" || !s.ManuallyApprovesFollowers {
		t.Fatalf("instance actor %+v", s)
	}
	e.openKey(id, s)
	// On every later start, even with another name: nothing new.
	for _, name := range []string{"hanse.example", "other.example"} {
		id2, pos2, err := e.a.EnsureInstanceActor(e.ctx, name)
		if err != nil || id2 != id || pos2 != pos {
			t.Fatalf("again(%s) = %q, %d, %v; want %q, %d", name, id2, pos2, err, id, pos)
		}
	}
	if head, _ := e.store.Head(e.ctx); head != 2 {
		t.Fatalf("log head %d, want 2", head)
	}
	if _, err := e.a.RotateKey(e.ctx, id, "admin-1"); err != nil {
		t.Fatalf("rotate the instance key: %v", err)
	}
}

func TestEnsureInstanceActorConcurrently(t *testing.T) {
	e := newEnv(t)
	const n = 6
	var wg sync.WaitGroup
	type result struct {
		id  string
		pos events.Position
		err error
	}
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, pos, err := e.a.EnsureInstanceActor(e.ctx, "hanse.example")
			results[i] = result{id, pos, err}
		}()
	}
	wg.Wait()
	payloads, envs := e.read(actor.Stream(actor.InstanceID))
	if len(payloads) != 1 {
		t.Fatalf("instance stream has %d events, want 1", len(payloads))
	}
	for i, r := range results {
		if r.err != nil || r.id != actor.InstanceID || r.pos != envs[0].Position {
			t.Fatalf("caller %d: %+v, want position %d", i, r, envs[0].Position)
		}
	}
	if reserved, _ := e.read(actor.UsernameStream("hanse.example")); len(reserved) != 1 {
		t.Fatalf("%d reservations", len(reserved))
	}
}

func TestEnsureInstanceActorUsernameTaken(t *testing.T) {
	e := newEnv(t)
	if _, err := e.a.Create(e.ctx, person("hanse")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.a.EnsureInstanceActor(e.ctx, "hanse"); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("err = %v, want ErrUsernameTaken", err)
	}
	var ve *app.ValidationError
	if _, _, err := e.a.EnsureInstanceActor(e.ctx, "bad host!"); !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
}
