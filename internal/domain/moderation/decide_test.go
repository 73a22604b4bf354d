package moderation_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/idna"

	"github.com/hanse-network/hanse/internal/domain/moderation"
)

func TestNormalizeDomain(t *testing.T) {
	cases := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"  Example.COM.  ", "example.com"},
		{"*.example.com", "example.com"},
		{"example.com:8443", "example.com:8443"},
		{"EXAMPLE.com:443", "example.com:443"},
		{"https://Social.Example.com/about", "social.example.com"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"BÜCHER.example", "xn--bcher-kva.example"},
		{"münchen.de:8080", "xn--mnchen-3ya.de:8080"},
		{"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{"[::1]:8080", "[::1]:8080"},
		{"[2001:DB8::1]", "[2001:db8::1]"},
		{"under_score.example", "under_score.example"},
	}
	for _, tc := range cases {
		got, err := moderation.NormalizeDomain(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", " ", ".", "*.", "a..b", "-a.example", "a-.example", "exa mple.com", "example.com/path",
		"user@example.com", "example.com:0", "example.com:65536", "example.com:08", "example.com:x", "::1", "[::1",
		"[zz]", "[::1]x", strings.Repeat("a", 64) + ".example", strings.Repeat("abcdefghi.", 26) + "com", "ftp://", "a/b"} {
		if got, err := moderation.NormalizeDomain(bad); !errors.Is(err, moderation.ErrInvalidDomain) {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want ErrInvalidDomain", bad, got, err)
		}
	}
}

