package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const timelineDescription = `
Measure home-timeline reads. Setup, through the server's real API: the
admin creates a facilitator, who signs in through OAuth (authorization
code with PKCE), opens a community and publishes --posts posts into it;
the admin creates --readers people, each signs in through OAuth and joins
the community. The tool then waits until every read model has caught up
and, for --duration each, over --connections concurrent keep-alive
connections, sends
  GET /livez                          the server's floor on this machine
                                      (routing, middleware, a tiny JSON
                                      answer; no token)
  GET /api/hanse/v1/timelines/home    the first page (20 posts), as the
                                      readers in turn, each with its token
and reports requests/s, latency percentiles and errors of both and the
ratio timeline / livez requests/s.

Publishing is rate-limited per account (hanse serve --post-rate, default
30 a minute, as a burst too): start the server with HANSE_POST_RATE (or
--post-rate) of at least --posts, e.g. HANSE_POST_RATE=100000; the run
stops at the first 429 otherwise. Each person signs in from its own
loopback address (127.1.x.y) where the system allows it, so that the
server's per-address sign-in and token limits meet one attempt each;
otherwise 429s are waited out (slow for many readers).
`

// Bounds and fixed sizes of the timeline scenario.
const (
	maxReaders     = 10000
	maxPosts       = 100000
	maxDuration    = 10 * time.Minute
	setupWorkers   = 4 // concurrent account creations, sign-ins and joins (each hashes a password)
	postWorkers    = 8 // concurrent publishing requests
	timelinePage   = 20
	settleMax      = time.Minute
	settleInterval = 1100 * time.Millisecond // just over the runner's 1 s metrics sampling
)

// homePath is the home timeline of the API.
const homePath = "/api/hanse/v1/timelines/home"

// timelineSetup is what the setup built.
type timelineSetup struct {
	communityID, communityName string
	facilitator                person
	readers                    []person
	lastPosition               uint64
	boundSources               bool
	settled                    string // how waiting for the read models ended
	elapsed                    time.Duration
}

// loadWindow is what one timed window measured.
type loadWindow struct {
	name, path        string
	requests, ok      int
	statuses          map[int]int
	examples          map[int]string
	errors            int
	firstErr          error
	bytes             int64
	elapsed           time.Duration
	latencies         []time.Duration // of answered requests, sorted
	conns             int
	duration          time.Duration
	requestsPerSecond float64
}

func runTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var readers, posts, conns int
	var duration time.Duration
	fs := newFlagSet("timeline", "--target URL --admin-token TOKEN [--readers N] [--posts N] [--duration D] [--connections C] [flags]",
		timelineDescription, args, stdout, stderr)
	c.registerTarget(fs, 10*time.Minute)
	fs.IntVar(&readers, "readers", 50, fmt.Sprintf("people who join the community and read their home timeline (1-%d)", maxReaders))
	fs.IntVar(&posts, "posts", 2000, fmt.Sprintf("posts the facilitator publishes into the community (1-%d)", maxPosts))
	fs.DurationVar(&duration, "duration", 10*time.Second, "length of each timed window, GET /livez and the home timeline (at most 10m)")
	fs.IntVar(&conns, "connections", 16, fmt.Sprintf("concurrent keep-alive connections in the timed windows (1-%d)", maxConnections))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	for _, b := range []struct {
		name      string
		v, lo, hi int
	}{{"readers", readers, 1, maxReaders}, {"posts", posts, 1, maxPosts}, {"connections", conns, 1, maxConnections}} {
		if err := intInRange(b.name, b.v, b.lo, b.hi); err != nil {
			return err
		}
	}
	if duration <= 0 || duration > maxDuration {
		return &usageError{fmt.Errorf("--duration must be in (0, %s]", maxDuration)}
	}
	if 2*duration >= c.timeout {
		return &usageError{fmt.Errorf("--timeout %s leaves no time for the setup: it must exceed twice --duration", c.timeout)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	client := newClient(max(conns, postWorkers, setupWorkers)+4, 30*time.Second)
	defer client.CloseIdleConnections()
	h := &hanseAPI{base: c.base, token: c.token, client: client}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "hanse-load timeline: "+format+"\n", a...) }

	s, err := setUpTimeline(ctx, h, runID(), readers, posts, 2*duration, progress)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("setup stopped after --timeout %s: %w", c.timeout, err)
		}
		return err
	}

	base := c.base.String()
	livez := hammer(ctx, client, conns, duration, func(context.Context, int) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, base+"/livez", nil)
	})
	livez.name, livez.path = "livez", "GET /livez"
	progress("GET /livez: %.1f requests/s", livez.requestsPerSecond)
	home := hammer(ctx, client, conns, duration, func(ctx context.Context, n int) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+homePath, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+s.readers[n%len(s.readers)].Token)
		}
		return req, err
	})
	home.name, home.path = "timeline", "GET "+homePath
	if ctx.Err() != nil {
		return fmt.Errorf("run stopped after --timeout %s: %w", c.timeout, ctx.Err())
	}
	printTimeline(stdout, base, s, posts, livez, home)
	var bad []string
	for _, w := range []loadWindow{livez, home} {
		if n := w.requests - w.ok; n > 0 {
			bad = append(bad, fmt.Sprintf("%d of %d %s requests failed", n, w.requests, w.path))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// setUpTimeline builds the community, its readers and its posts, checks
// every reader's home timeline and waits until the read models are idle.
func setUpTimeline(ctx context.Context, h *hanseAPI, run string, readers, posts int, windows time.Duration, progress func(string, ...any)) (timelineSetup, error) {
	start := time.Now()
	s := timelineSetup{communityName: "tl_" + run, boundSources: canBindSources(ctx, h.base)}
	if !s.boundSources {
		progress("cannot use 127.1.x.y as source addresses here: everyone signs in from one address, 429s are waited out")
	}
	// from returns the API as seen from person i's own loopback address.
	from := func(i int) *hanseAPI {
		if !s.boundSources {
			return h
		}
		return &hanseAPI{base: h.base, token: h.token, client: newClientFrom(2, 30*time.Second, sourceAddr(i))}
	}
	password := func(username string) string { return "hanse-load password " + run + " " + username }

	app, err := h.registerApp(ctx)
	if err != nil {
		return s, err
	}
	fac := from(readers)
	if fac != h {
		defer fac.client.CloseIdleConnections()
	}
	s.facilitator, err = h.createAccount(ctx, "tl_"+run+"_f", "facilitator", password("tl_"+run+"_f"))
	if err != nil {
		return s, err
	}
	if s.facilitator.Token, err = fac.signIn(ctx, app, s.facilitator); err != nil {
		return s, err
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := h.bearer(ctx, s.facilitator.Token, http.MethodPost, "/api/hanse/v1/communities", nil, map[string]any{
		"username": s.communityName, "name": "hanse-load " + run, "description": "Home-timeline load of run " + run + ".",
	}, &created); err != nil {
		return s, fmt.Errorf("create community: %w", err)
	}
	if created.ID == "" {
		return s, errors.New("create community: answer without id")
	}
	s.communityID = created.ID
	progress("facilitator %s signed in through OAuth, community %s (%s)", s.facilitator.Username, s.communityName, s.communityID)

	// Readers: created by the admin, signed in, joined.
	s.readers = make([]person, readers)
	if err := forEach(ctx, readers, setupWorkers, func(i int) error {
		api := from(i)
		if api != h {
			defer api.client.CloseIdleConnections()
		}
		name := fmt.Sprintf("tl_%s_%d", run, i)
		p, err := h.createAccount(ctx, name, "learner", password(name))
		if err != nil {
			return err
		}
		if p.Token, err = api.signIn(ctx, app, p); err != nil {
			return err
		}
		var joined struct {
			State string `json:"state"`
		}
		if err := api.bearer(ctx, p.Token, http.MethodPost, "/api/hanse/v1/communities/"+url.PathEscape(s.communityID)+"/members",
			nil, nil, &joined); err != nil {
			return fmt.Errorf("%s joins the community: %w", name, err)
		}
		if joined.State != "member" {
			return fmt.Errorf("%s joins the community: state %q, want member", name, joined.State)
		}
		s.readers[i] = p
		return nil
	}); err != nil {
		return s, err
	}
	progress("%d readers created, signed in through OAuth and joined in %s", readers, time.Since(start).Round(time.Millisecond))

	// Posts by the facilitator.
	postStart := time.Now()
	var last atomic.Uint64
	if err := forEach(ctx, posts, postWorkers, func(i int) error {
		var posted struct {
			ID       string `json:"id"`
			Position uint64 `json:"position"`
		}
		err := h.bearer(ctx, s.facilitator.Token, http.MethodPost, "/api/hanse/v1/posts", nil, map[string]any{
			"community_id": s.communityID, "language": "en",
			"content": fmt.Sprintf("Moin from hanse-load %s, post %d: a few lines of ordinary length about the "+
				"tides, the dykes and the next meeting of the community, so that a page of the timeline "+
				"weighs what a real one does.", run, i)}, &posted)
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
			return fmt.Errorf("post %d of %d refused with 429: the server's per-account post rate is below --posts; "+
				"start hanse serve with --post-rate %d or more (HANSE_POST_RATE)", i+1, posts, max(posts, 100000))
		}
		if err != nil {
			return fmt.Errorf("post %d: %w", i+1, err)
		}
		for {
			old := last.Load()
			if posted.Position <= old || last.CompareAndSwap(old, posted.Position) {
				break
			}
		}
		return nil
	}); err != nil {
		return s, err
	}
	s.lastPosition = last.Load()
	progress("%d posts published in %s (%.0f/s)", posts, time.Since(postStart).Round(time.Millisecond),
		float64(posts)/time.Since(postStart).Seconds())

	// Every reader's home timeline shows the community's newest posts.
	want := min(posts, timelinePage)
	minPos := http.Header{"Hanse-Min-Position": {strconv.FormatUint(s.lastPosition, 10)}}
	if err := forEach(ctx, readers, setupWorkers, func(i int) error {
		var page struct {
			Items []struct {
				CommunityID string `json:"community_id"`
			} `json:"items"`
		}
		if err := h.bearer(ctx, s.readers[i].Token, http.MethodGet, homePath, minPos, nil, &page); err != nil {
			return fmt.Errorf("home timeline of %s: %w", s.readers[i].Username, err)
		}
		if len(page.Items) != want {
			return fmt.Errorf("home timeline of %s: %d posts, want %d", s.readers[i].Username, len(page.Items), want)
		}
		for _, it := range page.Items {
			if it.CommunityID != s.communityID {
				return fmt.Errorf("home timeline of %s: a post of community %q, want only %s", s.readers[i].Username, it.CommunityID, s.communityID)
			}
		}
		return nil
	}); err != nil {
		return s, err
	}
	// Wait at most settleMax, and leave the timed windows and a margin
	// of their length inside the run's --timeout.
	settleBy := time.Now().Add(settleMax)
	if d, ok := ctx.Deadline(); ok && d.Add(-2*windows).Before(settleBy) {
		settleBy = d.Add(-2 * windows)
	}
	s.settled = settle(ctx, h, settleBy)
	s.elapsed = time.Since(start)
	progress("every home timeline shows the community's %d newest posts; read models: %s; setup took %s",
		want, s.settled, s.elapsed.Round(time.Millisecond))
	return s, nil
}

// forEach runs job(0..n-1) on workers goroutines and returns the first
// error (the remaining jobs are skipped).
func forEach(ctx context.Context, n, workers int, job func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil && !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := job(i); err != nil {
					failed.Store(true)
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

// sourceAddr is the loopback address person i connects from during the
// setup: everyone their own client address, as from their own device.
func sourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))}
}

