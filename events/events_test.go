package events_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

func TestUUIDFormatAndParse(t *testing.T) {
	const text = "123e4567-e89b-42d3-a456-426614174000"
	u, err := events.ParseUUID(text)
	if err != nil {
		t.Fatalf("ParseUUID: %v", err)
	}
	if u.String() != text {
		t.Fatalf("String() = %s, want %s", u, text)
	}
	upper, err := events.ParseUUID(strings.ToUpper(text))
	if err != nil || upper != u {
		t.Fatalf("upper-case form parsed to %s, %v", upper, err)
	}
	bad := []string{
		"",
		"123e4567e89b42d3a456426614174000",
		"123e4567-e89b-42d3-a456-42661417400",
		"123e4567-e89b-42d3-a456-4266141740000",
		"123e4567+e89b-42d3-a456-426614174000",
		"123e4567-e89b-42d3-a456-42661417400g",
		"{123e4567-e89b-42d3-a456-426614174000}",
	}
	for _, s := range bad {
		if _, err := events.ParseUUID(s); !errors.Is(err, events.ErrInvalidUUID) {
			t.Errorf("ParseUUID(%q) = %v, want ErrInvalidUUID", s, err)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MustParseUUID of bad input did not panic")
			}
		}()
		events.MustParseUUID("nope")
	}()
	if events.MustParseUUID(text) != u {
		t.Error("MustParseUUID differs from ParseUUID")
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[events.UUID]bool{}
	before := time.Now().UnixMilli()
	var prevMillis int64
	for range 1000 {
		u := events.NewUUID()
		if u.IsZero() || seen[u] {
			t.Fatalf("NewUUID returned a zero or repeated id %s", u)
		}
		seen[u] = true
		if u[6]>>4 != 7 || u[8]>>6 != 2 {
			t.Fatalf("%s is not an RFC 9562 version 7 UUID", u)
		}
		millis := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
		if millis < before || millis > time.Now().UnixMilli() || millis < prevMillis {
			t.Fatalf("%s carries %d ms, want a non-decreasing time since %d", u, millis, before)
		}
		prevMillis = millis
		back, err := events.ParseUUID(u.String())
		if err != nil || back != u {
			t.Fatalf("round trip of %s gave %s, %v", u, back, err)
		}
	}
	if !events.NilUUID.IsZero() {
		t.Error("NilUUID is not zero")
	}
}

func TestUUIDText(t *testing.T) {
	type doc struct {
		ID events.UUID `json:"id"`
	}
	in := doc{ID: events.NewUUID()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"id":"%s"}`, in.ID); string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("JSON round trip %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"x"}`), &out); !errors.Is(err, events.ErrInvalidUUID) {
		t.Fatalf("decoding a bad id: %v", err)
	}
}

func TestExpectedRevisionSatisfies(t *testing.T) {
	absent := events.StreamState{}
	at0 := events.StreamState{Exists: true, Revision: 0}
	at5 := events.StreamState{Exists: true, Revision: 5}
	cases := []struct {
		exp  events.ExpectedRevision
		st   events.StreamState
		want bool
	}{
		{events.Any, absent, true},
		{events.Any, at0, true},
		{events.Any, at5, true},
		{events.NoStream, absent, true},
		{events.NoStream, at0, false},
		{events.NoStream, at5, false},
		{events.StreamExists, absent, false},
		{events.StreamExists, at0, true},
		{events.StreamExists, at5, true},
		{events.Exact(0), absent, false},
		{events.Exact(0), at0, true},
		{events.Exact(0), at5, false},
		{events.Exact(5), at5, true},
		{events.Exact(4), at5, false},
		{events.Exact(6), at5, false},
		{events.ExpectedRevision{}, absent, false},
		{events.ExpectedRevision{}, at5, false},
	}
	for _, tc := range cases {
		if got := tc.exp.Satisfies(tc.st); got != tc.want {
			t.Errorf("%s.Satisfies(%s) = %v, want %v", tc.exp, tc.st, got, tc.want)
		}
	}
}

