package community_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/community"
)

func f(v float64) *float64 { return &v }

func newCommunity() community.NewCommunity {
	return community.NewCommunity{ID: "c1", Username: "Lernen", Name: " Lernen am See ", Description: "Wir lernen.",
		Topics: []string{"#Bienen", "imkern", "bienen"}, Languages: []string{"de", "PT-br"},
		Location: &community.Location{City: " Lübeck ", Country: "de", Latitude: f(53.87), Longitude: f(10.69)},
		Policy:   community.Approval, Visibility: community.Public, OwnerID: "alice"}
}

var created = community.Created{CommunityID: "c1", Username: "lernen", Name: "Lernen am See", Description: "Wir lernen.",
	Topics: []string{"bienen", "imkern"}, Languages: []string{"de", "pt-BR"},
	Location: &community.Location{City: "Lübeck", Country: "DE", Latitude: f(53.87), Longitude: f(10.69)},
	Policy:   community.Approval, Visibility: community.Public, OwnerID: "alice"}

func TestCreate(t *testing.T) {
	with := func(change func(*community.NewCommunity)) community.NewCommunity {
		in := newCommunity()
		change(&in)
		return in
	}
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s + strings.Repeat("x", i)
		}
		return out
	}
	cases := []struct {
		name      string
		given     []any
		in        community.NewCommunity
		then      community.Created
		wantErr   error
		wantField string
	}{
		{name: "normalised", in: newCommunity(), then: created},
		{name: "minimal", in: community.NewCommunity{ID: "c2", Username: "m", Name: "M", Policy: community.Open,
			Visibility: community.Members, OwnerID: "bob"},
			then: community.Created{CommunityID: "c2", Username: "m", Name: "M", Policy: community.Open,
				Visibility: community.Members, OwnerID: "bob"}},
		{name: "empty location is none", in: with(func(in *community.NewCommunity) { in.Location = &community.Location{City: " "} }),
			then: func() community.Created { c := created; c.Location = nil; return c }()},
		{name: "already exists", given: []any{created}, in: newCommunity(), wantErr: community.ErrAlreadyExists},
		{name: "no id", in: with(func(in *community.NewCommunity) { in.ID = "" }), wantField: "id"},
		{name: "no owner", in: with(func(in *community.NewCommunity) { in.OwnerID = "" }), wantField: "owner"},
		{name: "bad username", in: with(func(in *community.NewCommunity) { in.Username = "a-b" }), wantField: "username"},
		{name: "reserved username", in: with(func(in *community.NewCommunity) { in.Username = "admin" }), wantField: "username"},
		{name: "empty name", in: with(func(in *community.NewCommunity) { in.Name = "  " }), wantField: "name"},
		{name: "long name", in: with(func(in *community.NewCommunity) { in.Name = strings.Repeat("ä", 101) }), wantField: "name"},
		{name: "name of 100", in: with(func(in *community.NewCommunity) { in.Name = strings.Repeat("ä", 100) }),
			then: func() community.Created { c := created; c.Name = strings.Repeat("ä", 100); return c }()},
		{name: "control in name", in: with(func(in *community.NewCommunity) { in.Name = "a\nb" }), wantField: "name"},
		{name: "long description", in: with(func(in *community.NewCommunity) { in.Description = strings.Repeat("x", 5001) }),
			wantField: "description"},
		{name: "control in description", in: with(func(in *community.NewCommunity) { in.Description = "a\x00" }), wantField: "description"},
		{name: "topic with dash", in: with(func(in *community.NewCommunity) { in.Topics = []string{"a-b"} }), wantField: "topics"},
		{name: "empty topic", in: with(func(in *community.NewCommunity) { in.Topics = []string{"#"} }), wantField: "topics"},
		{name: "long topic", in: with(func(in *community.NewCommunity) { in.Topics = []string{strings.Repeat("t", 51)} }), wantField: "topics"},
		{name: "21 topics", in: with(func(in *community.NewCommunity) { in.Topics = many(21, "t") }), wantField: "topics"},
		{name: "20 topics", in: with(func(in *community.NewCommunity) { in.Topics = many(20, "t") }),
			then: func() community.Created { c := created; c.Topics = many(20, "t"); return c }()},
		{name: "unicode topic", in: with(func(in *community.NewCommunity) { in.Topics = []string{"Ökologie_2", "हिन्दी"} }),
			then: func() community.Created {
				c := created
				c.Topics = []string{"ökologie_2", "हिन्दी"}
				return c
			}()},
		{name: "bad language", in: with(func(in *community.NewCommunity) { in.Languages = []string{"deutsch!"} }), wantField: "languages"},
		{name: "bad country", in: with(func(in *community.NewCommunity) { in.Location.Country = "XX" }), wantField: "location.country"},
		{name: "three-letter country", in: with(func(in *community.NewCommunity) { in.Location.Country = "DEU" }), wantField: "location.country"},
		{name: "latitude only", in: with(func(in *community.NewCommunity) { in.Location.Longitude = nil }), wantField: "location"},
		{name: "latitude out of range", in: with(func(in *community.NewCommunity) { in.Location.Latitude = f(90.5) }), wantField: "location.latitude"},
		{name: "longitude out of range", in: with(func(in *community.NewCommunity) { in.Location.Longitude = f(-181) }), wantField: "location.longitude"},
		{name: "bad policy", in: with(func(in *community.NewCommunity) { in.Policy = "closed" }), wantField: "policy"},
		{name: "bad visibility", in: with(func(in *community.NewCommunity) { in.Visibility = "" }), wantField: "visibility"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := community.Fold(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := community.Create(s, tc.in)
			if tc.wantField != "" {
				var fe *community.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.wantField || !errors.Is(err, community.ErrInvalid) {
					t.Fatalf("err = %v, want a field error on %s", err, tc.wantField)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("event =\n%+v\nwant\n%+v", got, tc.then)
			}
			if err := s.Apply(got); err != nil {
				t.Fatalf("decided event does not apply: %v", err)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	str := func(s string) *string { return &s }
	strs := func(s ...string) *[]string { return &s }
	pol := func(p community.Policy) *community.Policy { return &p }
	vis := func(v community.Visibility) *community.Visibility { return &v }
	cases := []struct {
		name      string
		given     []any
		upd       community.Updated
		then      community.Updated
		changed   bool
		wantErr   error
		wantField string
		check     func(t *testing.T, s community.State)
	}{
		{name: "unknown community", upd: community.Updated{Name: str("x")}, wantErr: community.ErrNotFound},
		{name: "nothing", given: []any{created}},
		{name: "same values", given: []any{created}, upd: community.Updated{Name: str(" Lernen am See"),
			Topics: strs("Bienen", "imkern"), Languages: strs("DE", "pt-br"), Policy: pol(community.Approval),
			Location: &community.Location{City: "Lübeck", Country: "de", Latitude: f(53.87), Longitude: f(10.69)}}},
		{name: "name and policy", given: []any{created},
			upd:  community.Updated{Name: str("Imkerei"), Policy: pol(community.Open), Visibility: vis(community.Public)},
			then: community.Updated{Name: str("Imkerei"), Policy: pol(community.Open)}, changed: true,
			check: func(t *testing.T, s community.State) {
				if s.Name != "Imkerei" || s.Policy != community.Open || s.Username != "lernen" {
					t.Errorf("state %+v", s)
				}
			}},
		{name: "clear topics and location", given: []any{created},
			upd:  community.Updated{Topics: strs(), Location: &community.Location{}},
			then: community.Updated{Topics: &[]string{}, Location: &community.Location{}}, changed: true,
			check: func(t *testing.T, s community.State) {
				if len(s.Topics) != 0 || s.Location != nil {
					t.Errorf("state %+v", s)
				}
			}},
		{name: "description", given: []any{created}, upd: community.Updated{Description: str("Neu")},
			then: community.Updated{Description: str("Neu")}, changed: true},
		{name: "bad name", given: []any{created}, upd: community.Updated{Name: str("")}, wantField: "name"},
		{name: "bad topics", given: []any{created}, upd: community.Updated{Topics: strs("a b")}, wantField: "topics"},
		{name: "bad languages", given: []any{created}, upd: community.Updated{Languages: strs("1")}, wantField: "languages"},
		{name: "bad location", given: []any{created}, upd: community.Updated{Location: &community.Location{Latitude: f(1)}}, wantField: "location"},
		{name: "bad policy", given: []any{created}, upd: community.Updated{Policy: pol("x")}, wantField: "policy"},
		{name: "bad visibility", given: []any{created}, upd: community.Updated{Visibility: vis("x")}, wantField: "visibility"},
		{name: "bad description", given: []any{created}, upd: community.Updated{Description: str(strings.Repeat("x", 5001))},
			wantField: "description"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := community.Fold(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, changed, err := community.Update(s, tc.upd)
			if tc.wantField != "" {
				var fe *community.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.wantField {
					t.Fatalf("err = %v, want a field error on %s", err, tc.wantField)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if changed != tc.changed || !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("Update = %+v, %v; want %+v, %v", got, changed, tc.then, tc.changed)
			}
			if changed {
				if err := s.Apply(got); err != nil {
					t.Fatal(err)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestCanonicalLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"de": "de", "DE": "de", "pt-br": "pt-BR", "zh-hant-tw": "zh-Hant-TW", "sgn-BE-FR": "sgn-BE-FR",
		"x-klingon": "x-klingon", "en-x-us": "en-x-us", "es-419": "es-419",
	} {
		if got := community.CanonicalLanguage(in); got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidCountry(t *testing.T) {
	for code, want := range map[string]bool{"DE": true, "AD": true, "ZW": true, "XK": true, "US": true,
		"XX": false, "de": false, "D": false, "DEU": false, "": false, "ZZ": false} {
		if got := community.ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestFoldRefusesCorruptStreams(t *testing.T) {
	for name, given := range map[string][]any{
		"created twice":         {created, created},
		"update before created": {community.Updated{}},
		"foreign event":         {community.MemberLeft{}},
	} {
		if _, err := community.Fold(given...); err == nil {
			t.Errorf("%s: folded without error", name)
		}
	}
}
