package as2

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the encoder's output")

const (
	host      = "https://hanse.example"
	alice     = host + "/people/alice"
	community = host + "/communities/lernwerkstatt"
	pemSample = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzRjKTNtvDCmugplwEh+g\n-----END PUBLIC KEY-----\n"
)

var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func personActor() *Object {
	return &Object{
		ID: alice, Type: TypePerson, Kind: KindActor,
		Name: "Alice Müller", Summary: "<p>Lernbegleiterin in Bremen</p>",
		URL:       []Link{{Href: host + "/@alice"}},
		Published: t0,
		Icon:      []Image{{Type: TypeImage, URL: host + "/media/alice.png", MediaType: "image/png"}},
		Attachment: []Attachment{{Type: TypePropertyValue, Name: "Website",
			Value: `<a href="https://alice.example" rel="me">alice.example</a>`}},
		Profile: &ActorProfile{
			PreferredUsername: "alice",
			Inbox:             alice + "/inbox", Outbox: alice + "/outbox",
			Followers: alice + "/followers", Following: alice + "/following",
			Featured: alice + "/featured", SharedInbox: host + "/inbox",
			PublicKeys:   []PublicKey{{ID: alice + "#main-key", Owner: alice, PEM: pemSample}},
			Discoverable: true,
		},
	}
}

func groupActor() *Object {
	return &Object{
		ID: community, Type: TypeGroup, Kind: KindActor,
		Name: "Lernwerkstatt", NameMap: Map{"de": "Lernwerkstatt", "en": "Learning workshop"},
		Summary:      "<p>Offene Werkstatt</p>",
		URL:          []Link{{Href: host + "/c/lernwerkstatt"}},
		AttributedTo: IRIs(community + "/moderators"),
		Profile: &ActorProfile{
			PreferredUsername: "lernwerkstatt",
			Inbox:             community + "/inbox", Outbox: community + "/outbox",
			Followers: community + "/followers", Featured: community + "/featured",
			SharedInbox:               host + "/inbox",
			PublicKeys:                []PublicKey{{ID: community + "#main-key", Owner: community, PEM: pemSample}},
			ManuallyApprovesFollowers: true, Discoverable: true,
		},
	}
}

func note() *Object {
	return &Object{
		ID: alice + "/posts/1", Type: TypeNote, Kind: KindObject,
		AttributedTo: IRIs(alice),
		To:           []string{Public},
		CC:           []string{alice + "/followers", community},
		Audience:     []string{community},
		InReplyTo:    IRIs("https://mastodon.example/users/bob/statuses/1"),
		Published:    t0,
		Content:      `<p>Hallo <a href="https://hanse.example/communities/lernwerkstatt" class="mention">@lernwerkstatt</a> #Bremen</p>`,
		ContentMap: Map{
			"de": `<p>Hallo <a href="https://hanse.example/communities/lernwerkstatt" class="mention">@lernwerkstatt</a> #Bremen</p>`,
			"en": `<p>Hello <a href="https://hanse.example/communities/lernwerkstatt" class="mention">@lernwerkstatt</a> #Bremen</p>`,
		},
		URL: []Link{{Href: host + "/@alice/posts/1"}},
		Tag: []Tag{
			{Type: TypeMention, Href: community, Name: "@lernwerkstatt@hanse.example"},
			{Type: TypeHashtag, Href: host + "/tags/bremen", Name: "#Bremen"},
		},
		Attachment: []Attachment{{Type: TypeDocument, MediaType: "image/jpeg", URL: host + "/media/1.jpg",
			Name: "Die Werkstatt", Width: 1200, Height: 800, Blurhash: "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"}},
	}
}

func article() *Object {
	return &Object{
		ID: alice + "/articles/2", Type: TypeArticle, Kind: KindObject,
		AttributedTo: IRIs(alice),
		To:           []string{Public}, CC: []string{alice + "/followers"},
		Audience:  []string{community},
		Published: t0, Updated: t0.Add(90 * time.Minute),
		Name:       "Lernen in der Stadt",
		NameMap:    Map{"de": "Lernen in der Stadt", "en": "Learning in the city"},
		Summary:    "Ein Bericht",
		SummaryMap: Map{"de": "Ein Bericht", "en": "A report"},
		Content:    "<p>Lernen in der Stadt</p><p>Ein Bericht.</p>",
		ContentMap: Map{"de": "<p>Lernen in der Stadt</p><p>Ein Bericht.</p>", "en": "<p>Learning in the city</p><p>A report.</p>"},
		MediaType:  "text/html",
		URL:        []Link{{Type: TypeLink, Href: host + "/articles/2", MediaType: "text/html"}},
		Tag:        []Tag{{Type: TypeHashtag, Href: host + "/tags/lernen", Name: "#Lernen"}},
	}
}

