package moderation_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	domain "github.com/hanse-network/hanse/internal/domain/moderation"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/moderation"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

// ev is one event on a stream.
type ev struct {
	stream  string
	payload any
}

func policy(p any) ev { return ev{domain.InstanceStream, p} }

func report(id string, targets ...string) ev {
	return ev{domain.ReportStream(id), domain.ReportReceived{ReportID: id, ReporterIRI: "https://remote.example/actor",
		TargetIRIs: targets, Content: "about " + id, FlagActivityID: "https://remote.example/flags/" + id, ReceivedAt: at(1)}}
}

func resolve(id, note string) ev {
	return ev{domain.ReportStream(id), domain.ReportResolved{By: "admin", Note: note}}
}

func block(remote, local string) ev {
	return ev{domain.ActorBlockStream(remote, local), domain.ActorBlockedUs{RemoteActorIRI: remote, LocalActorID: local,
		LocalActorIRI: "https://hanse.example/users/" + local, BlockActivityID: remote + "#block"}}
}

// project appends evs to a fresh store, runs the projection to the head
// and returns its reader and runner.
func project(t testing.TB, evs []ev) (moderation.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	domain.Register(env.Registry)
	for i, e := range evs {
		env.Record(e.stream, e.payload, events.Metadata{OccurredAt: at(i)})
	}
	env.AppendUnrelated()
	r := env.Start(moderation.New())
	return moderation.NewReader(r.DB()), r
}

var policyEvents = []any{
	domain.DomainBlocked{Domain: "bad.example", Severity: domain.SeverityReject, PublicComment: "spam", PrivateComment: "ticket 4"},
	domain.DomainBlocked{Domain: "meh.example", Severity: domain.SeverityReject},
	domain.DomainBlocked{Domain: "meh.example", Severity: domain.SeveritySilence, PublicComment: "downgraded"},
	domain.DomainBlocked{Domain: "ok.bad.example", Severity: domain.SeveritySilence},
	domain.DomainBlocked{Domain: "port.example:8443", Severity: domain.SeverityReject},
	domain.DomainBlocked{Domain: "gone.example", Severity: domain.SeverityReject},
	domain.DomainUnblocked{Domain: "gone.example"},
	domain.DomainAllowed{Domain: "friend.example"},
	domain.DomainAllowed{Domain: "meh.example"},
	domain.DomainAllowed{Domain: "old.example"},
	domain.DomainDisallowed{Domain: "old.example"},
}

var hosts = []string{"bad.example", "x.bad.example", "ok.bad.example", "a.ok.bad.example:1", "meh.example", "sub.meh.example",
	"port.example", "port.example:8443", "a.port.example:8443", "friend.example", "social.friend.example:8080",
	"gone.example", "old.example", "stranger.example", "BAD.Example.", "notbad.example", "", "127.0.0.1:8080", "[::1]:8080"}

// TestPolicyMatchesTheDomain: the read model's Policy answers exactly what
// Rules.Decide over the folded stream answers, with the allow-list mode
// off and on.
func TestPolicyMatchesTheDomain(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowlist=%v", mode), func(t *testing.T) {
			payloads := append([]any(nil), policyEvents...)
			if mode {
				payloads = append(payloads, domain.AllowlistModeSet{Enabled: true})
			} else {
				payloads = append(payloads, domain.AllowlistModeSet{Enabled: true}, domain.AllowlistModeSet{Enabled: false})
			}
			var evs []ev
			for _, p := range payloads {
				evs = append(evs, policy(p))
			}
			q, _ := project(t, evs)
			folded, err := domain.FoldInstance(payloads...)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hosts {
				got, err := q.Policy(ctx, h)
				if err != nil {
					t.Fatal(err)
				}
				if want := folded.Decide(h); got != want {
					t.Errorf("Policy(%q) = %s, domain says %s", h, got, want)
				}
			}
			if m, err := q.AllowlistMode(ctx); err != nil || m != mode {
				t.Fatalf("AllowlistMode = %v, %v", m, err)
			}
		})
	}
}

func TestPolicyFigures(t *testing.T) {
	var evs []ev
	for _, p := range policyEvents {
		evs = append(evs, policy(p))
	}
	q, _ := project(t, evs)
	ctx := context.Background()
	want := map[string]domain.Decision{"bad.example": domain.Reject, "x.bad.example": domain.Reject, "ok.bad.example": domain.Silence,
		"meh.example": domain.Silence, "port.example": domain.Allow, "a.port.example:8443": domain.Reject, "gone.example": domain.Allow,
		"stranger.example": domain.Allow}
	for h, w := range want {
		if got, err := q.Policy(ctx, h); err != nil || got != w {
			t.Errorf("Policy(%s) = %s, %v; want %s", h, got, err, w)
		}
	}
	blocks, err := q.DomainBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range blocks {
		names = append(names, string(b.Severity)+":"+b.Domain)
	}
	if fmt.Sprint(names) != "[reject:bad.example silence:meh.example silence:ok.bad.example reject:port.example:8443]" {
		t.Fatalf("blocks %v", names)
	}
	if b := blocks[1]; b.PublicComment != "downgraded" || b.PrivateComment != "" || !b.BlockedAt.Equal(at(2)) || b.Position == 0 {
		t.Fatalf("meh block %+v", b)
	}
	if b := blocks[0]; b.PrivateComment != "ticket 4" {
		t.Fatalf("bad block %+v", b)
	}
	allowed, err := q.AllowedDomains(ctx)
	if err != nil || len(allowed) != 2 || allowed[0].Domain != "friend.example" || allowed[1].Domain != "meh.example" {
		t.Fatalf("allowed %+v %v", allowed, err)
	}
}

