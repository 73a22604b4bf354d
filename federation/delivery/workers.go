package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Signers hands out the signer of a local actor (signing.Keys implements
// it).
type Signers interface {
	SignerFor(ctx context.Context, actorID string) (httpsig.Signer, error)
}

// FarewellSigners is implemented by Signers that can still sign as a
// deleted local actor (signing.Keys): an actor's own Delete must be signed
// with its key, as Mastodon does, or nobody could verify it. The workers
// ask for it only for Delete activities whose SignerFor failed.
type FarewellSigners interface {
	FarewellSignerFor(ctx context.Context, actorID string) (httpsig.Signer, error)
}

// RemoteActors resolves remote actors (federation/resolve.Resolver
// implements it); the workers need it for TargetActor deliveries.
type RemoteActors interface {
	Actor(ctx context.Context, iri string) (remote.ActorFetched, error)
}

// Poster POSTs a signed activity (fetch.Client implements it).
type Poster interface {
	PostSigned(ctx context.Context, inbox string, body []byte, signer httpsig.Signer) (fetch.PostResult, error)
}

// Defaults of Options.
const (
	DefaultPerHost          = 4
	DefaultGlobal           = 16
	DefaultPollInterval     = time.Second
	DefaultMaxAttempts      = 17 // the first attempt and 16 retries, as Mastodon's Sidekiq jobs
	DefaultBreakerThreshold = 10
	DefaultBreakerBase      = time.Minute
	DefaultBreakerMax       = 6 * time.Hour
	DefaultStopTimeout      = 10 * time.Second
	DefaultMaxRetryAfter    = 24 * time.Hour
)

// Options configure Workers; zero fields take the defaults above.
type Options struct {
	// PerHost bounds concurrent POSTs to one host; Global bounds them all.
	PerHost, Global int
	// PollInterval is how often the table is scanned for due deliveries
	// besides Notify (at most every second by default).
	PollInterval time.Duration
	// MaxAttempts is the number of attempts before a delivery that keeps
	// failing temporarily is given up (state failed).
	MaxAttempts int
	// BreakerThreshold consecutive temporary failures of a host open its
	// circuit for BreakerBase, doubled at every reopening up to BreakerMax.
	BreakerThreshold        int
	BreakerBase, BreakerMax time.Duration
	// StopTimeout is how long Run waits, once its context ends, for POSTs
	// in flight; then they are cancelled and stay pending (retried later).
	StopTimeout time.Duration
	// MaxRetryAfter caps a Retry-After the receiver asks for.
	MaxRetryAfter time.Duration
	// Clock is the time for due dates and records (default time.Now).
	Clock func() time.Time
	// Jitter returns a random integer in [0, n) (default math/rand/v2).
	Jitter func(n int) int
	// Logger receives one line per failed attempt; nil discards.
	Logger *slog.Logger
	// Policy is the instance's moderation: a delivery to a rejected
	// domain fails permanently ("domain blocked") without a POST.
	Policy moderation.Policy
	// Actors resolves the inboxes of TargetActor deliveries; without it
	// they fail temporarily (and are retried) until it is configured.
	Actors RemoteActors
}

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.PerHost, DefaultPerHost)
	def(&o.Global, DefaultGlobal)
	def(&o.MaxAttempts, DefaultMaxAttempts)
	def(&o.BreakerThreshold, DefaultBreakerThreshold)
	defD(&o.PollInterval, DefaultPollInterval)
	defD(&o.BreakerBase, DefaultBreakerBase)
	defD(&o.BreakerMax, DefaultBreakerMax)
	defD(&o.StopTimeout, DefaultStopTimeout)
	defD(&o.MaxRetryAfter, DefaultMaxRetryAfter)
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = rand.IntN
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1) before the
// next one, Sidekiq's default retry schedule as Mastodon uses it for
// deliveries: (n-1)⁴ + 15 + jitter·n seconds, jitter in [0, 10). With 16
// retries the last attempt comes 178,552 s (49.6 h) to 179,776 s (49.9 h)
// after the first: about 2.1 days.
func Backoff(n, jitter int) time.Duration {
	r := int64(max(n-1, 0))
	return time.Duration(r*r*r*r+15+int64(jitter)*(r+1)) * time.Second
}