func event() *Object {
	return &Object{
		ID: community + "/events/7", Type: TypeEvent, Kind: KindObject,
		AttributedTo: IRIs(community),
		To:           []string{Public}, CC: []string{community + "/followers"},
		Audience:  []string{community},
		Published: t0,
		Name:      "Repair-Café", NameMap: Map{"de": "Repair-Café"},
		Content:    "<p>Wir reparieren zusammen.</p>",
		ContentMap: Map{"de": "<p>Wir reparieren zusammen.</p>"},
		StartTime:  time.Date(2026, 4, 2, 16, 0, 0, 0, time.UTC),
		EndTime:    time.Date(2026, 4, 2, 19, 0, 0, 0, time.UTC),
		URL:        []Link{{Href: host + "/events/7"}},
		Location: Refs{Embed(&Object{ID: host + "/places/3", Type: TypePlace, Name: "Stadtbibliothek",
			Address: &PostalAddress{StreetAddress: "Am Wall 201", PostalCode: "28195", AddressLocality: "Bremen",
				AddressRegion: "Bremen", AddressCountry: "DE"},
			Latitude: ptr(53.0758), Longitude: ptr(8.8072)})},
		Tag: []Tag{{Type: TypeHashtag, Href: host + "/tags/repair", Name: "#Repair"}},
		Event: &Event{Timezone: "Europe/Berlin", JoinMode: "free",
			MaximumAttendeeCapacity: Int(30), RemainingAttendeeCapacity: Int(18), ParticipantCount: Int(12),
			InLanguage: "de", Status: "CONFIRMED"},
	}
}

func ptr[T any](v T) *T { return &v }

func activity(typ, id, actor string, object Ref, to ...string) *Object {
	a := NewActivity(typ, id, actor, object)
	a.To = to
	return a
}