func TestExpectedRevisionForms(t *testing.T) {
	cases := []struct {
		exp                      events.ExpectedRevision
		str                      string
		valid, any, none, exists bool
		exact                    uint64
		isExact                  bool
	}{
		{events.Any, "any", true, true, false, false, 0, false},
		{events.NoStream, "no-stream", true, false, true, false, 0, false},
		{events.StreamExists, "stream-exists", true, false, false, true, 0, false},
		{events.Exact(42), "42", true, false, false, false, 42, true},
		{events.Exact(0), "0", true, false, false, false, 0, true},
		{events.ExpectedRevision{}, "invalid", false, false, false, false, 0, false},
	}
	for _, tc := range cases {
		rev, isExact := tc.exp.ExactRevision()
		if tc.exp.String() != tc.str || tc.exp.Valid() != tc.valid || tc.exp.IsAny() != tc.any ||
			tc.exp.IsNoStream() != tc.none || tc.exp.IsStreamExists() != tc.exists ||
			rev != tc.exact || isExact != tc.isExact {
			t.Errorf("%s: forms do not match %+v", tc.exp, tc)
		}
	}
	if s := (events.StreamState{}).String(); s != "no-stream" {
		t.Errorf("absent state renders %q", s)
	}
	if s := (events.StreamState{Exists: true, Revision: 7}).String(); s != "7" {
		t.Errorf("state at 7 renders %q", s)
	}
}