// BreakerPause is how long a host's circuit stays open the opens-th time
// in a row: base·2^(opens-1), at most maxPause.
func BreakerPause(opens int, base, maxPause time.Duration) time.Duration {
	d := base
	for i := 1; i < opens && d < maxPause; i++ {
		d *= 2
	}
	return min(d, maxPause)
}

// Outcome names the result of one attempt, as counted in Stats.
type Outcome string

// Outcomes of attempts.
const (
	OutcomeDelivered Outcome = "delivered" // 2xx
	OutcomeFailed    Outcome = "failed"    // permanent failure, not retried
	OutcomeRetry     Outcome = "retry"     // temporary failure, scheduled again
	OutcomeGaveUp    Outcome = "gave_up"   // temporary failure after MaxAttempts
	OutcomeAbandoned Outcome = "abandoned" // cancelled at shutdown, still pending
)

// Outcomes lists every Outcome.
var Outcomes = []Outcome{OutcomeDelivered, OutcomeFailed, OutcomeRetry, OutcomeGaveUp, OutcomeAbandoned}

// Stats is a snapshot of the workers' counters.
type Stats struct {
	// Attempts counts finished attempts per outcome since start.
	Attempts map[Outcome]uint64
	// InFlight is the number of POSTs under way.
	InFlight int
	// OpenCircuits is the number of hosts whose circuit is not closed.
	OpenCircuits int
}

// Workers deliver due deliveries: Run them as a background worker.
type Workers struct {
	db      *projections.DB
	signers Signers
	poster  Poster
	o       Options

	wake chan struct{}

	mu       sync.Mutex
	inflight map[int64]string // delivery id → host
	// recording holds deliveries whose outcome waits for the recorder;
	// they are not picked again meanwhile.
	recording map[int64]bool
	recs      chan record
	// seq counts committed record batches; done maps recently recorded
	// ids to the batch that recorded them, so that a scan whose snapshot
	// predates that commit does not pick them again.
	seq      uint64
	done     map[int64]uint64
	perHost  map[string]int
	probing  map[string]bool
	hosts    map[string]*Host // non-closed or failing hosts
	counts   map[Outcome]*atomic.Uint64
	loaded   bool
	attempts sync.WaitGroup
}

// New returns delivery workers over db's delivery tables.
func New(db *projections.DB, signers Signers, poster Poster, o Options) *Workers {
	o.setDefaults()
	w := &Workers{db: db, signers: signers, poster: poster, o: o, wake: make(chan struct{}, 1),
		inflight: map[int64]string{}, recording: map[int64]bool{}, done: map[int64]uint64{}, recs: make(chan record, 1024), perHost: map[string]int{}, probing: map[string]bool{},
		hosts: map[string]*Host{}, counts: map[Outcome]*atomic.Uint64{}}
	for _, oc := range Outcomes {
		w.counts[oc] = new(atomic.Uint64)
	}
	return w
}

// Notify wakes the workers to look for due deliveries now (the outbound
// projector calls it after inserting). It never blocks.
func (w *Workers) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns the current counters.
func (w *Workers) Stats() Stats {
	s := Stats{Attempts: map[Outcome]uint64{}}
	for oc, c := range w.counts {
		s.Attempts[oc] = c.Load()
	}
	w.mu.Lock()
	s.InFlight = len(w.inflight)
	for _, h := range w.hosts {
		if h.Circuit != Closed {
			s.OpenCircuits++
		}
	}
	w.mu.Unlock()
	return s
}

// QueueDepth is the number of pending deliveries.
func (w *Workers) QueueDepth(ctx context.Context) (int, error) {
	c, err := Counts(ctx, w.db.Reader())
	return c[Pending], err
}

