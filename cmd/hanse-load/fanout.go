package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
)

const fanoutDescription = `
Measure delivery fan-out: create a Group on the running server, serve
--followers fake remote actors on one loopback receiver (each with its own
inbox, no shared inbox), make each follow the Group with a signed Follow,
wait until the server lists them all as followers and has delivered every
Accept, then publish one note of the Group through the admin API and time
the arrival of the signed Create at every inbox. The receiver verifies
each delivery's signature against the Group's key. Reports deliveries per
second (from publishing to the last arrival) and their ratio to RSA-2048
signatures/s per core × GOMAXPROCS measured in the same run (goal ≥ 0.8).

The Follows pass Hanse's inbox rate limit for one remote host (50/s, burst
100 by default): with many followers the setup is slowed by it (429s are
retried after Retry-After); the timed window is not.
`

// Bounds of the fanout flags.
const (
	maxFollowers     = 10000
	maxFollowWorkers = 256
)

func runFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var followers, workers int
	fs := newFlagSet("fanout", "--target URL --admin-token TOKEN [--followers N] [flags]", fanoutDescription, args, stdout, stderr)
	c.register(fs, 10*time.Minute)
	fs.IntVar(&followers, "followers", 1000, fmt.Sprintf("fake remote followers, each with its own inbox (1-%d)", maxFollowers))
	fs.IntVar(&workers, "follow-connections", 16, fmt.Sprintf("concurrent connections sending the Follows during setup (1-%d)", maxFollowWorkers))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := intInRange("followers", followers, 1, maxFollowers); err != nil {
		return err
	}
	if err := intInRange("follow-connections", workers, 1, maxFollowWorkers); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	client := newClient(workers+4, 30*time.Second)
	defer client.CloseIdleConnections()
	h := &hanseAPI{base: c.base, token: c.token, client: client}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "hanse-load fanout: "+format+"\n", a...) }

	run := runID()
	g, err := h.createGroup(ctx, "load_out_"+run)
	if err != nil {
		return err
	}
	inboxURL, err := h.local(g.Inbox)
	if err != nil {
		return err
	}
	rcv := newReceiver(h, g.IRI, followers)
	srv, err := newRemoteServer(ctx, rcv.serve)
	if err != nil {
		return err
	}
	defer srv.close()
	keys, err := keyPool(ctx, min(followers, 8))
	if err != nil {
		return err
	}
	actors := make([]*remoteActor, followers)
	for i := range actors {
		if actors[i], err = srv.add(i, fmt.Sprintf("f%d", i), keys[i%len(keys)]); err != nil {
			return err
		}
	}
	srv.start()
	progress("group %s; %d followers on receiver %s", g.IRI, followers, srv.base)

	setup := time.Now()
	if err := sendFollows(ctx, client, actors, inboxURL, g.IRI, run, workers); err != nil {
		return err
	}
	progress("%d Follows accepted by the inbox in %s", followers, time.Since(setup).Round(time.Millisecond))
	lastReport := time.Now()
	for {
		total, err := h.followersTotal(ctx, g.Followers)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("followers collection: %w", err)
		}
		if total >= followers && int(rcv.acceptCount.Load()) >= followers {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("after %s: %d/%d followers listed, %d/%d Accepts received: %w",
				c.timeout, total, followers, rcv.acceptCount.Load(), followers, ctx.Err())
		}
		if time.Since(lastReport) > 5*time.Second {
			progress("waiting: %d/%d followers listed, %d/%d Accepts received", total, followers, rcv.acceptCount.Load(), followers)
			lastReport = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	progress("setup done in %s: %d followers listed, %d Accepts received", time.Since(setup).Round(time.Millisecond), followers, followers)

	sign, err := measureRSA(keys[0], true, c.rsaTime)
	if err != nil {
		return err
	}
	rcv.arm()
	start := time.Now()
	if _, err := h.postNote(ctx, g.ID, "Moin from hanse-load "+run+": fan-out to "+fmt.Sprint(followers)+" followers."); err != nil {
		return err
	}
	select {
	case <-rcv.allCreated:
	case <-ctx.Done():
	}
	res := rcv.result(start)
	printFanout(stdout, c.base.String(), g, followers, res, sign)
	if res.delivered < followers {
		return fmt.Errorf("%d of %d deliveries arrived before the run's --timeout", res.delivered, followers)
	}
	if res.bad > 0 {
		return fmt.Errorf("%d deliveries failed signature verification", res.bad)
	}
	return nil
}