// goldenCases are the outgoing documents; each is written to
// testdata/golden/<name>.json and must round-trip through Decode.
func goldenCases() []struct {
	name string
	obj  *Object
} {
	app := &Object{ID: host + "/actor", Type: TypeApplication, Kind: KindActor, Name: "hanse.example",
		URL: []Link{{Href: host}},
		Profile: &ActorProfile{PreferredUsername: "hanse.example", Inbox: host + "/actor/inbox",
			Outbox: host + "/actor/outbox", SharedInbox: host + "/inbox", ManuallyApprovesFollowers: true,
			PublicKeys: []PublicKey{{ID: host + "/actor#main-key", Owner: host + "/actor", PEM: pemSample}}}}
	org := &Object{ID: host + "/orgs/vhs", Type: TypeOrganization, Kind: KindActor, Name: "Volkshochschule Bremen",
		Profile: &ActorProfile{PreferredUsername: "vhs", Inbox: host + "/orgs/vhs/inbox", Outbox: host + "/orgs/vhs/outbox",
			Followers: host + "/orgs/vhs/followers", Discoverable: true,
			PublicKeys: []PublicKey{{ID: host + "/orgs/vhs#main-key", Owner: host + "/orgs/vhs", PEM: pemSample}},
			AssertionMethods: []Multikey{{ID: host + "/orgs/vhs#ed25519-key", Controller: host + "/orgs/vhs",
				PublicKeyMultibase: "z6MkweqJajqa5jRAJTBVxxu47oCdB7HzmYbBKN8VGbFJmKkC"}}}}

	create := activity(TypeCreate, alice+"/posts/1/activity", alice, Embed(note()), Public)
	create.CC = []string{alice + "/followers", community}
	create.Published = t0

	createArticle := activity(TypeCreate, alice+"/articles/2/activity", alice, Embed(article()), Public)
	createArticle.CC = []string{alice + "/followers"}

	createEvent := activity(TypeCreate, community+"/events/7/activity", community, Embed(event()), Public)
	createEvent.CC = []string{community + "/followers"}

	updatePerson := activity(TypeUpdate, alice+"#updates/1", alice, Embed(personActor()), Public)
	updatePerson.CC = []string{alice + "/followers"}

	tomb := &Object{ID: alice + "/posts/1", Type: TypeTombstone, Deleted: t0}
	del := activity(TypeDelete, alice+"/posts/1#delete", alice, Embed(tomb), Public)

	announce := activity(TypeAnnounce, community+"/activities/announce/1", community, Embed(create), Public)
	announce.CC = []string{community + "/followers"}
	announce.Audience = []string{community}

	// A member's activity as it arrived (the bytes of a remote server),
	// wrapped unmodified (FEP-1b12).
	remote := []byte(`{"id":"https://lemmy.example/activities/create/9","type":"Create","actor":"https://lemmy.example/u/bo",` +
		`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://hanse.example/communities/lernwerkstatt"],` +
		`"object":{"id":"https://lemmy.example/post/9","type":"Page","name":"Hallo","attributedTo":"https://lemmy.example/u/bo",` +
		`"audience":"https://hanse.example/communities/lernwerkstatt","stickied":false}}`)
	member, err := Decode(remote)
	if err != nil {
		panic(err)
	}
	announceVerbatim := activity(TypeAnnounce, community+"/activities/announce/2", community, Verbatim(member), Public)
	announceVerbatim.CC = []string{community + "/followers"}

	follow := activity(TypeFollow, alice+"#follows/1", alice, IRI(community))
	follow.To = []string{community}
	accept := activity(TypeAccept, community+"#accepts/1", community, Embed(follow), alice)
	reject := activity(TypeReject, community+"#rejects/1", community, Embed(follow), alice)
	like := activity(TypeLike, alice+"#likes/1", alice, IRI("https://mastodon.example/users/bob/statuses/1"),
		"https://mastodon.example/users/bob")
	undoLike := activity(TypeUndo, alice+"#likes/1/undo", alice, Embed(like), "https://mastodon.example/users/bob")
	join := activity(TypeJoin, alice+"#joins/1", alice, IRI(community+"/events/7"), community)
	leave := activity(TypeLeave, alice+"#leaves/1", alice, IRI(community+"/events/7"), community)
	flag := activity(TypeFlag, host+"/reports/1", host+"/actor", IRI("https://spam.example/users/x"), "https://spam.example/users/x")
	flag.Object = IRIs("https://spam.example/users/x", "https://spam.example/posts/1", "https://spam.example/posts/2")
	flag.Content = "Spam in der Lernwerkstatt"

	question := &Object{ID: community + "/polls/4", Type: TypeQuestion, AttributedTo: IRIs(community),
		To: []string{Public}, Content: "<p>Wann treffen wir uns?</p>", EndTime: t0.Add(72 * time.Hour),
		Published: t0,
		Question: &Question{Multiple: true, VotersCount: Int(5),
			Options: []QuestionOption{{Name: "Montag", Votes: 3}, {Name: "Mittwoch", Votes: 4}}}}

	outbox := NewOrderedCollection(alice+"/outbox", 42, alice+"/outbox?page=1")
	page := NewOrderedCollectionPage(alice+"/outbox?page=1", alice+"/outbox", Refs{Embed(create), IRI(alice + "/posts/0/activity")},
		alice+"/outbox?page=2", "")
	followers := NewOrderedCollectionPage(alice+"/followers?page=1", alice+"/followers",
		IRIs("https://mastodon.example/users/bob"), "", "")
	followers.Collection.TotalItems = Int(1)

	return []struct {
		name string
		obj  *Object
	}{
		{"person", personActor()},
		{"group", groupActor()},
		{"organization", org},
		{"application", app},
		{"create_note", create},
		{"create_article", createArticle},
		{"create_event", createEvent},
		{"update_person", updatePerson},
		{"delete_tombstone", del},
		{"announce_create_note", announce},
		{"announce_verbatim", announceVerbatim},
		{"follow", follow},
		{"accept_follow", accept},
		{"reject_follow", reject},
		{"like", like},
		{"undo_like", undoLike},
		{"join", join},
		{"leave", leave},
		{"flag", flag},
		{"question", question},
		{"outbox", outbox},
		{"outbox_page", page},
		{"followers_page", followers},
	}
}

func indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func TestEncodeGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.obj)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got := indent(t, b)
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestEncodeGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the encoder's output (go test -run TestEncodeGolden -update after checking):\n%s", path, got)
			}
		})
	}
}

// TestEncodeConventions checks the rules Encode applies, on the output.
func TestEncodeConventions(t *testing.T) {
	cases := goldenCases()
	docs := make(map[string]map[string]any, len(cases))
	for _, tc := range cases {
		b, err := Encode(tc.obj)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		docs[tc.name] = m
		ctx, ok := m["@context"].([]any)
		if !ok || ctx[0] != NSActivityStreams || ctx[1] != NSSecurityV1 {
			t.Errorf("%s: @context = %v", tc.name, m["@context"])
		}
		terms, ok := ctx[len(ctx)-1].(map[string]any)
		if !ok || terms["discoverable"] != "toot:discoverable" || terms["Hashtag"] != "as:Hashtag" {
			t.Errorf("%s: extension terms missing: %v", tc.name, ctx[len(ctx)-1])
		}
		if bytes.Contains(b, []byte(`\u003c`)) {
			t.Errorf("%s: HTML escaped in output", tc.name)
		}
	}
	person := docs["person"]
	if pk, ok := person["publicKey"].(map[string]any); !ok || pk["owner"] != alice || pk["publicKeyPem"] != pemSample {
		t.Errorf("person publicKey = %v", person["publicKey"])
	}
	if person["manuallyApprovesFollowers"] != false || person["discoverable"] != true {
		t.Errorf("person flags = %v %v", person["manuallyApprovesFollowers"], person["discoverable"])
	}
	if ep, _ := person["endpoints"].(map[string]any); ep["sharedInbox"] != host+"/inbox" {
		t.Errorf("endpoints = %v", person["endpoints"])
	}
	if _, ok := person["attachment"].([]any); !ok {
		t.Errorf("attachment is not an array: %v", person["attachment"])
	}
	org := docs["organization"]
	if ctx := org["@context"].([]any); ctx[2] != NSMultikeyV1 {
		t.Errorf("organization context lacks multikey: %v", ctx)
	}
	n := docs["create_note"]["object"].(map[string]any)
	if _, ok := n["to"].([]any); !ok {
		t.Errorf("to is not an array: %v", n["to"])
	}
	if n["audience"] != community {
		t.Errorf("audience = %v", n["audience"])
	}
	if n["sensitive"] != false {
		t.Errorf("sensitive = %v", n["sensitive"])
	}
	tags, _ := n["tag"].([]any)
	if len(tags) != 2 || tags[1].(map[string]any)["type"] != TypeHashtag {
		t.Errorf("tags = %v", n["tag"])
	}
	for _, name := range []string{"create_article", "create_event"} {
		obj := docs[name]["object"].(map[string]any)
		if s, _ := obj["content"].(string); s == "" {
			t.Errorf("%s: no content", name)
		}
		if obj["url"] == nil {
			t.Errorf("%s: no url", name)
		}
	}
	ev := docs["create_event"]["object"].(map[string]any)
	for key, want := range map[string]any{"joinMode": "free", "timezone": "Europe/Berlin", "ical:status": "CONFIRMED",
		"isOnline": false, "maximumAttendeeCapacity": 30.0, "participantCount": 12.0, "inLanguage": "de",
		"startTime": "2026-04-02T16:00:00Z"} {
		if ev[key] != want {
			t.Errorf("event %s = %v, want %v", key, ev[key], want)
		}
	}
	loc := ev["location"].(map[string]any)
	if addr, _ := loc["address"].(map[string]any); addr["type"] != TypePostalAddress || addr["addressLocality"] != "Bremen" {
		t.Errorf("location = %v", loc)
	}
	if items, _ := docs["outbox_page"]["orderedItems"].([]any); len(items) != 2 {
		t.Errorf("orderedItems = %v", docs["outbox_page"]["orderedItems"])
	}
	if flagObj, _ := docs["flag"]["object"].([]any); len(flagObj) != 3 {
		t.Errorf("flag object = %v", docs["flag"]["object"])
	}
	if q := docs["question"]; q["anyOf"] == nil || q["oneOf"] != nil {
		t.Errorf("question = %v", q)
	}
}