// Run delivers until ctx ends, then waits up to StopTimeout for POSTs in
// flight; those still running are cancelled and stay pending, to be
// retried at the next start. Nothing is lost: a delivery leaves the
// pending state only once its outcome is recorded.
func (w *Workers) Run(ctx context.Context) error {
	if err := EnsureSchema(ctx, w.db); err != nil {
		return err
	}
	if err := w.loadHosts(ctx); err != nil {
		return err
	}
	attemptCtx, cancelAttempts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelAttempts()
	recorded := make(chan struct{})
	go func() { defer close(recorded); w.recorder() }()
	defer func() { close(w.recs); <-recorded }()
	tick := time.NewTicker(w.o.PollInterval)
	defer tick.Stop()
	full := true
	for {
		if err := w.dispatch(ctx, attemptCtx, full); err != nil && ctx.Err() == nil {
			w.o.Logger.Warn("delivery: scan for due deliveries failed", "err", err)
		}
		select {
		case <-ctx.Done():
			w.stop(cancelAttempts)
			return nil
		case <-tick.C:
			full = true
		case <-w.wake:
			full = false
		}
	}
}

func (w *Workers) stop(cancel context.CancelFunc) {
	finished := make(chan struct{})
	go func() { w.attempts.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(w.o.StopTimeout):
		cancel()
		<-finished
	}
}

func (w *Workers) loadHosts(ctx context.Context) error {
	hs, err := Hosts(ctx, w.db.Reader())
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.loaded {
		return nil
	}
	for _, h := range hs {
		h := h
		if h.Circuit == HalfOpen { // a probe that never finished: pause ended, probe again
			h.Circuit = Open
		}
		w.hosts[h.Host] = &h
	}
	w.loaded = true
	return nil
}

// candidate is a due delivery.
type candidate struct {
	id           int64
	host         string
	inbox        string
	actorID      string
	body         []byte
	attempts     int
	target       Target
	activityID   string
	activityType string
}

// blockedLocked returns the hosts that may not take another POST now,
// moving circuits whose pause has ended to half-open.
func (w *Workers) blockedLocked(now time.Time) []string {
	var out []string
	for host, n := range w.perHost {
		if n >= w.o.PerHost {
			out = append(out, host)
		}
	}
	for host, h := range w.hosts {
		switch {
		case h.Circuit == Open && now.Before(h.OpenUntil):
			out = append(out, host)
		case h.Circuit != Closed && w.probing[host]:
			out = append(out, host)
		}
	}
	return out
}

// dispatch starts attempts for due deliveries while capacity lasts. It
// first looks at the earliest due deliveries whatever their host (a short
// index scan); only when full is set (on the poll tick) and those are all
// held back does it search past the blocked hosts, a scan that may cross
// many rows. So a busy host delays others by at most one poll interval.
func (w *Workers) dispatch(ctx, attemptCtx context.Context, full bool) error {
	exclude := false

	for ctx.Err() == nil {
		now := w.o.Clock()
		w.mu.Lock()
		seen := w.seq
		for id, s := range w.done {
			if s <= seen { // visible to the query below
				delete(w.done, id)
			}
		}
		free := w.o.Global - len(w.inflight)
		blocked := w.blockedLocked(now)
		ids := make([]any, 0, len(w.inflight)+len(w.recording))
		for id := range w.inflight {
			ids = append(ids, id)
		}
		for id := range w.recording {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if free <= 0 {
			return nil
		}
		q := `SELECT id, host, inbox, actor_id, attempts, target, activity_id, activity_type
			FROM federation_deliveries INDEXED BY federation_deliveries_due
			WHERE state = 'pending' AND next_attempt_at <= ?`
		args := []any{now.UnixMilli()}
		if exclude && len(blocked) > 0 {
			q += ` AND host NOT IN (?` + strings.Repeat(",?", len(blocked)-1) + `)`
			for _, h := range blocked {
				args = append(args, h)
			}
		}
		q += ` ORDER BY next_attempt_at, id LIMIT ?`
		limit := free*2 + len(ids) // rows in flight or being recorded are skipped below
		args = append(args, limit)
		cands, err := queryCandidates(ctx, w.db.Reader(), q, args)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			return nil
		}
		started := 0
		w.mu.Lock()
		for _, c := range cands {
			if len(w.inflight) >= w.o.Global {
				break
			}
			if _, busy := w.inflight[c.id]; busy || w.recording[c.id] || w.done[c.id] > seen {
				continue
			}
			if w.perHost[c.host] >= w.o.PerHost {
				continue
			}
			if h := w.hosts[c.host]; h != nil && h.Circuit != Closed {
				if w.probing[c.host] || (h.Circuit == Open && now.Before(h.OpenUntil)) {
					continue
				}
				h.Circuit = HalfOpen // the pause ended: this one is the probe
				w.probing[c.host] = true
			}
			w.inflight[c.id] = c.host
			w.perHost[c.host]++
			started++
			w.attempts.Add(1)
			go w.attempt(attemptCtx, c)
		}
		w.mu.Unlock()
		if started == 0 {
			// Everything seen was held back by its host; search past the
			// blocked hosts if this is a full scan and there may be more.
			if exclude || !full || len(cands) < limit || len(blocked) == 0 {
				return nil
			}
			exclude = true
		}
	}
	return nil
}

