package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const inboxDescription = `
Measure inbox ingest: create a Group on the running server, serve fake
remote actors (RSA-2048 keys) on loopback, sign --count distinct
Create{Note} activities ahead of time (signing is not timed), POST them to
the Group's inbox over --connections concurrent keep-alive connections and
report accepted (202: verified and durable) activities per second, and
their ratio to RSA-2048 verifications/s per core × GOMAXPROCS measured in
the same run (goal ≥ 0.3).

Hanse's inbox rate-limits each remote host (keyId host and client address:
50 requests/s, burst 100 by default). Each fake remote server has its own
loopback port, hence its own budget: --servers 1 shows the limit, the
default spreads the load like many peers would. Responses 429 are counted
and not retried.
`

// Bounds of the inbox flags.
const (
	maxCount       = 100000
	maxConnections = 1024
	maxServers     = 256
)

// Public is the ActivityStreams public collection.
const public = "https://www.w3.org/ns/activitystreams#Public"

// inboxResult is what one inbox run measured.
type inboxResult struct {
	sent, accepted, limited int
	statuses                map[int]int    // other statuses
	examples                map[int]string // a body per other status
	errors                  int
	firstErr                error
	elapsed                 time.Duration
	latencies               []time.Duration
}

func runInbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var count, conns, servers int
	fs := newFlagSet("inbox", "--target URL --admin-token TOKEN [--count N] [--connections C] [flags]", inboxDescription, args, stdout, stderr)
	c.register(fs, 5*time.Minute)
	fs.IntVar(&count, "count", 5000, fmt.Sprintf("distinct signed Create{Note} activities to POST (1-%d)", maxCount))
	fs.IntVar(&conns, "connections", 32, fmt.Sprintf("concurrent keep-alive connections (1-%d)", maxConnections))
	fs.IntVar(&servers, "servers", 32, fmt.Sprintf("fake remote servers, each on its own loopback port with one actor (1-%d)", maxServers))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	for _, b := range []struct {
		name      string
		v, lo, hi int
	}{{"count", count, 1, maxCount}, {"connections", conns, 1, maxConnections}, {"servers", servers, 1, maxServers}} {
		if err := intInRange(b.name, b.v, b.lo, b.hi); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	client := newClient(conns, 30*time.Second)
	defer client.CloseIdleConnections()
	h := &hanseAPI{base: c.base, token: c.token, client: client}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "hanse-load inbox: "+format+"\n", a...) }

	// Fake remote servers, one actor each, sharing a few keys.
	keys, err := keyPool(ctx, min(servers, 4))
	if err != nil {
		return err
	}
	run := runID()
	actors := make([]*remoteActor, servers)
	for i := range actors {
		s, err := newRemoteServer(ctx, nil)
		if err != nil {
			return err
		}
		defer s.close()
		if actors[i], err = s.add(i, fmt.Sprintf("load%d", i), keys[i%len(keys)]); err != nil {
			return err
		}
		s.start()
	}

	g, err := h.createGroup(ctx, "load_in_"+run)
	if err != nil {
		return err
	}
	inboxURL, err := h.local(g.Inbox)
	if err != nil {
		return err
	}
	progress("group %s, inbox %s; %d fake remote servers", g.IRI, inboxURL, servers)

	// Warm up: one activity per actor makes the server fetch and cache
	// every actor's key before the timed window.
	if err := warmUp(ctx, client, actors, inboxURL, g.IRI, run); err != nil {
		return err
	}

	// Sign everything before the timed window.
	signStart := time.Now()
	reqs, err := presign(ctx, count, func(i int) (signedRequest, error) {
		a := actors[i%len(actors)]
		return a.sign(inboxURL, createNote(a, g.IRI, fmt.Sprintf("%s-%d", run, i)))
	})
	if err != nil {
		return err
	}
	progress("%d activities signed in %s (not timed)", count, time.Since(signStart).Round(time.Millisecond))

	verify, err := measureRSA(keys[0], false, c.rsaTime)
	if err != nil {
		return err
	}
	res := blast(ctx, client, reqs, conns)
	if ctx.Err() != nil {
		return fmt.Errorf("run stopped after %s: %w", c.timeout, ctx.Err())
	}
	printInbox(stdout, c.base.String(), g, count, conns, servers, res, verify)
	if res.accepted < count {
		return fmt.Errorf("%d of %d activities accepted", res.accepted, count)
	}
	return nil
}

// warmUp sends one signed Like of the group per actor and requires 202.
func warmUp(ctx context.Context, client *http.Client, actors []*remoteActor, inboxURL, groupIRI, run string) error {
	errs := make([]error, len(actors))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, a := range actors {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
				"id": a.iri + "/likes/" + run, "type": "Like", "actor": a.iri, "object": groupIRI})
			sr, err := a.sign(inboxURL, body)
			if err != nil {
				errs[i] = err
				return
			}
			status, _, msg, err := sr.send(ctx, client)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("warm-up POST: %w", err)
			case status == http.StatusUnauthorized:
				errs[i] = fmt.Errorf("warm-up POST by %s: 401 %s (does the server run with HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8, so that it may fetch the fake actors?)", a.iri, msg)
			case status != http.StatusAccepted:
				errs[i] = fmt.Errorf("warm-up POST by %s: %d %s", a.iri, status, msg)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createNote is a Create{Note} by a addressed to the public and the group.
