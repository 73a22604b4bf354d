package actor_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

const pub1 = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
const pub2 = "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n"

func ptr[T any](v T) *T { return &v }

var created = actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Alice",
	PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1"), KeyGeneration: 1}

func newActor(mod func(*actor.NewActor)) actor.NewActor {
	in := actor.NewActor{ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Alice",
		PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1")}
	if mod != nil {
		mod(&in)
	}
	return in
}

// when is a command: it decides against the folded state and returns the
// events (zero or one payload) or an error.
type when func(actor.State) ([]any, error)

func create(in actor.NewActor) when {
	return func(s actor.State) ([]any, error) {
		ev, err := actor.Create(s, in)
		return one(ev, err)
	}
}

func update(p actor.ProfileUpdated) when {
	return func(s actor.State) ([]any, error) {
		ev, changed, err := actor.UpdateProfile(s, p)
		if err != nil || !changed {
			return nil, err
		}
		return []any{ev}, nil
	}
}

func rotate(pub string, sealed string) when {
	return func(s actor.State) ([]any, error) {
		ev, err := actor.RotateKey(s, pub, []byte(sealed))
		return one(ev, err)
	}
}

func del(reason string) when {
	return func(s actor.State) ([]any, error) {
		ev, err := actor.Delete(s, reason)
		return one(ev, err)
	}
}

func one(ev any, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{ev}, nil
}

func TestDecide(t *testing.T) {
	deleted := actor.Deleted{Reason: "gone"}
	rotated := actor.KeyRotated{PublicKeyPEM: pub2, SealedPrivateKey: []byte("sealed2"), KeyGeneration: 2}
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
		field   string // of a *FieldError
	}{
		{name: "create person", when: create(newActor(nil)), then: []any{created}},
		{name: "create normalizes the username", when: create(newActor(func(a *actor.NewActor) { a.Username = "Alice" })),
			then: []any{created}},
		{name: "create group with full profile", when: create(newActor(func(a *actor.NewActor) {
			a.Kind, a.Username, a.Summary, a.ManuallyApprovesFollowers, a.Discoverable = actor.KindGroup, "lernen_koeln", "Wir lernen.\nZusammen.", true, true
		})), then: []any{actor.Created{ActorID: "a1", Kind: actor.KindGroup, Username: "lernen_koeln", Name: "Alice",
			Summary: "Wir lernen.\nZusammen.", ManuallyApprovesFollowers: true, Discoverable: true,
			PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1"), KeyGeneration: 1}}},
		{name: "username of 30 chars", when: create(newActor(func(a *actor.NewActor) { a.Username = strings.Repeat("a", 30) })),
			then: []any{func() actor.Created { c := created; c.Username = strings.Repeat("a", 30); return c }()}},
		{name: "username starting with a digit", when: create(newActor(func(a *actor.NewActor) { a.Username = "1st_place" })),
			then: []any{func() actor.Created { c := created; c.Username = "1st_place"; return c }()}},
		{name: "username of 31 chars", when: create(newActor(func(a *actor.NewActor) { a.Username = strings.Repeat("a", 31) })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "empty username", when: create(newActor(func(a *actor.NewActor) { a.Username = "" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "username starting with underscore", when: create(newActor(func(a *actor.NewActor) { a.Username = "_alice" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "username with a dot", when: create(newActor(func(a *actor.NewActor) { a.Username = "a.b" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "username with a dash", when: create(newActor(func(a *actor.NewActor) { a.Username = "well-known" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "username with non-ASCII letter", when: create(newActor(func(a *actor.NewActor) { a.Username = "jürgen" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "reserved username", when: create(newActor(func(a *actor.NewActor) { a.Username = "admin" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "reserved username in upper case", when: create(newActor(func(a *actor.NewActor) { a.Username = "NodeInfo" })),
			wantErr: actor.ErrInvalid, field: "username"},
		{name: "name of 100 characters", when: create(newActor(func(a *actor.NewActor) { a.Name = strings.Repeat("ü", 100) })),
			then: []any{func() actor.Created { c := created; c.Name = strings.Repeat("ü", 100); return c }()}},
		{name: "name of 101 characters", when: create(newActor(func(a *actor.NewActor) { a.Name = strings.Repeat("a", 101) })),
			wantErr: actor.ErrInvalid, field: "name"},
		{name: "name with a newline", when: create(newActor(func(a *actor.NewActor) { a.Name = "a\nb" })),
			wantErr: actor.ErrInvalid, field: "name"},
		{name: "summary of 2001 characters", when: create(newActor(func(a *actor.NewActor) { a.Summary = strings.Repeat("a", 2001) })),
			wantErr: actor.ErrInvalid, field: "summary"},
		{name: "unknown kind", when: create(newActor(func(a *actor.NewActor) { a.Kind = "Service" })),
			wantErr: actor.ErrInvalid, field: "kind"},
		{name: "Application other than the instance actor", when: create(newActor(func(a *actor.NewActor) { a.Kind = actor.KindApplication })),
			wantErr: actor.ErrInvalid, field: "kind"},
		{name: "instance actor that is no Application", when: create(newActor(func(a *actor.NewActor) { a.ID = actor.InstanceID })),
			wantErr: actor.ErrInvalid, field: "kind"},
		{name: "instance actor named after the host", when: create(newActor(func(a *actor.NewActor) {
			a.ID, a.Kind, a.Username, a.Name = actor.InstanceID, actor.KindApplication, "Hanse.Example", ""
		})), then: []any{actor.Created{ActorID: actor.InstanceID, Kind: actor.KindApplication, Username: "hanse.example",
			PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1"), KeyGeneration: 1}}},
		{name: "instance actor may take a reserved name", when: create(newActor(func(a *actor.NewActor) {
			a.ID, a.Kind, a.Username = actor.InstanceID, actor.KindApplication, "actor"
		})), then: []any{actor.Created{ActorID: actor.InstanceID, Kind: actor.KindApplication, Username: "actor", Name: "Alice",
			PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1"), KeyGeneration: 1}}},
		{name: "instance actor username ending in a dot", when: create(newActor(func(a *actor.NewActor) {
			a.ID, a.Kind, a.Username = actor.InstanceID, actor.KindApplication, "hanse.example."
		})), wantErr: actor.ErrInvalid, field: "username"},
		{name: "missing public key", when: create(newActor(func(a *actor.NewActor) { a.PublicKeyPEM = "" })),
			wantErr: actor.ErrInvalid, field: "publicKeyPem"},
		{name: "missing sealed private key", when: create(newActor(func(a *actor.NewActor) { a.SealedPrivateKey = nil })),
			wantErr: actor.ErrInvalid, field: "sealedPrivateKey"},
		{name: "create twice", given: []any{created}, when: create(newActor(nil)), wantErr: actor.ErrAlreadyExists},

		{name: "update name", given: []any{created}, when: update(actor.ProfileUpdated{Name: ptr("Alice B.")}),
			then: []any{actor.ProfileUpdated{Name: ptr("Alice B.")}}},
		{name: "update drops unchanged fields", given: []any{created},
			when: update(actor.ProfileUpdated{Name: ptr("Alice"), Summary: ptr("Hi"), Discoverable: ptr(false), ManuallyApprovesFollowers: ptr(true)}),
			then: []any{actor.ProfileUpdated{Summary: ptr("Hi"), ManuallyApprovesFollowers: ptr(true)}}},
		{name: "update without change gives no event", given: []any{created, actor.ProfileUpdated{Summary: ptr("Hi")}},
			when: update(actor.ProfileUpdated{Name: ptr("Alice"), Summary: ptr("Hi")})},
		{name: "update with too long summary", given: []any{created},
			when: update(actor.ProfileUpdated{Summary: ptr(strings.Repeat("x", 2001))}), wantErr: actor.ErrInvalid, field: "summary"},
		{name: "update unknown actor", when: update(actor.ProfileUpdated{Name: ptr("x")}), wantErr: actor.ErrNotFound},
		{name: "update deleted actor", given: []any{created, deleted}, when: update(actor.ProfileUpdated{Name: ptr("x")}),
			wantErr: actor.ErrDeleted},

		{name: "rotate key", given: []any{created}, when: rotate(pub2, "sealed2"), then: []any{rotated}},
		{name: "rotate key twice counts generations", given: []any{created, rotated}, when: rotate(pub1, "sealed3"),
			then: []any{actor.KeyRotated{PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed3"), KeyGeneration: 3}}},
		{name: "rotate to an empty key", given: []any{created}, when: rotate("", "sealed2"), wantErr: actor.ErrInvalid, field: "publicKeyPem"},
		{name: "rotate unknown actor", when: rotate(pub2, "sealed2"), wantErr: actor.ErrNotFound},
		{name: "rotate deleted actor", given: []any{created, deleted}, when: rotate(pub2, "sealed2"), wantErr: actor.ErrDeleted},

		{name: "delete", given: []any{created, rotated}, when: del("gone"), then: []any{deleted}},
		{name: "delete twice", given: []any{created, deleted}, when: del("again"), wantErr: actor.ErrDeleted},
		{name: "delete unknown actor", when: del(""), wantErr: actor.ErrNotFound},
		{name: "delete the instance actor", given: []any{actor.Created{ActorID: actor.InstanceID, Kind: actor.KindApplication,
			Username: "hanse.example", PublicKeyPEM: pub1, SealedPrivateKey: []byte("s"), KeyGeneration: 1}},
			when: del(""), wantErr: actor.ErrInvalid, field: "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := actor.Fold(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.field != "" {
				var fe *actor.FieldError
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
		want    actor.State
		wantErr bool
	}{
		{name: "nothing", want: actor.State{}},
		{name: "created, as pointers from the registry", given: []any{&created},
			want: actor.State{Exists: true, ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Alice",
				PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed1"), KeyGeneration: 1}},
		{name: "full history", given: []any{created,
			&actor.ProfileUpdated{Summary: ptr("Hi"), Discoverable: ptr(true)},
			actor.ProfileUpdated{Name: ptr("Al"), ManuallyApprovesFollowers: ptr(true)},
			actor.KeyRotated{PublicKeyPEM: pub2, SealedPrivateKey: []byte("s2"), KeyGeneration: 2},
			&actor.Deleted{}},
			want: actor.State{Exists: true, ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Al", Summary: "Hi",
				ManuallyApprovesFollowers: true, Discoverable: true, PublicKeyPEM: pub2, SealedPrivateKey: []byte("s2"),
				KeyGeneration: 2, Deleted: true}},
		{name: "created twice", given: []any{created, created}, wantErr: true},
		{name: "update before create", given: []any{actor.ProfileUpdated{}}, wantErr: true},
		{name: "rotation before create", given: []any{actor.KeyRotated{}}, wantErr: true},
		{name: "deletion before create", given: []any{actor.Deleted{}}, wantErr: true},
		{name: "foreign payload", given: []any{created, "x"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := actor.Fold(tc.given...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("state =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

func TestReserveUsername(t *testing.T) {
	cases := []struct {
		kind     actor.Kind
		username string
		id       string
		want     actor.UsernameReserved
		wantErr  bool
	}{
		{actor.KindPerson, "Bob", "b1", actor.UsernameReserved{Username: "bob", ActorID: "b1"}, false},
		{actor.KindApplication, "hanse.example", actor.InstanceID, actor.UsernameReserved{Username: "hanse.example", ActorID: actor.InstanceID}, false},
		{actor.KindPerson, "api", "b1", actor.UsernameReserved{}, true},
		{actor.KindPerson, "bob", "", actor.UsernameReserved{}, true},
	}
	for _, tc := range cases {
		got, err := actor.ReserveUsername(tc.kind, tc.username, tc.id)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ReserveUsername(%s, %q, %q) = %+v, %v", tc.kind, tc.username, tc.id, got, err)
		}
	}
}

// TestRoundTripThroughRegistry checks that every payload survives the
// registry's JSON encoding unchanged (the stored form of the events).
func TestRoundTripThroughRegistry(t *testing.T) {
	r := events.NewRegistry()
	actor.Register(r)
	for _, p := range []any{created, actor.ProfileUpdated{Name: ptr(""), Discoverable: ptr(false)},
		actor.KeyRotated{PublicKeyPEM: pub2, SealedPrivateKey: []byte{0, 1, 255}, KeyGeneration: 7},
		actor.Deleted{Reason: "r"}, actor.UsernameReserved{Username: "u", ActorID: "i"}} {
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

func TestStreams(t *testing.T) {
	if got := actor.Stream(actor.InstanceID); got != "actor-instance" {
		t.Errorf("Stream = %q", got)
	}
	if got := actor.UsernameStream("Alice"); got != "username-alice" {
		t.Errorf("UsernameStream = %q", got)
	}
	for _, s := range []string{actor.Stream("0190a8e2-0000-7000-8000-000000000000"), actor.UsernameStream("hanse.example")} {
		if err := events.ValidateStreamName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