// TestPunycodeAgainstIDNA cross-checks the own punycode encoder with
// golang.org/x/net/idna on a few scripts.
func TestPunycodeAgainstIDNA(t *testing.T) {
	for _, name := range []string{"bücher.example", "münchen.de", "例え.テスト", "почта.рф", "ελληνικά.gr", "straße.de",
		"😀.example", "mañana.com", "ünïcödé-plus-ascii.example", "ἀθῆναι.gr"} {
		want, err := idna.Punycode.ToASCII(strings.ToLower(name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := moderation.NormalizeDomain(name)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; idna says %q", name, got, err, want)
		}
	}
}

func TestCandidates(t *testing.T) {
	cases := []struct {
		host string
		want []string
	}{
		{"a.b.example.com", []string{"a.b.example.com", "b.example.com", "example.com", "com"}},
		{"A.Example.com:8443", []string{"a.example.com:8443", "a.example.com", "example.com:8443", "example.com", "com:8443", "com"}},
		{"127.0.0.1:8080", []string{"127.0.0.1:8080", "127.0.0.1"}},
		{"[::1]", []string{"[::1]"}},
		{"", nil},
	}
	for _, tc := range cases {
		if got := moderation.Candidates(tc.host); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Candidates(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestRulesDecide(t *testing.T) {
	reject := moderation.Block{Severity: moderation.SeverityReject}
	silence := moderation.Block{Severity: moderation.SeveritySilence}
	cases := []struct {
		name  string
		rules moderation.Rules
		host  string
		want  moderation.Decision
	}{
		{name: "no rules", host: "example.com", want: moderation.Allow},
		{name: "blocked domain", rules: moderation.Rules{Blocks: map[string]moderation.Block{"bad.example": reject}},
			host: "bad.example", want: moderation.Reject},
		{name: "subdomain of a blocked domain", rules: moderation.Rules{Blocks: map[string]moderation.Block{"bad.example": reject}},
			host: "social.eu.bad.example:8443", want: moderation.Reject},
		{name: "suffix that is not a subdomain", rules: moderation.Rules{Blocks: map[string]moderation.Block{"bad.example": reject}},
			host: "notbad.example", want: moderation.Allow},
		{name: "host written differently", rules: moderation.Rules{Blocks: map[string]moderation.Block{"xn--bcher-kva.example": silence}},
			host: "BÜCHER.example.", want: moderation.Silence},
		{name: "the most specific block wins (silenced subdomain of a rejected domain)",
			rules: moderation.Rules{Blocks: map[string]moderation.Block{"example.com": reject, "ok.example.com": silence}},
			host:  "ok.example.com", want: moderation.Silence},
		{name: "the most specific block wins (rejected subdomain of a silenced domain)",
			rules: moderation.Rules{Blocks: map[string]moderation.Block{"example.com": silence, "bad.example.com": reject}},
			host:  "x.bad.example.com", want: moderation.Reject},
		{name: "a block with a port covers that port only", rules: moderation.Rules{Blocks: map[string]moderation.Block{"example.com:8443": reject}},
			host: "example.com", want: moderation.Allow},
		{name: "a block with a port, on that port", rules: moderation.Rules{Blocks: map[string]moderation.Block{"example.com:8443": reject}},
			host: "a.example.com:8443", want: moderation.Reject},
		{name: "port-specific beats portless on the same name",
			rules: moderation.Rules{Blocks: map[string]moderation.Block{"example.com": reject, "example.com:8443": silence}},
			host:  "example.com:8443", want: moderation.Silence},
		{name: "allow-list mode, not listed", rules: moderation.Rules{AllowlistMode: true, Allowed: map[string]bool{"friend.example": true}},
			host: "stranger.example", want: moderation.Reject},
		{name: "allow-list mode, listed subdomain", rules: moderation.Rules{AllowlistMode: true, Allowed: map[string]bool{"friend.example": true}},
			host: "social.friend.example", want: moderation.Allow},
		{name: "allow-list mode, silenced listed domain", rules: moderation.Rules{AllowlistMode: true,
			Allowed: map[string]bool{"friend.example": true}, Blocks: map[string]moderation.Block{"friend.example": silence}},
			host: "friend.example", want: moderation.Silence},
		{name: "allow-list mode, blocked subdomain of a listed domain", rules: moderation.Rules{AllowlistMode: true,
			Allowed: map[string]bool{"friend.example": true}, Blocks: map[string]moderation.Block{"bad.friend.example": reject}},
			host: "bad.friend.example", want: moderation.Reject},
		{name: "allow-list mode, silenced but not listed", rules: moderation.Rules{AllowlistMode: true,
			Blocks: map[string]moderation.Block{"meh.example": silence}}, host: "meh.example", want: moderation.Reject},
		{name: "allow-list off, listed domains mean nothing", rules: moderation.Rules{Allowed: map[string]bool{"friend.example": true}},
			host: "stranger.example", want: moderation.Allow},
		{name: "invalid host, allow-list mode", rules: moderation.Rules{AllowlistMode: true}, host: "", want: moderation.Reject},
		{name: "invalid host", host: "", want: moderation.Allow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rules.Decide(tc.host); got != tc.want {
				t.Fatalf("Decide(%q) = %s, want %s", tc.host, got, tc.want)
			}
		})
	}
}

var (
	blockBad     = moderation.DomainBlocked{Domain: "bad.example", Severity: moderation.SeverityReject, PublicComment: "spam"}
	silenceMeh   = moderation.DomainBlocked{Domain: "meh.example", Severity: moderation.SeveritySilence}
	allowFriend  = moderation.DomainAllowed{Domain: "friend.example"}
	allowlistOn  = moderation.AllowlistModeSet{Enabled: true}
	allowlistOff = moderation.AllowlistModeSet{Enabled: false}
)

func TestDecideInstancePolicy(t *testing.T) {
	type when func(moderation.InstanceState) ([]any, error)
	block := func(d string, s moderation.Severity, pub, priv string) when {
		return func(st moderation.InstanceState) ([]any, error) { return moderation.BlockDomain(st, d, s, pub, priv) }
	}
	unblock := func(d string) when {
		return func(st moderation.InstanceState) ([]any, error) { return moderation.UnblockDomain(st, d) }
	}
	mode := func(on bool) when {
		return func(st moderation.InstanceState) ([]any, error) { return moderation.SetAllowlistMode(st, on) }
	}
	allow := func(d string) when {
		return func(st moderation.InstanceState) ([]any, error) { return moderation.AllowDomain(st, d) }
	}
	disallow := func(d string) when {
		return func(st moderation.InstanceState) ([]any, error) { return moderation.DisallowDomain(st, d) }
	}
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
	}{
		{name: "block", when: block("Bad.Example", "reject", "spam", ""), then: []any{blockBad}},
		{name: "block again, same", given: []any{blockBad}, when: block("bad.example", "reject", "spam", "")},
		{name: "block again, silence instead", given: []any{blockBad}, when: block("bad.example", "silence", "spam", "was reject"),
			then: []any{moderation.DomainBlocked{Domain: "bad.example", Severity: "silence", PublicComment: "spam", PrivateComment: "was reject"}}},
		{name: "block after unblock", given: []any{blockBad, moderation.DomainUnblocked{Domain: "bad.example"}},
			when: block("bad.example", "reject", "spam", ""), then: []any{blockBad}},
		{name: "block with an unknown severity", when: block("bad.example", "suspend", "", ""), wantErr: moderation.ErrInvalid},
		{name: "block a non-domain", when: block("bad example", "reject", "", ""), wantErr: moderation.ErrInvalid},
		{name: "block with a huge comment", when: block("bad.example", "reject", strings.Repeat("x", moderation.MaxCommentLength+1), ""),
			wantErr: moderation.ErrInvalid},
		{name: "unblock", given: []any{blockBad, silenceMeh}, when: unblock("BAD.example."),
			then: []any{moderation.DomainUnblocked{Domain: "bad.example"}}},
		{name: "unblock unknown", given: []any{silenceMeh}, when: unblock("bad.example"), wantErr: moderation.ErrNotFound},
		{name: "unblock a subdomain of a block", given: []any{blockBad}, when: unblock("x.bad.example"), wantErr: moderation.ErrNotFound},
		{name: "unblock twice", given: []any{blockBad, moderation.DomainUnblocked{Domain: "bad.example"}}, when: unblock("bad.example"),
			wantErr: moderation.ErrNotFound},
		{name: "allow-list mode on", when: mode(true), then: []any{allowlistOn}},
		{name: "allow-list mode on again", given: []any{allowlistOn}, when: mode(true)},
		{name: "allow-list mode off", given: []any{allowlistOn}, when: mode(false), then: []any{allowlistOff}},
		{name: "allow-list mode off when off", when: mode(false)},
		{name: "allow", when: allow("*.Friend.example"), then: []any{allowFriend}},
		{name: "allow again", given: []any{allowFriend}, when: allow("friend.example")},
		{name: "allow garbage", when: allow("friend.example/x"), wantErr: moderation.ErrInvalid},
		{name: "disallow", given: []any{allowFriend}, when: disallow("friend.example"), then: []any{moderation.DomainDisallowed{Domain: "friend.example"}}},
		{name: "disallow unknown", when: disallow("friend.example"), wantErr: moderation.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := moderation.FoldInstance(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if len(got) != 0 || len(tc.then) != 0 {
				if !reflect.DeepEqual(got, tc.then) {
					t.Fatalf("then %#v, want %#v", got, tc.then)
				}
			}
			// What was decided applies to the state.
			for _, e := range got {
				if err := s.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestFoldedRulesDecide(t *testing.T) {
	s, err := moderation.FoldInstance(blockBad, silenceMeh, allowFriend, allowlistOn, moderation.DomainUnblocked{Domain: "meh.example"},
		moderation.DomainAllowed{Domain: "meh.example"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]moderation.Decision{"bad.example": moderation.Reject, "meh.example": moderation.Allow,
		"a.friend.example": moderation.Allow, "other.example": moderation.Reject} {
		if got := s.Decide(host); got != want {
			t.Errorf("Decide(%s) = %s, want %s", host, got, want)
		}
	}
}

const (
	bob  = "https://remote.example/users/bob"
	flag = "https://remote.example/flags/1"
)

var (
	at       = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	received = moderation.ReportReceived{ReportID: "r1", ReporterIRI: "https://remote.example/actor",
		TargetIRIs: []string{"https://hanse.example/users/ada"}, Content: "spam", FlagActivityID: flag, ReceivedAt: at}
	resolved = moderation.ReportResolved{By: "admin-token", Note: "warned"}
	blocked  = moderation.ActorBlockedUs{RemoteActorIRI: bob, LocalActorID: "u1", LocalActorIRI: "https://hanse.example/users/ada",
		BlockActivityID: "https://remote.example/blocks/1"}
	unblocked = moderation.ActorUnblockedUs{UndoActivityID: "https://remote.example/undos/1"}
)

func TestDecideReports(t *testing.T) {
	type when func(moderation.ReportState) ([]any, error)
	receive := func(r moderation.ReportReceived) when {
		return func(s moderation.ReportState) ([]any, error) { return moderation.ReceiveReport(s, r) }
	}
	resolve := func(by, note string) when {
		return func(s moderation.ReportState) ([]any, error) { return moderation.ResolveReport(s, by, note) }
	}
	long := received
	long.Content = strings.Repeat("ü", moderation.MaxReportContent+5)
	long.TargetIRIs = make([]string, moderation.MaxReportTargets+1)
	for i := range long.TargetIRIs {
		long.TargetIRIs[i] = "https://hanse.example/users/ada"
	}
	cut := long
	cut.Content, cut.TargetIRIs = strings.Repeat("ü", moderation.MaxReportContent), long.TargetIRIs[:moderation.MaxReportTargets]
	noTargets := received
	noTargets.TargetIRIs = nil
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
	}{
		{name: "receive", when: receive(received), then: []any{received}},
		{name: "receive twice", given: []any{received}, when: receive(received)},
		{name: "receive long", when: receive(long), then: []any{cut}},
		{name: "receive without targets", when: receive(noTargets), wantErr: moderation.ErrInvalid},
		{name: "resolve", given: []any{received}, when: resolve("admin-token", "warned"), then: []any{resolved}},
		{name: "resolve twice", given: []any{received, resolved}, when: resolve("admin-token", "again")},
		{name: "resolve unknown", when: resolve("admin-token", ""), wantErr: moderation.ErrNotFound},
		{name: "resolve anonymously", given: []any{received}, when: resolve("", ""), wantErr: moderation.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s moderation.ReportState
			for _, e := range tc.given {
				if err := s.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if (len(got) != 0 || len(tc.then) != 0) && !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("then %#v, want %#v", got, tc.then)
			}
		})
	}
}

func TestDecideActorBlocks(t *testing.T) {
	type when func(moderation.ActorBlockState) ([]any, error)
	block := func(b moderation.ActorBlockedUs) when {
		return func(s moderation.ActorBlockState) ([]any, error) { return moderation.ReceiveBlock(s, b) }
	}
	undo := func(id string) when {
		return func(s moderation.ActorBlockState) ([]any, error) { return moderation.ReceiveUndoBlock(s, id) }
	}
	second := blocked
	second.BlockActivityID = "https://remote.example/blocks/2"
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
	}{
		{name: "block", when: block(blocked), then: []any{blocked}},
		{name: "same block twice", given: []any{blocked}, when: block(blocked)},
		{name: "another block while blocked", given: []any{blocked}, when: block(second)},
		{name: "old block replayed after undo", given: []any{blocked, unblocked}, when: block(blocked)},
		{name: "new block after undo", given: []any{blocked, unblocked}, when: block(second), then: []any{second}},
		{name: "block without id", when: block(moderation.ActorBlockedUs{RemoteActorIRI: bob, LocalActorID: "u1"}), wantErr: moderation.ErrInvalid},
		{name: "undo", given: []any{blocked}, when: undo(unblocked.UndoActivityID), then: []any{unblocked}},
		{name: "undo twice", given: []any{blocked, unblocked}, when: undo(unblocked.UndoActivityID)},
		{name: "undo without block", when: undo("https://remote.example/undos/9")},
		{name: "undo without id", given: []any{blocked}, when: undo(""), wantErr: moderation.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s moderation.ActorBlockState
			for _, e := range tc.given {
				if err := s.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if (len(got) != 0 || len(tc.then) != 0) && !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("then %#v, want %#v", got, tc.then)
			}
		})
	}
}

func TestStreams(t *testing.T) {
	if moderation.ActorBlockStream(bob, "u1") == moderation.ActorBlockStream(bob, "u2") ||
		!strings.HasPrefix(moderation.ActorBlockStream(bob, "u1"), "actorblock-") || moderation.ReportStream("r1") != "report-r1" {
		t.Fatal("stream names")
	}
}
