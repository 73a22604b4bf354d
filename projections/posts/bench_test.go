package posts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// The benchmark's world: benchPosts posts by benchMembers local people
// (each a member of benchJoins of benchCommunities communities and
// following benchFollows of benchRemotes remote authors) and the remote
// authors.
const (
	benchPosts       = 100_000
	benchMembers     = 10_000
	benchCommunities = 100
	benchJoins       = 5
	benchRemotes     = 1_000
	benchFollows     = 3
)

var (
	benchOnce   sync.Once
	benchReader posts.Reader
	benchErr    error
)

// bulk appends many events per append (the projector takes post ids from
// the payloads, so they need not be in their posts' streams), which keeps
// building the world fast.
type bulk struct {
	tb     testing.TB
	env    *projectiontest.Env
	stream string
	batch  []events.EventData
	size   int
	n      int
}

func (b *bulk) add(payload any) {
	ed, err := b.env.Registry.NewEvent(events.NewUUID(), payload, events.Metadata{OccurredAt: time.Unix(1_700_000_000+int64(b.n), 0)})
	if err != nil {
		b.tb.Fatal(err)
	}
	b.n++
	if b.size+ed.Size() > 900_000 || len(b.batch) == 5000 {
		b.flush()
	}
	b.batch, b.size = append(b.batch, ed), b.size+ed.Size()
}

func (b *bulk) flush() {
	if len(b.batch) == 0 {
		return
	}
	if _, err := b.env.Store.Append(context.Background(), fmt.Sprintf("%s-%d", b.stream, b.n), events.Any, b.batch...); err != nil {
		b.tb.Fatal(err)
	}
	b.batch, b.size = nil, 0
}

func buildBenchWorld(tb testing.TB) {
	w := &world{env: projectiontest.Open(tb), opener: personal.Plain{}}
	registerAll(w.env.Registry)
	rng := rand.New(rand.NewPCG(1, 2))
	bk := &bulk{tb: tb, env: w.env, stream: "bench"}
	member := func(i int) string { return fmt.Sprintf("m%05d", i) }
	remote := func(i int) string { return fmt.Sprintf("https://remote%d.example/users/r%d", i%50, i) }
	for i := range benchMembers {
		bk.add(actor.Created{ActorID: member(i), Kind: actor.KindPerson, Username: member(i)})
		for _, c := range rng.Perm(benchCommunities)[:benchJoins] {
			bk.add(community.MemberJoined{CommunityID: fmt.Sprintf("c%03d", c), Member: member(i), Role: community.Member})
		}
	}
	bk.flush()
	// One stream per follow (the projector keys follows by stream),
	// appended concurrently so that the store commits them in groups.
	type pair struct{ person, followee string }
	follows := make(chan pair)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range follows {
				req, _ := w.env.Registry.NewEvent(events.NewUUID(), follow.Requested{Direction: follow.Outbound,
					LocalActorID: f.person, FollowerIRI: actorIRI(f.person), FolloweeIRI: f.followee, FollowActivityID: "f"}, events.Metadata{})
				acc, _ := w.env.Registry.NewEvent(events.NewUUID(), follow.Accepted{AcceptActivityID: "a"}, events.Metadata{})
				if _, err := w.env.Store.Append(context.Background(), follow.Stream(actorIRI(f.person), f.followee), events.Any, req, acc); err != nil {
					panic(err)
				}
			}
		}()
	}
	for i := range benchMembers {
		for _, r := range rng.Perm(benchRemotes)[:benchFollows] {
			follows <- pair{member(i), remote(r)}
		}
	}
	close(follows)
	wg.Wait()
	visibilities := []post.Visibility{post.Public, post.Public, post.Public, post.Unlisted, post.Followers, post.Direct}
	for i := range benchPosts {
		id := fmt.Sprintf("p%06d", i)
		ev := post.Published{PostID: id, Kind: post.Note, RootID: id, Languages: []string{"de"}}
		switch r := rng.IntN(10); {
		case r < 6: // a member posts into a community
			ev.AuthorID, ev.CommunityID = member(rng.IntN(benchMembers)), fmt.Sprintf("c%03d", rng.IntN(benchCommunities))
			ev.Visibility = post.Public
			if rng.IntN(4) == 0 {
				ev.Visibility = post.Members
			}
		case r < 9: // a remote author
			ev.AuthorIRI, ev.ObjectIRI = remote(rng.IntN(benchRemotes)), fmt.Sprintf("https://x.example/o/%d", i)
			ev.Visibility = visibilities[rng.IntN(len(visibilities))]
		default: // a member's own post
			ev.AuthorID, ev.Visibility = member(rng.IntN(benchMembers)), visibilities[rng.IntN(len(visibilities))]
		}
		if ev.Visibility == post.Direct {
			ev.Mentions = []string{actorIRI(member(rng.IntN(benchMembers)))}
		}
		subject := ev.AuthorID
		if subject == "" {
			subject = ev.AuthorIRI
		}
		ev.Content = sealText(subject, post.Content{ContentMap: map[string]string{"de": "Ein Beitrag über Bienen und Honig"}})
		bk.add(ev)
	}
	bk.flush()
	r, err := projections.New(w.env.Store, w.env.Dir+"/read.db", projectiontest.Quiet, nil, projections.Options{},
		posts.New(w.opener, iris))
	if err != nil {
		benchErr = err
		return
	}
	if err := r.Start(context.Background()); err != nil {
		benchErr = err
		return
	}
	head, _ := w.env.Store.Head(context.Background())
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := r.WaitFor(wctx, posts.Name, head); err != nil {
		benchErr = err
		return
	}
	benchReader = posts.NewReader(r.DB())
}

// BenchmarkHomeTimeline reads the first page (20 posts) of home timelines
// of 10,000 people over 100,000 posts and reports the median and 99th
// percentile latency.
func BenchmarkHomeTimeline(b *testing.B) {
	benchOnce.Do(func() { buildBenchWorld(b) })
	if benchErr != nil || benchReader == nil {
		b.Fatalf("building the world: %v", benchErr)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		person := fmt.Sprintf("m%05d", (i*7919)%benchMembers)
		start := time.Now()
		ps, err := benchReader.HomeTimeline(ctx, person, posts.Page{})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) == 0 {
			b.Fatalf("empty home timeline for %s", person)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