// sendFollows posts a signed Follow of the group by every actor, retrying
// 429 and 503 after their Retry-After.
func sendFollows(ctx context.Context, client *http.Client, actors []*remoteActor, inboxURL, groupIRI, run string, workers int) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(actors) {
					return
				}
				if err := follow(ctx, client, actors[i], inboxURL, groupIRI, run); err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

func follow(ctx context.Context, client *http.Client, a *remoteActor, inboxURL, groupIRI, run string) error {
	body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": a.iri + "/follows/" + run, "type": "Follow", "actor": a.iri, "object": groupIRI})
	for ctx.Err() == nil {
		sr, err := a.sign(inboxURL, body) // re-signed per attempt: a fresh Date
		if err != nil {
			return err
		}
		status, wait, msg, err := sr.send(ctx, client)
		switch {
		case err != nil:
			return fmt.Errorf("Follow by %s: %w", a.iri, err)
		case status == http.StatusAccepted:
			return nil
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			wait = min(max(wait, 100*time.Millisecond), 10*time.Second)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		case status == http.StatusUnauthorized:
			return fmt.Errorf("Follow by %s: 401 %s (does the server run with HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8?)", a.iri, msg)
		default:
			return fmt.Errorf("Follow by %s: %d %s", a.iri, status, msg)
		}
	}
	return ctx.Err()
}

// receiver is the fan-out receiver's inbox logic: it verifies every POST
// against the Group's key and records Accepts and Creates per follower.
type receiver struct {
	verifier    httpsig.Verifier
	groupIRI    string
	n           int
	accepted    []atomic.Bool
	acceptCount atomic.Int64
	armed       atomic.Bool
	created     []atomic.Int64 // arrival, Unix ns; 0: not yet
	createCount atomic.Int64
	duplicates  atomic.Int64
	bad         atomic.Int64
	other       atomic.Int64
	allCreated  chan struct{}
	mu          sync.Mutex
	firstBad    string
	keys        map[string]httpsig.PublicKey
}

