package outbound_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// BenchmarkAnnounceFanout measures a community's announce fan-out: a post
// published into a community with 10,000 remote members (followers of its
// Group) and announced by the Group, until the outbound projector has
// rendered the Group's Announce{Create} and Mastodon-compatible Announce
// and recorded one durable delivery per inbox in its checkpoint's
// transaction. "hosts" spreads the members over that many servers with
// shared inboxes (deduplicated: one delivery per server and activity);
// "no-shared-inbox" is the worst case of one personal inbox per member.
//
//	go test -run '^$' -bench AnnounceFanout -benchtime 20x ./federation/outbound
func BenchmarkAnnounceFanout(b *testing.B) {
	const members = 10_000
	for _, c := range []struct {
		name  string
		hosts int // 0: every member its own inbox, no shared inbox
	}{{"members=10000/hosts=100", 100}, {"members=10000/no-shared-inbox", 0}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			reg := events.NewRegistry()
			actor.Register(reg)
			follow.Register(reg)
			post.Register(reg)
			account.Register(reg)
			dir := b.TempDir()
			store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			cipher := personal.Plain{}
			r, err := projections.New(store, filepath.Join(dir, "projections.db"), nil, nil, projections.Options{},
				outbound.New(scheme, outbound.Options{Opener: cipher, Clock: func() time.Time { return rulesSince }}))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if err := delivery.EnsureSchema(ctx, r.DB()); err != nil {
				b.Fatal(err)
			}
			if err := r.Start(ctx); err != nil {
				b.Fatal(err)
			}
			appendEv := func(stream string, payloads ...any) events.Position {
				var evs []events.EventData
				for _, p := range payloads {
					ev, err := reg.NewEvent(events.NewUUID(), p, events.Metadata{OccurredAt: at})
					if err != nil {
						b.Fatal(err)
					}
					evs = append(evs, ev)
				}
				res, err := store.Append(ctx, stream, events.Any, evs...)
				if err != nil {
					b.Fatal(err)
				}
				return res.Position
			}
			appendEv(actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1})
			appendEv(actor.Stream("g1"), actor.Created{ActorID: "g1", Kind: actor.KindGroup, Username: "lernen", KeyGeneration: 1})
			// 10,000 accepted follows of the Group, appended by 32 writers.
			var wg sync.WaitGroup
			var mu sync.Mutex
			var last events.Position
			for w := 0; w < 32; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < members; i += 32 {
						host := fmt.Sprintf("m%d.example", i)
						shared := ""
						if c.hosts > 0 {
							host = fmt.Sprintf("h%d.example", i%c.hosts)
							shared = "https://" + host + "/inbox"
						}
						iri := fmt.Sprintf("https://%s/users/u%d", host, i)
						pos := appendEv(follow.Stream(iri, groupIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: "g1",
							FollowerIRI: iri, FolloweeIRI: groupIRI, FollowActivityID: iri + "/follows/1", RemoteInbox: iri + "/inbox",
							RemoteSharedInbox: shared}, follow.Accepted{})
						mu.Lock()
						last = max(last, pos)
						mu.Unlock()
					}
				}(w)
			}
			wg.Wait()
			if err := r.WaitFor(ctx, outbound.Name, last); err != nil {
				b.Fatal(err)
			}
			before := countDeliveries(b, r)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("p%d", i)
				content, err := personal.SealJSON(cipher, "a1", post.Content{ContentMap: map[string]string{"de": "Schwarmzeit im Mai"}})
				if err != nil {
					b.Fatal(err)
				}
				pos := appendEv(post.Stream(id), post.Published{PostID: id, Kind: post.Note, AuthorID: "a1", CommunityID: "g1",
					RootID: id, Visibility: post.Public, Languages: []string{"de"}, Content: content},
					post.Announced{CommunityID: "g1"})
				if err := r.WaitFor(ctx, outbound.Name, pos); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			made := countDeliveries(b, r) - before
			b.ReportMetric(float64(made)/float64(b.N), "deliveries/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(made)/1e3, "µs/delivery")
		})
	}
}

func countDeliveries(b *testing.B, r *projections.Runner) int {
	b.Helper()
	var n int
	if err := r.DB().Reader().QueryRowContext(context.Background(), `SELECT count(*) FROM federation_deliveries`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