// canBindSources reports whether connections to the target can come from
// sourceAddr addresses (Linux routes all of 127.0.0.0/8 to loopback;
// other systems may only have 127.0.0.1).
func canBindSources(ctx context.Context, target *url.URL) bool {
	port := target.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[target.Scheme]
	}
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: sourceAddr(0), Control: loopbackOnly}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(target.Hostname(), port))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// settle waits until the server's read models are idle: its metrics show
// every live projection at the head of the event log, and the head did
// not move between two samples. It reports how the wait ended; a server
// without metrics, or one still busy at deadline, is measured anyway.
func settle(ctx context.Context, h *hanseAPI, deadline time.Time) string {
	start := time.Now()
	var prevHead float64 = -1
	for {
		head, lagging, err := projectionLag(ctx, h)
		switch {
		case err != nil:
			return "not awaited (" + err.Error() + ")"
		case lagging == 0 && head == prevHead:
			return "idle"
		case time.Now().After(deadline):
			return fmt.Sprintf("not seen idle within %s (%d live projections behind the log head), measured anyway",
				time.Since(start).Round(time.Millisecond), lagging)
		}
		prevHead = head
		select {
		case <-time.After(settleInterval):
		case <-ctx.Done():
			return "not awaited (" + ctx.Err().Error() + ")"
		}
	}
}

// projectionLag reads the event log's head and the number of live
// projections behind it from GET /metrics.
func projectionLag(ctx context.Context, h *hanseAPI) (head float64, lagging int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base.String()+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	res, err := h.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse))
		return 0, 0, fmt.Errorf("GET /metrics: %d", res.StatusCode)
	}
	found := false
	sc := bufio.NewScanner(io.LimitReader(res.Body, 16*maxResponse))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, perr := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if perr != nil {
			continue
		}
		switch {
		case name == "hanse_projection_log_head_position":
			head, found = v, true
		case strings.HasPrefix(name, "hanse_projection_lag_events{") && strings.Contains(name, `role="live"`) && v > 0:
			lagging++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("GET /metrics: %w", err)
	}
	if !found {
		return 0, 0, errors.New("GET /metrics has no hanse_projection_log_head_position")
	}
	return head, lagging, nil
}