func newReceiver(h *hanseAPI, groupIRI string, n int) *receiver {
	r := &receiver{groupIRI: groupIRI, n: n, accepted: make([]atomic.Bool, n), created: make([]atomic.Int64, n),
		allCreated: make(chan struct{}), keys: map[string]httpsig.PublicKey{}}
	r.verifier = httpsig.Verifier{Scheme: "http", Resolve: func(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
		r.mu.Lock()
		k, ok := r.keys[keyID]
		r.mu.Unlock()
		if ok {
			return k, nil
		}
		doc, _, _ := strings.Cut(keyID, "#")
		target, err := h.local(doc)
		if err != nil {
			return httpsig.PublicKey{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return httpsig.PublicKey{}, err
		}
		req.Header.Set("Accept", activityJSON)
		res, err := h.client.Do(req)
		if err != nil {
			return httpsig.PublicKey{}, err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		if err != nil {
			return httpsig.PublicKey{}, err
		}
		if res.StatusCode != http.StatusOK {
			return httpsig.PublicKey{}, &StatusError{Method: "GET", URL: target, Status: res.StatusCode, Body: string(raw)}
		}
		k, err = httpsig.PublicKeyFromDocument(raw, keyID)
		if err != nil {
			return httpsig.PublicKey{}, err
		}
		r.mu.Lock()
		r.keys[keyID] = k
		r.mu.Unlock()
		return k, nil
	}}
	return r
}

// arm makes Creates count from now on (the note is about to be posted).
func (r *receiver) arm() { r.armed.Store(true) }

func (r *receiver) refuse(w http.ResponseWriter, status int, why string) {
	r.bad.Add(1)
	r.mu.Lock()
	if r.firstBad == "" {
		r.firstBad = why
	}
	r.mu.Unlock()
	http.Error(w, why, status)
}

func (r *receiver) serve(a *remoteActor, w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxResponse))
	if err != nil {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	res, err := r.verifier.Verify(req.Context(), req, body)
	if err != nil {
		r.refuse(w, http.StatusUnauthorized, "signature: "+err.Error())
		return
	}
	var act struct {
		Type  string `json:"type"`
		Actor string `json:"actor"`
	}
	if err := json.Unmarshal(body, &act); err != nil {
		r.refuse(w, http.StatusBadRequest, "malformed activity: "+err.Error())
		return
	}
	if act.Actor != r.groupIRI || res.Owner != r.groupIRI {
		r.refuse(w, http.StatusUnauthorized, fmt.Sprintf("activity by %q signed by %q, want the group %s", act.Actor, res.Owner, r.groupIRI))
		return
	}
	switch {
	case act.Type == "Accept":
		if !r.accepted[a.index].Swap(true) {
			r.acceptCount.Add(1)
		}
	case act.Type == "Create" && r.armed.Load():
		if !r.created[a.index].CompareAndSwap(0, time.Now().UnixNano()) {
			r.duplicates.Add(1)
		} else if int(r.createCount.Add(1)) == r.n {
			close(r.allCreated)
		}
	default:
		r.other.Add(1)
	}
	w.WriteHeader(http.StatusAccepted)
}

// fanoutResult is what one fan-out measured.
type fanoutResult struct {
	delivered, duplicates, bad, other int
	firstBad                          string
	first, last                       time.Duration // after publishing
}

func (r *receiver) result(start time.Time) fanoutResult {
	res := fanoutResult{duplicates: int(r.duplicates.Load()), bad: int(r.bad.Load()), other: int(r.other.Load())}
	r.mu.Lock()
	res.firstBad = r.firstBad
	r.mu.Unlock()
	for i := range r.created {
		at := r.created[i].Load()
		if at == 0 {
			continue
		}
		d := time.Unix(0, at).Sub(start)
		if res.delivered == 0 || d < res.first {
			res.first = d
		}
		res.last = max(res.last, d)
		res.delivered++
	}
	return res
}

func printFanout(w io.Writer, target string, g group, followers int, r fanoutResult, sign rsaLimit) {
	rate := 0.0
	if r.last > 0 {
		rate = float64(r.delivered) / r.last.Seconds()
	}
	fmt.Fprintf(w, "fan-out against %s (group %s)\n", target, g.IRI)
	fmt.Fprintf(w, "followers: %d, each with its own inbox on one loopback receiver\n", followers)
	fmt.Fprintf(w, "delivered: %d/%d signed Creates, verified, in %s after publishing (first after %s)\n",
		r.delivered, followers, r.last.Round(time.Millisecond), r.first.Round(time.Millisecond))
	fmt.Fprintf(w, "rate: %.1f deliveries/s\n", rate)
	if r.delivered > 1 && r.last > r.first {
		fmt.Fprintf(w, "rate between first and last arrival: %.1f deliveries/s (excludes the note's write and outbound projection)\n",
			float64(r.delivered-1)/(r.last-r.first).Seconds())
	}
	fmt.Fprintf(w, "refused: %d failed verification", r.bad)
	if r.firstBad != "" {
		fmt.Fprintf(w, " (%.200s)", r.firstBad)
	}
	fmt.Fprintf(w, "; duplicates: %d; other activities: %d\n", r.duplicates, r.other)
	fmt.Fprintln(w, sign)
	fmt.Fprintf(w, "ratio: %.4f of the RSA-2048 sign limit (goal >= 0.8)\n", rate/sign.Limit())
}