func TestValidateNames(t *testing.T) {
	streams := []struct {
		name string
		ok   bool
	}{
		{"community-42", true},
		{"remote-https://example.org/users/alice", true},
		{"gemeinde-köln", true},
		{strings.Repeat("a", events.MaxStreamNameBytes), true},
		{strings.Repeat("a", events.MaxStreamNameBytes+1), false},
		{"", false},
		{"$all", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\u00a0b", false},
		{"a\x7fb", false},
		{"a\xffb", false},
	}
	for _, tc := range streams {
		err := events.ValidateStreamName(tc.name)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, events.ErrInvalidStreamName)) {
			t.Errorf("ValidateStreamName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	types := []struct {
		name string
		ok   bool
	}{
		{"community.member_joined", true},
		{"post.published-v2", true},
		{"a", true},
		{"a" + strings.Repeat("b", events.MaxTypeNameBytes-1), true},
		{"a" + strings.Repeat("b", events.MaxTypeNameBytes), false},
		{"", false},
		{"Community.joined", false},
		{"1community", false},
		{".community", false},
		{"$stream-deleted", false},
		{"community joined", false},
		{"community/joined", false},
		{"gemeinde.beigetreten_ö", false},
	}
	for _, tc := range types {
		err := events.ValidateTypeName(tc.name)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, events.ErrInvalidEvent)) {
			t.Errorf("ValidateTypeName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// sized returns an event whose Size is exactly n.
func sized(t *testing.T, n int) events.EventData {
	t.Helper()
	e := events.EventData{ID: events.NewUUID(), Type: "blob.stored"}
	e.Data = make([]byte, n-e.Size())
	if e.Size() != n {
		t.Fatalf("built %d bytes, want %d", e.Size(), n)
	}
	return e
}

func TestValidateAppend(t *testing.T) {
	ok := func() events.EventData {
		return events.EventData{ID: events.NewUUID(), Type: "thing.happened", Data: []byte(`{}`)}
	}
	dup := ok()
	noID := ok()
	noID.ID = events.NilUUID
	badType := ok()
	badType.Type = "Thing"
	many := func(n int) []events.EventData {
		out := make([]events.EventData, n)
		for i := range out {
			out[i] = ok()
		}
		return out
	}
	cases := []struct {
		name   string
		stream string
		exp    events.ExpectedRevision
		evs    []events.EventData
		want   error
	}{
		{"valid", "thing-1", events.Any, many(3), nil},
		{"bad stream", "$thing", events.Any, many(1), events.ErrInvalidStreamName},
		{"zero expected", "thing-1", events.ExpectedRevision{}, many(1), events.ErrInvalidExpectedRevision},
		{"no events", "thing-1", events.NoStream, nil, events.ErrEmptyAppend},
		{"max events", "thing-1", events.Any, many(events.MaxAppendEvents), nil},
		{"too many events", "thing-1", events.Any, many(events.MaxAppendEvents + 1), events.ErrAppendTooLarge},
		{"nil id", "thing-1", events.Any, []events.EventData{noID}, events.ErrInvalidEvent},
		{"duplicate id", "thing-1", events.Any, []events.EventData{dup, dup}, events.ErrInvalidEvent},
		{"bad type", "thing-1", events.Any, []events.EventData{ok(), badType}, events.ErrInvalidEvent},
		{"event at the limit", "thing-1", events.Exact(3), []events.EventData{sized(t, events.MaxEventBytes)}, nil},
		{"event over the limit", "thing-1", events.Any, []events.EventData{sized(t, events.MaxEventBytes+1)}, events.ErrEventTooLarge},
		{"append at the limit", "thing-1", events.Any, []events.EventData{sized(t, events.MaxAppendBytes/2), sized(t, events.MaxAppendBytes/2)}, nil},
		{"append over the limit", "thing-1", events.Any, []events.EventData{sized(t, events.MaxAppendBytes/2), sized(t, events.MaxAppendBytes/2+1)}, events.ErrAppendTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := events.ValidateAppend(tc.stream, tc.exp, tc.evs)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ValidateAppend = %v, want %v", err, tc.want)
			}
		})
	}
	if err := events.ValidateDelete("thing-1", events.Any); err != nil {
		t.Errorf("ValidateDelete: %v", err)
	}
	if err := events.ValidateDelete("", events.Any); !errors.Is(err, events.ErrInvalidStreamName) {
		t.Errorf("ValidateDelete of empty name: %v", err)
	}
	if err := events.ValidateDelete("thing-1", events.ExpectedRevision{}); !errors.Is(err, events.ErrInvalidExpectedRevision) {
		t.Errorf("ValidateDelete with zero expected revision: %v", err)
	}
}

func TestWrongExpectedRevisionError(t *testing.T) {
	actual := events.StreamState{Exists: true, Revision: 3}
	err := fmt.Errorf("handler: %w", &events.WrongExpectedRevisionError{Stream: "s-1", Expected: events.Exact(2), Actual: actual})
	if !errors.Is(err, events.ErrWrongExpectedRevision) {
		t.Fatal("wrapped error does not match ErrWrongExpectedRevision")
	}
	if errors.Is(err, events.ErrStreamDeleted) {
		t.Fatal("error matches an unrelated sentinel")
	}
	got, ok := events.ActualRevision(err)
	if !ok || got != actual {
		t.Fatalf("ActualRevision = %v, %v", got, ok)
	}
	if _, ok := events.ActualRevision(events.ErrStreamDeleted); ok {
		t.Fatal("ActualRevision found a state in an unrelated error")
	}
	if msg := err.Error(); !strings.Contains(msg, `"s-1"`) || !strings.Contains(msg, "expected 2, actual 3") {
		t.Fatalf("message %q", msg)
	}
}

func TestMetadataEncoding(t *testing.T) {
	m := events.Metadata{
		CorrelationID: "c", CausationID: "k", Actor: "acct:a@b", Origin: "b",
		OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), SchemaVersion: 2,
	}
	b, err := events.EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"$correlationId":"c"`, `"$causationId":"k"`, `"schemaVersion":2`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("encoded metadata %s lacks %s", b, key)
		}
	}
	back, err := events.DecodeMetadata(b)
	if err != nil || back != m {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	if zero, err := events.DecodeMetadata(nil); err != nil || zero != (events.Metadata{}) {
		t.Fatalf("empty metadata decoded to %+v, %v", zero, err)
	}
	if _, err := events.DecodeMetadata([]byte("{")); err == nil {
		t.Fatal("bad metadata decoded")
	}
	e := events.EventData{Type: "a.b", Data: []byte("12345"), Metadata: m}
	if want := 5 + 3 + len(b); e.Size() != want {
		t.Fatalf("Size = %d, want %d", e.Size(), want)
	}
}

type joinedV3 struct {
	Member string `json:"member"`
	Role   string `json:"role"`
	Since  int    `json:"since"`
}

type left struct {
	Member string `json:"member"`
}

func testRegistry(t *testing.T) *events.Registry {
	t.Helper()
	r := events.NewRegistry()
	events.Register[joinedV3](r, "community.member_joined", 3, map[int]events.Upcaster{
		1: func(b []byte) ([]byte, error) { // v1 called the member "user"
			var v1 map[string]any
			if err := json.Unmarshal(b, &v1); err != nil {
				return nil, err
			}
			return json.Marshal(map[string]any{"member": v1["user"]})
		},
		2: func(b []byte) ([]byte, error) { // v3 added a role
			var v2 map[string]any
			if err := json.Unmarshal(b, &v2); err != nil {
				return nil, err
			}
			v2["role"] = "member"
			return json.Marshal(v2)
		},
	})
	events.Register[left](r, "community.member_left", 1, nil)
	return r
}

func TestRegistryEncodeDecode(t *testing.T) {
	r := testRegistry(t)
	if got := r.Names(); fmt.Sprint(got) != "[community.member_joined community.member_left]" {
		t.Fatalf("Names = %v", got)
	}
	if !r.Known("community.member_left") || r.Known("community.member_banned") {
		t.Fatal("Known is wrong")
	}
	id := events.NewUUID()
	for _, payload := range []any{joinedV3{Member: "alice", Role: "admin", Since: 7}, &joinedV3{Member: "alice", Role: "admin", Since: 7}} {
		ev, err := r.NewEvent(id, payload, events.Metadata{Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != "community.member_joined" || ev.Metadata.SchemaVersion != 3 || ev.ID != id || ev.Metadata.Actor != "alice" {
			t.Fatalf("NewEvent = %+v", ev)
		}
		got, err := r.Decode(events.Envelope{Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata})
		if err != nil {
			t.Fatal(err)
		}
		if *got.(*joinedV3) != (joinedV3{Member: "alice", Role: "admin", Since: 7}) {
			t.Fatalf("decoded %+v", got)
		}
	}
	if _, err := r.NewEvent(id, struct{ X int }{}, events.Metadata{}); !errors.Is(err, events.ErrUnknownEventType) {
		t.Fatalf("NewEvent of an unregistered type: %v", err)
	}
	if _, err := r.NewEvent(id, nil, events.Metadata{}); !errors.Is(err, events.ErrUnknownEventType) {
		t.Fatalf("NewEvent of nil: %v", err)
	}
}

func TestRegistryUpcast(t *testing.T) {
	r := testRegistry(t)
	cases := []struct {
		name    string
		env     events.Envelope
		want    joinedV3
		wantErr string
	}{
		{"v1 without version", events.Envelope{Type: "community.member_joined", Data: []byte(`{"user":"bob"}`)},
			joinedV3{Member: "bob", Role: "member"}, ""},
		{"v1", events.Envelope{Type: "community.member_joined", Data: []byte(`{"user":"bob"}`), Metadata: events.Metadata{SchemaVersion: 1}},
			joinedV3{Member: "bob", Role: "member"}, ""},
		{"v2", events.Envelope{Type: "community.member_joined", Data: []byte(`{"member":"carl","since":3}`), Metadata: events.Metadata{SchemaVersion: 2}},
			joinedV3{Member: "carl", Role: "member", Since: 3}, ""},
		{"v3", events.Envelope{Type: "community.member_joined", Data: []byte(`{"member":"dora","role":"admin"}`), Metadata: events.Metadata{SchemaVersion: 3}},
			joinedV3{Member: "dora", Role: "admin"}, ""},
		{"newer than build", events.Envelope{Type: "community.member_joined", Data: []byte(`{}`), Metadata: events.Metadata{SchemaVersion: 4}},
			joinedV3{}, "newer than this build"},
		{"upcaster fails", events.Envelope{Type: "community.member_joined", Data: []byte(`not json`), Metadata: events.Metadata{SchemaVersion: 1}},
			joinedV3{}, "upcast"},
		{"payload does not decode", events.Envelope{Type: "community.member_joined", Data: []byte(`{"member":5}`), Metadata: events.Metadata{SchemaVersion: 3}},
			joinedV3{}, "decode"},
		{"unknown type", events.Envelope{Type: "community.member_banned", Data: []byte(`{}`)},
			joinedV3{}, "unknown event type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Decode(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Decode error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got.(*joinedV3) != tc.want {
				t.Fatalf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := r.Decode(events.Envelope{Type: "nope.x"}); !errors.Is(err, events.ErrUnknownEventType) {
		t.Fatalf("unknown type error %v does not match ErrUnknownEventType", err)
	}
}

func TestRegisterMisuse(t *testing.T) {
	type a struct{}
	type b struct{}
	cases := []struct {
		name string
		fn   func(r *events.Registry)
	}{
		{"invalid name", func(r *events.Registry) { events.Register[a](r, "Bad Name", 1, nil) }},
		{"version zero", func(r *events.Registry) { events.Register[a](r, "a.x", 0, nil) }},
		{"missing upcaster", func(r *events.Registry) { events.Register[a](r, "a.x", 3, map[int]events.Upcaster{1: nil, 2: nil}) }},
		{"name twice", func(r *events.Registry) {
			events.Register[a](r, "a.x", 1, nil)
			events.Register[b](r, "a.x", 1, nil)
		}},
		{"Go type twice", func(r *events.Registry) {
			events.Register[a](r, "a.x", 1, nil)
			events.Register[a](r, "a.y", 1, nil)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			tc.fn(events.NewRegistry())
		})
	}
}

func TestDerivedUUID(t *testing.T) {
	a := events.DerivedUUID("inbox", "https://mastodon.example/users/a/statuses/1/activity")
	if a != events.DerivedUUID("inbox", "https://mastodon.example/users/a/statuses/1/activity") {
		t.Fatal("DerivedUUID is not deterministic")
	}
	if a[6]>>4 != 8 || a[8]>>6 != 2 {
		t.Fatalf("%s is not an RFC 9562 version 8 UUID", a)
	}
	for _, other := range []events.UUID{
		events.DerivedUUID("inbox", "https://mastodon.example/users/a/statuses/2/activity"),
		events.DerivedUUID("inbo", "xhttps://mastodon.example/users/a/statuses/1/activity"),
		events.DerivedUUID("inbox"),
	} {
		if other == a {
			t.Fatalf("different parts gave the same id %s", a)
		}
	}
}