// hammer sends requests built by build (n counts the requests of the
// window) from conns workers for d, each worker waiting for its answer
// before the next; requests in flight at the end are answered and
// counted. The window runs from the first send to the last answer.
func hammer(ctx context.Context, client *http.Client, conns int, d time.Duration, build func(ctx context.Context, n int) (*http.Request, error)) loadWindow {
	type tally struct {
		requests, ok, errs int
		statuses           map[int]int
		examples           map[int]string
		firstErr           error
		bytes              int64
		lat                []time.Duration
	}
	tallies := make([]tally, conns)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range conns {
		t := &tallies[w]
		t.statuses, t.examples = map[int]int{}, map[int]string{}
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(end) {
				t.requests++
				req, err := build(ctx, int(next.Add(1))-1)
				if err != nil {
					t.errs++
					t.firstErr = cmpOr(t.firstErr, err)
					return
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					t.errs++
					t.firstErr = cmpOr(t.firstErr, err)
					continue
				}
				var head []byte
				if res.StatusCode != http.StatusOK {
					head, _ = io.ReadAll(io.LimitReader(res.Body, 200))
				}
				n, err := io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse)) // keep the connection reusable
				res.Body.Close()
				t.lat = append(t.lat, time.Since(t0))
				switch {
				case err != nil:
					t.errs++
					t.firstErr = cmpOr(t.firstErr, err)
				case res.StatusCode == http.StatusOK:
					t.ok++
					t.bytes += n
				default:
					t.statuses[res.StatusCode]++
					if _, ok := t.examples[res.StatusCode]; !ok {
						t.examples[res.StatusCode] = string(head)
					}
				}
			}
		})
	}
	wg.Wait()
	w := loadWindow{statuses: map[int]int{}, examples: map[int]string{}, elapsed: time.Since(start), conns: conns, duration: d}
	for _, t := range tallies {
		w.requests += t.requests
		w.ok += t.ok
		w.errors += t.errs
		w.bytes += t.bytes
		w.firstErr = cmpOr(w.firstErr, t.firstErr)
		w.latencies = append(w.latencies, t.lat...)
		for s, n := range t.statuses {
			w.statuses[s] += n
			w.examples[s] = t.examples[s]
		}
	}
	slices.Sort(w.latencies)
	w.requestsPerSecond = float64(w.ok) / w.elapsed.Seconds()
	return w
}

func printTimeline(w io.Writer, target string, s timelineSetup, posts int, livez, home loadWindow) {
	round := func(d time.Duration) time.Duration {
		if d < time.Millisecond {
			return d.Round(time.Microsecond)
		}
		return d.Round(10 * time.Microsecond)
	}
	fmt.Fprintf(w, "home timeline against %s (community %s)\n", target, s.communityName)
	sources := "each from its own loopback address"
	if !s.boundSources {
		sources = "all from one address"
	}
	fmt.Fprintf(w, "setup: %d readers joined, %d posts by the facilitator, everyone signed in through OAuth (%s), in %s; read models %s\n",
		len(s.readers), posts, sources, s.elapsed.Round(time.Millisecond), s.settled)
	fmt.Fprintf(w, "load: %d connections, %s per window, GOMAXPROCS %d (the load generator shares this machine)\n",
		home.conns, home.duration, runtime.GOMAXPROCS(0))
	for _, l := range []loadWindow{livez, home} {
		fmt.Fprintf(w, "%s: %s: %d/%d answered 200 in %s: %.1f requests/s, latency p50 %s, p90 %s, p99 %s, max %s",
			l.name, l.path, l.ok, l.requests, l.elapsed.Round(time.Millisecond), l.requestsPerSecond,
			round(percentile(l.latencies, 50)), round(percentile(l.latencies, 90)),
			round(percentile(l.latencies, 99)), round(percentile(l.latencies, 100)))
		if l.ok > 0 {
			fmt.Fprintf(w, ", %d bytes per answer", l.bytes/int64(l.ok))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s errors: %d", l.name, l.requests-l.ok)
		codes := make([]int, 0, len(l.statuses))
		for c := range l.statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			fmt.Fprintf(w, ", %d × %d (%.120s)", l.statuses[c], c, strings.TrimSpace(l.examples[c]))
		}
		fmt.Fprintf(w, "; transport errors: %d", l.errors)
		if l.firstErr != nil {
			fmt.Fprintf(w, " (%v)", l.firstErr)
		}
		fmt.Fprintln(w)
	}
	ratio := 0.0
	if livez.requestsPerSecond > 0 {
		ratio = home.requestsPerSecond / livez.requestsPerSecond
	}
	fmt.Fprintf(w, "ratio: %.3f of the GET /livez throughput (timeline %.1f/s ÷ livez %.1f/s)\n",
		ratio, home.requestsPerSecond, livez.requestsPerSecond)
}