func createNote(a *remoteActor, groupIRI, suffix string) []byte {
	id := a.iri + "/statuses/" + suffix
	now := time.Now().UTC().Format(time.RFC3339)
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id + "/activity", "type": "Create", "actor": a.iri, "published": now,
		"to": []string{public}, "cc": []string{groupIRI, a.iri + "/followers"},
		"object": map[string]any{"id": id, "type": "Note", "attributedTo": a.iri, "published": now,
			"content": "<p>Moin from hanse-load, note " + suffix + ".</p>",
			"to":      []string{public}, "cc": []string{groupIRI, a.iri + "/followers"}},
	})
	return b
}

// presign builds n signed requests on GOMAXPROCS goroutines.
func presign(ctx context.Context, n int, build func(i int) (signedRequest, error)) ([]signedRequest, error) {
	reqs := make([]signedRequest, n)
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				sr, err := build(i)
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
				reqs[i] = sr
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return reqs, ctx.Err()
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// blast sends every request once from conns workers and measures the
// window from the first send to the last answer.
func blast(ctx context.Context, client *http.Client, reqs []signedRequest, conns int) inboxResult {
	res := inboxResult{statuses: map[int]int{}, examples: map[int]string{}, latencies: make([]time.Duration, len(reqs))}
	answered := make([]bool, len(reqs))
	type tally struct {
		accepted, limited, errs int
		statuses                map[int]int
		examples                map[int]string
		firstErr                error
	}
	tallies := make([]tally, conns)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		t := &tallies[w]
		t.statuses, t.examples = map[int]int{}, map[int]string{}
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				t0 := time.Now()
				status, _, msg, err := reqs[i].send(ctx, client)
				res.latencies[i] = time.Since(t0)
				answered[i] = err == nil
				switch {
				case err != nil:
					t.errs++
					t.firstErr = cmpOr(t.firstErr, err)
				case status == http.StatusAccepted:
					t.accepted++
				case status == http.StatusTooManyRequests:
					t.limited++
				default:
					t.statuses[status]++
					if _, ok := t.examples[status]; !ok {
						t.examples[status] = msg
					}
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	for _, t := range tallies {
		res.accepted += t.accepted
		res.limited += t.limited
		res.errors += t.errs
		res.firstErr = cmpOr(res.firstErr, t.firstErr)
		for s, n := range t.statuses {
			res.statuses[s] += n
			res.examples[s] = t.examples[s]
		}
	}
	lat := res.latencies[:0]
	for i, ok := range answered {
		if ok {
			lat = append(lat, res.latencies[i])
			res.sent++
		}
	}
	res.latencies = lat
	slices.Sort(res.latencies)
	return res
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(sorted)-1))
	return sorted[i]
}

func printInbox(w io.Writer, target string, g group, count, conns, servers int, r inboxResult, verify rsaLimit) {
	rate := float64(r.accepted) / r.elapsed.Seconds()
	fmt.Fprintf(w, "inbox ingest against %s (group %s)\n", target, g.IRI)
	fmt.Fprintf(w, "activities: %d signed Create{Note}, %d connections, %d fake remote servers, GOMAXPROCS %d\n",
		count, conns, servers, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "accepted: %d/%d in %s\n", r.accepted, count, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "rate: %.1f accepted activities/s\n", rate)
	fmt.Fprintf(w, "latency: p50 %s, p90 %s, p99 %s, max %s\n", percentile(r.latencies, 50).Round(time.Microsecond*100),
		percentile(r.latencies, 90).Round(time.Microsecond*100), percentile(r.latencies, 99).Round(time.Microsecond*100),
		percentile(r.latencies, 100).Round(time.Microsecond*100))
	fmt.Fprintf(w, "refused: %d rate-limited (429)", r.limited)
	codes := make([]int, 0, len(r.statuses))
	for s := range r.statuses {
		codes = append(codes, s)
	}
	sort.Ints(codes)
	for _, s := range codes {
		fmt.Fprintf(w, ", %d × %d (%.120s)", r.statuses[s], s, r.examples[s])
	}
	fmt.Fprintf(w, "; transport errors: %d", r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(w, " (%v)", r.firstErr)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, verify)
	fmt.Fprintf(w, "ratio: %.4f of the RSA-2048 verify limit (goal >= 0.3)\n", rate/verify.Limit())
	if r.limited > 0 {
		fmt.Fprintf(w, "note: the inbox's per-remote-host rate limit capped this run (inbox.Options.Rate/Burst, default %d/s, burst %d,\n"+
			"      keyed by keyId host and client address; hanse serve has no flag for it): use more --servers or raise the limit\n", 50, 100)
	}
}