func queryCandidates(ctx context.Context, db *sql.DB, q string, args []any) ([]candidate, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("delivery: due deliveries: %w", err)
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.host, &c.inbox, &c.actorID, &c.attempts, &c.target, &c.activityID, &c.activityType); err != nil {
			return nil, fmt.Errorf("delivery: due deliveries: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// attempt makes one POST and records its outcome.
func (w *Workers) attempt(ctx context.Context, c candidate) {
	defer w.attempts.Done()
	defer func() {
		w.mu.Lock()
		delete(w.inflight, c.id)
		if w.perHost[c.host]--; w.perHost[c.host] <= 0 {
			delete(w.perHost, c.host)
		}
		w.mu.Unlock()
		w.Notify() // a slot is free
	}()
	var res fetch.PostResult
	// The body is read only now: the scan for due deliveries stays small.
	err := w.db.Reader().QueryRowContext(ctx, `SELECT body FROM federation_activities WHERE activity_id = ?`,
		c.activityID).Scan(&c.body)
	var signer httpsig.Signer
	switch {
	case err == nil:
		signer, err = w.signerFor(ctx, c)
	case errors.Is(err, sql.ErrNoRows):
		// Forgotten (ForgetDeliveries drops its pending deliveries too):
		// there is nothing left to send.
		res.Outcome, err = fetch.OutcomePermanent, fmt.Errorf("%w: %s", ErrNoBody, c.activityID)
	default:
		err = fmt.Errorf("read the activity: %w", err)
	}
	inbox, resolved, duplicate := c.inbox, "", false
	if err == nil && c.target == TargetActor {
		if inbox, res.Outcome, err = w.resolveInbox(ctx, c.inbox); err == nil {
			resolved = inbox
			duplicate, err = w.sentElsewhere(ctx, c, inbox)
		}
	}
	if err == nil {
		if err = moderation.RefuseURL(ctx, w.o.Policy, inbox); errors.Is(err, moderation.ErrDomainBlocked) {
			res.Outcome = fetch.OutcomePermanent
		}
	}
	switch {
	case err == nil && duplicate:
		// Another delivery of the activity goes to that very inbox.
		res.Outcome = fetch.OutcomeSuccess
	case err == nil:
		res, err = w.poster.PostSigned(ctx, inbox, c.body, signer)
	case res.Outcome == 0:
		res.Outcome = fetch.OutcomeTemporary
	}
	if ctx.Err() != nil {
		// Stopping: the POST was cut off. The delivery stays pending as it
		// was and is retried after the restart (receivers deduplicate by
		// activity id should it have arrived).
		w.mu.Lock()
		if w.probing[c.host] {
			delete(w.probing, c.host)
		}
		w.mu.Unlock()
		w.counts[OutcomeAbandoned].Add(1)
		return
	}
	oc := res.Outcome
	if oc == 0 {
		oc = fetch.ClassifyError(err)
	}
	now := w.o.Clock()
	a := attempt{id: c.id, status: res.StatusCode, at: now, next: now, attempts: c.attempts + 1, resolved: resolved}
	if err != nil {
		a.err = truncate(err.Error(), 1000)
	} else if duplicate {
		a.err = "not sent: another delivery of the activity goes to " + inbox
	}
	var counted Outcome
	switch oc {
	case fetch.OutcomeSuccess:
		a.state, counted = Delivered, OutcomeDelivered
	case fetch.OutcomePermanent:
		a.state, counted = Failed, OutcomeFailed
	default:
		if a.attempts >= w.o.MaxAttempts {
			a.state, counted = Failed, OutcomeGaveUp
			a.err = truncate(fmt.Sprintf("gave up after %d attempts: %s", a.attempts, a.err), 1000)
		} else {
			a.state, counted = Pending, OutcomeRetry
			wait := Backoff(a.attempts, w.o.Jitter(10))
			if ra := min(res.RetryAfter, w.o.MaxRetryAfter); ra > wait {
				wait = ra
			}
			a.next = now.Add(wait)
		}
	}
	host := w.updateHost(c.host, oc, res.StatusCode, a.err, now)
	w.mu.Lock()
	w.recording[c.id] = true // before the slot is released: never picked meanwhile
	w.mu.Unlock()
	w.recs <- record{a: a, host: host, outcome: counted, inbox: c.inbox, status: res.StatusCode}
}

// record is an outcome waiting to be written.
type record struct {
	a       attempt
	host    *Host
	outcome Outcome
	inbox   string
	status  int
}

// recorder writes outcomes in batches (one transaction for everything
// queued), until recs is closed and drained. The outcome of a finished
// POST is written even while stopping.
func (w *Workers) recorder() {
	for r := range w.recs {
		batch := []record{r}
	more:
		for len(batch) < 512 {
			select {
			case r, ok := <-w.recs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		// Hosts are written as they are now, not as each attempt left
		// them: attempts finish in any order, the latest state must win.
		w.mu.Lock()
		seen := map[string]bool{}
		for i := range batch {
			if h := batch[i].host; h != nil {
				if seen[h.Host] {
					batch[i].host = nil
					continue
				}
				seen[h.Host] = true
				if cur := w.hosts[h.Host]; cur != nil {
					cp := *cur
					batch[i].host = &cp
				} else {
					batch[i].host = &Host{Host: h.Host, Circuit: Closed, UpdatedAt: h.UpdatedAt}
				}
			}
		}
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := recordAttempts(ctx, w.db, batch)
		cancel()
		w.mu.Lock()
		w.seq++
		for _, r := range batch {
			delete(w.recording, r.a.id)
			if err == nil {
				w.done[r.a.id] = w.seq
			}
		}
		w.mu.Unlock()
		if err != nil {
			w.o.Logger.Error("delivery: cannot record attempts; they will be repeated", "n", len(batch), "err", err)
			continue
		}
		for _, r := range batch {
			w.counts[r.outcome].Add(1)
			if r.outcome != OutcomeDelivered {
				w.o.Logger.Info("delivery attempt failed", "id", r.a.id, "inbox", r.inbox, "outcome", r.outcome,
					"status", r.status, "attempts", r.a.attempts, "next", r.a.next, "err", r.a.err)
			}
		}
	}
}

// updateHost applies an outcome to the host's breaker and returns the row
// to store (nil when nothing changed).
func (w *Workers) updateHost(host string, oc fetch.Outcome, status int, errText string, now time.Time) *Host {
	w.mu.Lock()
	defer w.mu.Unlock()
	probe := w.probing[host]
	delete(w.probing, host)
	h := w.hosts[host]
	answered := oc == fetch.OutcomeSuccess || (oc == fetch.OutcomePermanent && status != 0)
	if answered {
		if h == nil {
			return nil
		}
		delete(w.hosts, host)
		return &Host{Host: host, Circuit: Closed, UpdatedAt: now}
	}
	if oc != fetch.OutcomeTemporary {
		return nil // refused address, bad URL…: says nothing about the host's health
	}
	if h == nil {
		h = &Host{Host: host, Circuit: Closed}
		w.hosts[host] = h
	}
	h.ConsecutiveFailures++
	h.LastError, h.UpdatedAt = errText, now
	switch {
	case probe && h.Circuit == HalfOpen:
		h.Opens++
		h.Circuit, h.OpenUntil = Open, now.Add(BreakerPause(h.Opens, w.o.BreakerBase, w.o.BreakerMax))
	case h.Circuit == Closed && h.ConsecutiveFailures >= w.o.BreakerThreshold:
		h.Opens = 1
		h.Circuit, h.OpenUntil = Open, now.Add(BreakerPause(1, w.o.BreakerBase, w.o.BreakerMax))
	}
	cp := *h
	return &cp
}

// signerFor returns the signer of the delivery's local actor; for a
// Delete whose actor is deleted, its farewell signer.
func (w *Workers) signerFor(ctx context.Context, c candidate) (httpsig.Signer, error) {
	signer, err := w.signers.SignerFor(ctx, c.actorID)
	if err != nil && c.activityType == "Delete" {
		if fs, ok := w.signers.(FarewellSigners); ok {
			if s, ferr := fs.FarewellSignerFor(ctx, c.actorID); ferr == nil {
				return s, nil
			}
		}
	}
	if err != nil {
		return signer, fmt.Errorf("sign as %s: %w", c.actorID, err)
	}
	return signer, nil
}

// ErrUnresolvable: a TargetActor delivery's actor has no usable inbox.
var ErrUnresolvable = errors.New("delivery: the actor's inbox cannot be resolved")

// resolveInbox resolves a remote actor to its shared inbox, else its
// inbox. An actor that is gone, unknown, invalid or without an inbox is a
// permanent failure; network trouble is temporary.
func (w *Workers) resolveInbox(ctx context.Context, actorIRI string) (string, fetch.Outcome, error) {
	if w.o.Actors == nil {
		return "", fetch.OutcomeTemporary, fmt.Errorf("%w: no actor resolver is configured", ErrUnresolvable)
	}
	a, err := w.o.Actors.Actor(ctx, actorIRI)
	if err != nil {
		oc := fetch.ClassifyError(err)
		for _, permanent := range []error{resolve.ErrGone, resolve.ErrNotFound, resolve.ErrInvalidDocument, resolve.ErrLocal,
			moderation.ErrDomainBlocked} {
			if errors.Is(err, permanent) {
				oc = fetch.OutcomePermanent
			}
		}
		return "", oc, fmt.Errorf("%w: %s: %w", ErrUnresolvable, actorIRI, err)
	}
	inbox := a.SharedInbox
	if inbox == "" {
		inbox = a.Inbox
	}
	if _, err := HostOf(inbox); err != nil {
		return "", fetch.OutcomePermanent, fmt.Errorf("%w: %s has no usable inbox", ErrUnresolvable, actorIRI)
	}
	return inbox, 0, nil
}

// sentElsewhere reports whether another delivery of c's activity targets
// inbox (a follower's shared inbox, or an actor resolved to it before), so
// that the activity reaches each inbox once.
func (w *Workers) sentElsewhere(ctx context.Context, c candidate, inbox string) (bool, error) {
	var n int
	err := w.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM federation_deliveries
		WHERE activity_id = ? AND id <> ? AND state <> 'failed' AND (inbox = ? OR (resolved_inbox = ? AND id < ?))`,
		c.activityID, c.id, inbox, inbox, c.id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read the activity's deliveries: %w", err)
	}
	return n > 0, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ErrNoBody: a delivery's activity has no stored body (it was forgotten).
var ErrNoBody = errors.New("delivery: the activity's body is gone")

// ErrNoTables is returned when the delivery tables do not exist yet.
var ErrNoTables = errors.New("delivery: the delivery tables do not exist (call EnsureSchema)")