func TestReportsAndActorBlocks(t *testing.T) {
	evs := []ev{report("r1", "https://hanse.example/users/ada"), report("r2", "https://hanse.example/users/bo", "https://hanse.example/notes/1"),
		report("r3", "https://hanse.example/users/ada"), resolve("r2", "warned"), report("r4", "https://hanse.example/users/cy"),
		block("https://remote.example/users/x", "u1"), block("https://remote.example/users/y", "u1"), block("https://remote.example/users/x", "u2"),
		{domain.ActorBlockStream("https://remote.example/users/y", "u1"), domain.ActorUnblockedUs{UndoActivityID: "undo"}}}
	q, _ := project(t, evs)
	ctx := context.Background()
	ids := func(p moderation.ReportPage) []string {
		out := []string{}
		for _, r := range p.Items {
			out = append(out, r.ID)
		}
		return out
	}
	all, err := q.Reports(ctx, false, "", 3)
	if err != nil || fmt.Sprint(ids(all)) != "[r4 r3 r2]" || all.Next == "" {
		t.Fatalf("all, page 1: %v %q %v", ids(all), all.Next, err)
	}
	rest, err := q.Reports(ctx, false, all.Next, 3)
	if err != nil || fmt.Sprint(ids(rest)) != "[r1]" || rest.Next != "" {
		t.Fatalf("all, page 2: %v %q %v", ids(rest), rest.Next, err)
	}
	open, err := q.Reports(ctx, true, "", 10)
	if err != nil || fmt.Sprint(ids(open)) != "[r4 r3 r1]" {
		t.Fatalf("open: %v %v", ids(open), err)
	}
	if _, err := q.Reports(ctx, true, "abc", 10); !errors.Is(err, moderation.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := q.Reports(ctx, true, "", 0); err == nil {
		t.Fatal("limit 0 accepted")
	}
	r2, err := q.Report(ctx, "r2")
	if err != nil || !r2.Resolved || r2.Note != "warned" || r2.ResolvedBy != "admin" || !r2.ResolvedAt.Equal(at(3)) ||
		!reflect.DeepEqual(r2.TargetIRIs, []string{"https://hanse.example/users/bo", "https://hanse.example/notes/1"}) ||
		r2.FlagActivityID != "https://remote.example/flags/r2" || !r2.ReceivedAt.Equal(at(1)) || r2.Content != "about r2" {
		t.Fatalf("r2 %+v %v", r2, err)
	}
	if _, err := q.Report(ctx, "nope"); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("unknown report: %v", err)
	}
	u1, err := q.ActorBlocks(ctx, "u1")
	if err != nil || len(u1) != 1 || u1[0].RemoteActorIRI != "https://remote.example/users/x" || u1[0].LocalActorIRI != "https://hanse.example/users/u1" {
		t.Fatalf("u1 blocks %+v %v", u1, err)
	}
	every, err := q.ActorBlocks(ctx, "")
	if err != nil || len(every) != 2 || every[0].LocalActorID != "u2" {
		t.Fatalf("all blocks %+v %v", every, err)
	}
}

func TestRebuildIsIdentical(t *testing.T) {
	var evs []ev
	for _, p := range policyEvents {
		evs = append(evs, policy(p))
	}
	for i := range 30 {
		id := fmt.Sprintf("r%d", i)
		evs = append(evs, report(id, "https://hanse.example/users/ada"))
		if i%3 == 0 {
			evs = append(evs, resolve(id, "ok"))
		}
		evs = append(evs, block(fmt.Sprintf("https://r%d.example/u", i), "u1"))
	}
	q, r := project(t, evs)
	ctx := context.Background()
	projectiontest.RebuildTwiceSameChecksum(t, r, moderation.Name, nil)
	if open, err := q.Reports(ctx, true, "", 200); err != nil || len(open.Items) != 20 {
		t.Fatalf("open reports after rebuilds: %d %v", len(open.Items), err)
	}
}

// BenchmarkPolicy measures one Policy lookup against 1,000 blocks.
func BenchmarkPolicy(b *testing.B) {
	var evs []ev
	for i := range 1000 {
		evs = append(evs, policy(domain.DomainBlocked{Domain: fmt.Sprintf("b%d.example", i), Severity: domain.SeverityReject}))
	}
	evs = append(evs, policy(domain.AllowlistModeSet{Enabled: true}), policy(domain.DomainAllowed{Domain: "friend.example"}))
	q, _ := project(b, evs)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		host := "social.friend.example"
		if i%2 == 1 {
			host = fmt.Sprintf("x.b%d.example", i%1000)
		}
		if _, err := q.Policy(ctx, host); err != nil {
			b.Fatal(err)
		}
	}
}