func TestEncodeVerbatim(t *testing.T) {
	var announce *Object
	for _, tc := range goldenCases() {
		if tc.name == "announce_verbatim" {
			announce = tc.obj
		}
	}
	b, err := Encode(announce)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, announce.Object[0].Raw) {
		t.Errorf("inner activity not embedded verbatim:\n%s", b)
	}
	bad := NewActivity(TypeAnnounce, community+"/a/3", community, Ref{ID: "x", Raw: []byte(`[1,2`)})
	if _, err := Encode(bad); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("invalid verbatim JSON: err = %v, want ErrInvalidObject", err)
	}
}

func TestEncodeFallbacks(t *testing.T) {
	cases := []struct {
		name        string
		obj         *Object
		wantContent string
		wantURL     string
	}{
		{"content from contentMap", &Object{ID: host + "/a/1", Type: TypeArticle, ContentMap: Map{"de": "<p>Hallo</p>"}},
			"<p>Hallo</p>", host + "/a/1"},
		{"content from summary", &Object{ID: host + "/a/2", Type: TypeArticle, Summary: "Kurz & gut"},
			"<p>Kurz &amp; gut</p>", host + "/a/2"},
		{"event content from name", &Object{ID: host + "/e/1", Type: TypeEvent, Name: "Repair-Café <3>",
			URL: []Link{{Href: host + "/events/1"}}}, "<p>Repair-Café &lt;3&gt;</p>", host + "/events/1"},
		{"note untouched", &Object{ID: host + "/n/1", Type: TypeNote, Summary: "cw"}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "content", o.Content, tc.wantContent)
			eq(t, "url", o.HTMLURL(), tc.wantURL)
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := Encode(&Object{ID: host + "/x"}); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("no type: %v", err)
	}
	if _, err := Encode(nil); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("nil: %v", err)
	}
	// A cycle: the activity contains itself.
	loop := NewActivity(TypeAnnounce, host+"/loop", alice, Ref{})
	loop.Object = Refs{Embed(loop)}
	if _, err := Encode(loop); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cycle: %v, want ErrTooDeep", err)
	}
}

// stripRaw clears what the decoder adds (Raw, Issues) and what the
// encoder reads but cannot write back (Ref.Raw), throughout the tree.
func stripRaw(o *Object) {
	if o == nil {
		return
	}
	o.Raw, o.Issues = nil, nil
	lists := []Refs{o.Actor, o.Object, o.Target, o.Origin, o.Instrument, o.Result,
		o.AttributedTo, o.InReplyTo, o.Location, o.Replies}
	if c := o.Collection; c != nil {
		lists = append(lists, c.First, c.Last, c.Next, c.Prev, c.Current, c.PartOf, c.Items)
	}
	for _, rs := range lists {
		for i := range rs {
			rs[i].Raw = nil
			stripRaw(rs[i].Object)
		}
	}
}

// expectView is the view Decode must give for an encoded object: the input
// with Types and Kind filled in as the decoder does.
func expectView(o *Object) {
	if o == nil {
		return
	}
	if len(o.Types) == 0 && o.Type != "" {
		o.Types = []string{o.Type}
	}
	if k, ok := KindOf(o.Type); ok {
		o.Kind = k
	}
	lists := []Refs{o.Actor, o.Object, o.Target, o.Origin, o.Instrument, o.Result,
		o.AttributedTo, o.InReplyTo, o.Location, o.Replies}
	if c := o.Collection; c != nil {
		lists = append(lists, c.First, c.Last, c.Next, c.Prev, c.Current, c.PartOf, c.Items)
	}
	for _, rs := range lists {
		for i := range rs {
			expectView(rs[i].Object)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Issues) != 0 {
				t.Errorf("issues decoding our own output: %v", got.Issues)
			}
			// Encoding the decoded view gives the same bytes (except where a
			// verbatim object was embedded: its view is re-encoded from fields).
			again, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "announce_verbatim" && !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n%s\n%s", b, again)
			}
			stripRaw(got)
			want := tc.obj
			expectView(want)
			stripRaw(want)
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("decoded view differs from the encoded one:\n got %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestContextCopy(t *testing.T) {
	c := Context()
	c[2].(map[string]any)["discoverable"] = "changed"
	b, err := Encode(personActor())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"discoverable":"toot:discoverable"`) {
		t.Error("Context() exposed the encoder's terms")
	}
}
