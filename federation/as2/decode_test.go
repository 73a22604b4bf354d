package as2

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func nested(depth int) string {
	// A Note whose "x" holds arrays, so that the document nests depth levels.
	return `{"type":"Note","x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
}

func TestDecodeErrors(t *testing.T) {
	big := `{"type":"Note","content":"` + strings.Repeat("a", DefaultMaxBytes) + `"}`
	cases := []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"too large", big, Limits{}, ErrTooLarge},
		{"custom size limit", `{"type":"Note","content":"hello"}`, Limits{MaxBytes: 10}, ErrTooLarge},
		{"too deep", nested(DefaultMaxDepth + 1), Limits{}, ErrTooDeep},
		{"custom depth limit", nested(4), Limits{MaxDepth: 3}, ErrTooDeep},
		{"not JSON", `{"type":"Note",`, Limits{}, ErrMalformed},
		{"trailing garbage", `{"type":"Note"} x`, Limits{}, ErrMalformed},
		{"empty", ``, Limits{}, ErrMalformed},
		{"array", `[{"type":"Note"}]`, Limits{}, ErrMalformed},
		{"string", `"Note"`, Limits{}, ErrMalformed},
		{"null", `null`, Limits{}, ErrMalformed},
		{"no type", `{"id":"https://a.example/1"}`, Limits{}, ErrNotActivityStreams},
		{"empty type array", `{"type":[]}`, Limits{}, ErrNotActivityStreams},
		{"type not a string", `{"type":7}`, Limits{}, ErrNotActivityStreams},
		{"WebFinger", `{"subject":"acct:a@b.example","links":[]}`, Limits{}, ErrNotActivityStreams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeWithLimits([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) || o != nil {
				t.Fatalf("DecodeWithLimits = %v, %v; want %v", o, err, tc.want)
			}
		})
	}
}

func TestDecodeLimitsAccept(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"depth at the limit", nested(DefaultMaxDepth)},
		{"brackets inside strings do not count", `{"type":"Note","content":"` + strings.Repeat("[{", 100) + `\"]"}`},
		{"byte order mark", "\xef\xbb\xbf" + `{"type":"Note"}`},
		{"leading whitespace", "\n\t " + `{"type":"Note"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode([]byte(tc.in)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

// TestDecodeTolerates feeds values of the wrong JSON type: the document
// still decodes, the values are skipped, and each is reported with its path.
func TestDecodeTolerates(t *testing.T) {
	in := `{
		"type": "as:Create",
		"id": 5,
		"actor": 7,
		"to": ["as:Public", {"id": "https://a.example/followers"}, 3],
		"cc": "Public",
		"published": "yesterday",
		"updated": 1700000000,
		"content": {"x": 1},
		"contentMap": {"de": "Hallo", "en": null, "fr": 3},
		"nameMap": null,
		"summary": null,
		"sensitive": "true",
		"tag": 7,
		"icon": [true, "https://a.example/i.png"],
		"object": {"type": "https://www.w3.org/ns/activitystreams#Note", "id": "relative/1",
		           "attributedTo": "https://a.example/u", "startTime": "2024-05-01T10:00:00",
		           "endTime": "2024-05-01", "participantCount": "12", "maximumAttendeeCapacity": 1.5}
	}`
	o, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Type", o.Type, TypeCreate)
	eq(t, "To", o.To, []string{Public, "https://a.example/followers"})
	eq(t, "CC", o.CC, []string{Public})
	eq(t, "ContentMap", o.ContentMap, Map{"de": "Hallo"})
	eq(t, "Sensitive", o.Sensitive, true)
	eq(t, "Icon", o.Icon, []Image{{URL: "https://a.example/i.png"}})
	n := o.InlineObject()
	if n == nil {
		t.Fatal("no inline object")
	}
	eq(t, "inner type", n.Type, TypeNote)
	eq(t, "zone-less time read as UTC", n.StartTime, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	eq(t, "bare date", n.EndTime, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	eq(t, "string number", n.Event.ParticipantCount, Int(12))
	eq(t, "fractional count dropped", n.Event.MaximumAttendeeCapacity, (*int)(nil))
	want := []struct {
		path string
		code IssueCode
	}{
		{"id", IssueBadValue},
		{"actor", IssueBadValue},
		{"to[2]", IssueBadValue},
		{"published", IssueBadTime},
		{"updated", IssueBadValue},
		{"content", IssueBadValue},
		{"contentMap.fr", IssueBadValue},
		{"tag[0]", IssueBadValue},
		{"icon[0]", IssueBadValue},
		{"object.id", IssueIDNotAbsolute},
		{"object.maximumAttendeeCapacity", IssueBadValue},
		{"id", IssueMissingID},
	}
	for _, w := range want {
		if !hasIssue(o, w.path, w.code) {
			t.Errorf("issue %s %s not reported; issues: %v", w.path, w.code, o.Issues)
		}
	}
	if len(o.Issues) != len(want) {
		t.Errorf("%d issues, want %d: %v", len(o.Issues), len(want), o.Issues)
	}
	if err := o.Validate(); !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), "relative/1") {
		t.Errorf("Validate = %v", err)
	}
}

func TestDecodeKinds(t *testing.T) {
	cases := []struct {
		in        string
		wantType  string
		wantKind  Kind
		wantIssue bool
	}{
		{`{"type":"Create","actor":"https://a.example/u"}`, TypeCreate, KindActivity, false},
		{`{"type":"Question"}`, TypeQuestion, KindObject, false},
		{`{"type":"Arrive","actor":"https://a.example/u"}`, "Arrive", KindActivity, false},
		{`{"type":"Service","inbox":"https://a.example/i"}`, TypeService, KindActor, false},
		{`{"type":"OrderedCollectionPage"}`, TypeOrderedCollectionPage, KindCollection, false},
		{`{"type":"Mention","href":"https://a.example/u"}`, TypeMention, KindLink, false},
		{`{"type":"Hashtag","href":"https://a.example/t"}`, TypeHashtag, KindLink, false},
		{`{"type":"Emoji","id":"https://a.example/e"}`, TypeEmoji, KindObject, false},
		{`{"type":["http://schema.org/LikeAction","Like"],"actor":"https://a.example/u"}`, TypeLike, KindActivity, false},
		{`{"type":["http://schema.org/Thing","toot:Emoji"]}`, "http://schema.org/Thing", KindObject, true},
		{`{"type":"Bite","actor":"https://a.example/u"}`, "Bite", KindActivity, true},
		{`{"type":"Bot","inbox":"https://a.example/i"}`, "Bot", KindActor, true},
		{`{"type":"Stream","totalItems":3}`, "Stream", KindCollection, true},
		{`{"type":"Ref","href":"https://a.example/x"}`, "Ref", KindLink, true},
		{`{"type":"Thing"}`, "Thing", KindObject, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			o, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "Type", o.Type, tc.wantType)
			eq(t, "Kind", o.Kind, tc.wantKind)
			eq(t, "unknown-type issue", hasIssue(o, "type", IssueUnknownType), tc.wantIssue)
		})
	}
}

func TestMapPick(t *testing.T) {
	m := Map{"de": "Hallo", "en-GB": "Hello", "fr": "Bonjour", "und": "?"}
	cases := []struct {
		name      string
		m         Map
		prefs     []string
		wantLang  string
		wantText  string
		wantFound bool
	}{
		{"exact", m, []string{"fr"}, "fr", "Bonjour", true},
		{"exact is case-insensitive", m, []string{"EN-gb"}, "en-GB", "Hello", true},
		{"order of preference", m, []string{"it", "de", "fr"}, "de", "Hallo", true},
		{"primary subtag", m, []string{"en-US"}, "en-GB", "Hello", true},
		{"regional preference matches base", m, []string{"de-AT"}, "de", "Hallo", true},
		{"exact beats subtag of an earlier preference", m, []string{"en", "fr"}, "fr", "Bonjour", true},
		{"undetermined", m, []string{"pl"}, "und", "?", true},
		{"no preference", Map{"es": "Hola", "ca": "Hola!"}, nil, "ca", "Hola!", true},
		{"empty", nil, []string{"de"}, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lang, text, ok := tc.m.Pick(tc.prefs...)
			if lang != tc.wantLang || text != tc.wantText || ok != tc.wantFound {
				t.Errorf("Pick(%v) = %q, %q, %v; want %q, %q, %v", tc.prefs, lang, text, ok, tc.wantLang, tc.wantText, tc.wantFound)
			}
		})
	}
}

func TestIsAbsoluteIRI(t *testing.T) {
	cases := map[string]bool{
		"https://a.example/x":   true,
		"http://localhost:8080": true,
		"tag:mamot.fr,2021-11-05:objectId=1:objectType=Conversation": true,
		"urn:uuid:1234":   true,
		"did:key:z6Mk":    true,
		"example.org/a/8": false,
		"/a/8":            false,
		"https:/a":        false,
		"https://":        false,
		"https:///x":      false,
		"1http://a.b":     false,
		":x":              false,
		"":                false,
	}
	for in, want := range cases {
		if got := isAbsoluteIRI(in); got != want {
			t.Errorf("isAbsoluteIRI(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2022, 12, 11, 19, 0, 0, 0, time.UTC)
	for _, in := range []string{"2022-12-11T19:00:00Z", "2022-12-11T19:00:00+00:00", "2022-12-11T20:00:00+01:00",
		"2022-12-11T20:00:00+0100", "2022-12-11T19:00:00.000Z", "2022-12-11T19:00:00", " 2022-12-11T19:00:00Z "} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "yesterday", "2022-13-11T19:00:00Z"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}

func TestDecodeIssuesBounded(t *testing.T) {
	in := `{"type":"Note","to":[` + strings.Repeat(`1,`, 1000) + `1]}`
	o, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Issues) != maxIssues+1 {
		t.Fatalf("%d issues, want %d", len(o.Issues), maxIssues+1)
	}
	last := o.Issues[len(o.Issues)-1]
	if last.Code != IssueTruncated || last.Detail != "938 more issues not listed" {
		t.Errorf("last issue = %v", last)
	}
	if !hasIssue(o, "id", IssueMissingID) {
		t.Error("the missing id was crowded out")
	}
	if err := o.Validate(); !errors.Is(err, ErrInvalidID) {
		t.Errorf("Validate = %v", err)
	}
}
