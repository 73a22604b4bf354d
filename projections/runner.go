package projections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hanse-network/hanse/events"
)

// Options tune a Runner. The zero value gives the defaults.
type Options struct {
	// BatchSize caps the events read from the store at once and applied in
	// one transaction (default 1000).
	BatchSize int
	// ReadAhead is how many batches are read from the store ahead of the
	// one being applied (default 4).
	ReadAhead int
	// PollInterval is how often the runner polls cross-process requests,
	// renews its lease, samples lag and persists status (default 1s).
	PollInterval time.Duration
	// LeaseTTL is how old another runner's lease heartbeat must be before
	// this runner takes the lease over (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// Clock gives the times the runner records (catalog, lease, errors) and
	// measures lag in seconds against (default time.Now).
	Clock func() time.Time
}

func (o *Options) setDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.BatchSize > events.MaxAppendEvents {
		o.BatchSize = events.MaxAppendEvents
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.LeaseTTL < 3*o.PollInterval {
		o.LeaseTTL = 3 * o.PollInterval
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// ErrNotFailed: Retry found no failed build to resume.
var ErrNotFailed = errors.New("projections: projection is not failed")

const (
	runnerNew = iota
	runnerStarted
	runnerClosed
)

// Runner feeds registered projectors from an event store into the
// read-model database. Create it with New, then Start and Close it (or Run
// it). All methods are safe for concurrent use.
type Runner struct {
	store events.Store
	db    *DB
	log   *slog.Logger
	opts  Options
	m     *metrics
	slots map[string]*slot
	names []string
	lease Lease

	mu        sync.Mutex
	state     int
	started   atomic.Bool // Start has set up every projection; Close has not begun
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeDone chan struct{} // closed when the first Close has finished
	closeErr  error         // its result

	// Test hooks (export_test.go); set before the runner is used.
	onWait   func(name string)            // a WaitFor or WaitSettled call is about to block
	onSwitch func(name string, err error) // a switch to a pending build was attempted
}

// New prepares a runner for projectors over store, with its read-model
// database at dbPath (created if missing) and its metrics registered on reg
// (nil: no metrics). Several versions of one projector may be registered:
// the highest is built, the others keep their builds live meanwhile.
func New(store events.Store, dbPath string, logger *slog.Logger, reg prometheus.Registerer, opts Options, projectors ...Projector) (*Runner, error) {
	if store == nil {
		return nil, errors.New("projections: nil event store")
	}
	opts.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{store: store, log: logger, opts: opts, slots: map[string]*slot{}, closeDone: make(chan struct{})}
	for _, p := range projectors {
		if err := validateProjector(p); err != nil {
			return nil, err
		}
		s := r.slots[p.Name()]
		if s == nil {
			s = &slot{r: r, name: p.Name(), versions: map[int]Projector{}, cmds: make(chan slotCmd, 16),
				notify: make(chan struct{}), exited: make(chan struct{})}
			r.slots[p.Name()] = s
			r.names = append(r.names, p.Name())
		}
		if _, dup := s.versions[p.Version()]; dup {
			return nil, fmt.Errorf("%w: %s version %d registered twice", ErrInvalidProjector, p.Name(), p.Version())
		}
		s.versions[p.Version()] = p
		if s.target == nil || p.Version() > s.target.Version() {
			s.target = p
		}
	}
	sort.Strings(r.names)
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	r.m = m
	db, err := OpenDB(context.Background(), dbPath)
	if err != nil {
		m.unregister()
		return nil, err
	}
	host, _ := os.Hostname()
	var id [8]byte
	_, _ = rand.Read(id[:])
	r.lease = Lease{Owner: hex.EncodeToString(id[:]), PID: os.Getpid(), Host: host}
	db.now, db.owner = opts.Clock, r.lease.Owner
	r.db = db
	return r, nil
}

func (r *Runner) now() time.Time { return r.opts.Clock() }

// DB is the runner's read-model database; DB().Reader() is the pool that
// read-model queries use.
func (r *Runner) DB() *DB { return r.db }

// Names lists the registered projection names in order.
func (r *Runner) Names() []string { return slices.Clone(r.names) }

// Start takes the read-model lease (failing with an *ActiveRunnerError when
// another process holds it), sets up missing builds (running the
// projectors' Setup), and starts feeding every projection in the
// background. Builds that had failed are retried, since the binary may now
// hold a fix. ctx bounds the set-up only; Close stops the runner.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runnerNew {
		return fmt.Errorf("projections: Start: %w", ErrClosed)
	}
	r.lease.StartedAt = r.now()
	if err := r.db.acquireLease(ctx, r.lease, r.opts.LeaseTTL); err != nil {
		return err
	}
	if err := r.db.releaseUnfinishedRequests(ctx); err != nil {
		_ = r.db.releaseLease(context.Background(), r.lease.Owner)
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	for _, name := range r.names {
		r.slots[name].runCtx = runCtx
	}
	for _, name := range r.names {
		if err := r.slots[name].init(ctx); err != nil {
			cancel()
			for _, n := range r.names {
				r.slots[n].stopAll()
			}
			_ = r.db.releaseLease(context.Background(), r.lease.Owner)
			return err
		}
	}
	r.cancel = cancel
	r.state = runnerStarted
	r.started.Store(true)
	for _, name := range r.names {
		s := r.slots[name]
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer close(s.exited)
			s.run(runCtx)
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.maintain(runCtx)
	}()
	r.log.Info("projections started", "projections", r.names, "db", r.db.Path())
	return nil
}

// Started reports whether Start has set up every projection, so that
// their tables exist and the read models can be queried (catching up with
// the log may still be under way: read-your-writes is WaitFor's job), and
// Close has not begun. It never waits for a Start in progress, so a
// readiness check can call it.
func (r *Runner) Started() bool { return r.started.Load() }

// Close stops every projector at its last committed batch, persists
// status, releases the lease and closes the read-model database. Waiters of
// WaitFor get ErrClosed. A concurrent or later Close waits for the first
// and returns its result. A runner fenced off by another one leaves the
// catalog to that runner.
func (r *Runner) Close() error {
	r.started.Store(false)
	r.mu.Lock()
	prev := r.state
	r.state = runnerClosed
	r.mu.Unlock()
	if prev == runnerClosed {
		<-r.closeDone
		return r.closeErr
	}
	r.closeErr = r.close(prev == runnerStarted)
	close(r.closeDone)
	return r.closeErr
}

func (r *Runner) close(started bool) error {
	var errs []error
	if started {
		r.cancel()
		r.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		head, err := r.store.Head(ctx)
		if err != nil {
			head = 0
		}
		stopErrs := []error{r.db.persistStatus(ctx, r.sample(ctx, head, false))}
		for _, name := range r.names {
			stopErrs = append(stopErrs, r.slots[name].markStopped(ctx))
		}
		for _, err := range stopErrs {
			if errors.Is(err, ErrFenced) {
				r.log.Warn("projections: closing without recording state: another runner owns the read-model database", "err", err)
				break
			}
			errs = append(errs, err)
		}
		errs = append(errs, r.db.releaseLease(ctx, r.lease.Owner))
	}
	for _, name := range r.names {
		s := r.slots[name]
		s.mu.Lock()
		s.closed = true
		s.broadcastLocked()
		s.mu.Unlock()
	}
	r.m.unregister()
	errs = append(errs, r.db.Close())
	return errors.Join(errs...)
}

// Run starts the runner, blocks until ctx ends, and closes it.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Start(ctx); err != nil {
		return errors.Join(err, r.Close())
	}
	<-ctx.Done()
	return r.Close()
}

func (r *Runner) slot(name string) (*slot, error) {
	s := r.slots[name]
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	return s, nil
}

// WaitFor blocks until the live build of projection name has applied the
// event at pos (read-your-writes: pass the Position an append returned), ctx
// ends, or the projection fails before reaching pos (an error matching
// ErrFailed). It is woken by the commit that reaches pos, never by polling.
func (r *Runner) WaitFor(ctx context.Context, name string, pos events.Position) error {
	s, err := r.slot(name)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		b := s.live
		if b != nil && b.position >= pos {
			s.mu.Unlock()
			return nil
		}
		if s.fenceErr != nil {
			err := s.fenceErr
			s.mu.Unlock()
			return err
		}
		if b != nil && b.state == StateFailed && b.lastErr != nil {
			err := b.failureError(name)
			s.mu.Unlock()
			return err
		}
		ch := s.notify
		s.mu.Unlock()
		if r.onWait != nil {
			r.onWait(name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// WaitSettled blocks until projection name has no pending build and its
// live build has caught up with the log (state live). It returns an error
// matching ErrFailed when a build of the projection fails meanwhile.
func (r *Runner) WaitSettled(ctx context.Context, name string) error {
	s, err := r.slot(name)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.fenceErr != nil {
			err := s.fenceErr
			s.mu.Unlock()
			return err
		}
		for _, b := range []*build{s.pending, s.live} {
			if b != nil && b.state == StateFailed {
				err := b.failureError(name)
				s.mu.Unlock()
				return err
			}
		}
		if s.pending == nil && s.live != nil && s.live.state == StateLive {
			s.mu.Unlock()
			return nil
		}
		ch := s.notify
		s.mu.Unlock()
		if r.onWait != nil {
			r.onWait(name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Rebuild starts a blue/green rebuild of projection name: a new build is
// set up and fed from position 0 beside the live one, which keeps serving
// until the new one has caught up. A rebuild already in progress is
// replaced. It returns once the new build is set up; see WaitSettled.
func (r *Runner) Rebuild(ctx context.Context, name string) error {
	return r.command(ctx, name, cmdRebuild)
}

// Retry resumes the failed builds of projection name at the event they
// failed on. It returns ErrNotFailed when no build of name has failed.
func (r *Runner) Retry(ctx context.Context, name string) error {
	return r.command(ctx, name, cmdRetry)
}

func (r *Runner) command(ctx context.Context, name string, kind cmdKind) error {
	s, err := r.slot(name)
	if err != nil {
		return err
	}
	r.mu.Lock()
	started := r.state == runnerStarted
	r.mu.Unlock()
	if !started {
		return ErrClosed
	}
	reply := make(chan error, 1)
	select {
	case s.cmds <- slotCmd{kind: kind, reply: reply}:
	case <-s.exited:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-s.exited: // the command may sit in s.cmds forever
		select {
		case err := <-reply:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status reports the current health of every build of every registered
// projection, sampled now (the catalog copy read by Statuses is at most a
// poll interval older).
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	head, err := r.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projections: read head: %w", err)
	}
	var out []Status
	for _, name := range r.names {
		out = append(out, r.slots[name].statuses(ctx, head)...)
	}
	return out, nil
}

// Checksum returns the checksum of projection name's live build (see the
// package-level Checksum).
func (r *Runner) Checksum(ctx context.Context, name string) (string, error) {
	return Checksum(ctx, r.db.Reader(), name)
}

// maintain polls requests, renews the lease, samples lag and persists
// status every PollInterval until ctx ends.
func (r *Runner) maintain(ctx context.Context) {
	t := time.NewTicker(r.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.tick(ctx)
	}
}

func (r *Runner) tick(ctx context.Context) {
	ok, err := r.db.renewLease(ctx, r.lease.Owner)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		r.log.Warn("projections: renew lease", "err", err)
		return
	case !ok:
		if err := r.db.acquireLease(ctx, r.lease, r.opts.LeaseTTL); err != nil {
			var are *ActiveRunnerError
			if errors.As(err, &are) {
				r.fenceAll(fmt.Errorf("%w: %w", ErrFenced, err))
			} else if ctx.Err() == nil {
				r.log.Warn("projections: re-acquire lease", "err", err)
			}
			return
		}
		// The catalog may have changed while another runner held the lease.
		r.fenceAll(fmt.Errorf("%w: the read-model lease was lost and taken back; reloading the builds", ErrFenced))
		if err := r.db.releaseUnfinishedRequests(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("projections: release requests", "err", err)
		}
	}
	r.resumeFenced(ctx)
	head, err := r.store.Head(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("projections: read head", "err", err)
		}
	} else {
		r.m.head.Set(float64(head))
		if err := r.db.persistStatus(ctx, r.sample(ctx, head, true)); err != nil && ctx.Err() == nil {
			r.log.Warn("projections: persist status", "err", err)
		}
	}
	reqs, err := r.db.takeRequests(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("projections: poll requests", "err", err)
		}
		return
	}
	for _, q := range reqs {
		s := r.slots[q.name]
		if s == nil {
			_ = r.db.finishRequest(ctx, q.id, false, fmt.Sprintf("unknown projection %q (registered: %v)", q.name, r.names))
			continue
		}
		kind := cmdRetry
		if q.kind == RequestRebuild {
			kind = cmdRebuild
		}
		r.log.Info("projections: request", "id", q.id, "kind", q.kind, "projection", q.name)
		select {
		case s.cmds <- slotCmd{kind: kind, requestID: q.id}:
		case <-ctx.Done():
			return
		}
	}
}

// sample computes lag and rate of every build, updates the metrics and
// returns the rows to persist. With updateRate, the events/s rate is
// recomputed over the time since the previous sample.
func (r *Runner) sample(ctx context.Context, head events.Position, updateRate bool) []statusUpdate {
	var ups []statusUpdate
	now := r.now()
	for _, name := range r.names {
		s := r.slots[name]
		s.mu.Lock()
		if s.fence != nil {
			s.mu.Unlock()
			continue
		}
		type snap struct {
			b     *build
			pos   events.Position
			role  Role
			rate  float64
			state State
		}
		var snaps []snap
		for _, b := range []*build{s.live, s.pending} {
			if b == nil {
				continue
			}
			if updateRate {
				if !b.prevAt.IsZero() {
					if dt := now.Sub(b.prevAt).Seconds(); dt > 0 {
						b.rate = float64(b.processed-b.prevProcessed) / dt
					}
				}
				b.prevAt, b.prevProcessed = now, b.processed
			}
			snaps = append(snaps, snap{b: b, pos: b.position, role: b.role, rate: b.rate, state: b.state})
		}
		s.mu.Unlock()
		for _, sn := range snaps {
			lagEvents, lagSeconds := r.lag(ctx, head, sn.pos, now)
			r.m.position.WithLabelValues(name, string(sn.role)).Set(float64(sn.pos))
			r.m.lagEvents.WithLabelValues(name, string(sn.role)).Set(float64(lagEvents))
			r.m.lagSeconds.WithLabelValues(name, string(sn.role)).Set(lagSeconds)
			r.m.rate.WithLabelValues(name, string(sn.role)).Set(sn.rate)
			r.m.setState(name, sn.role, sn.state)
			ups = append(ups, statusUpdate{id: sn.b.id, head: head,
				lagEvents: lagEvents, lagSeconds: lagSeconds, rate: sn.rate})
		}
	}
	return ups
}

// fenceAll stops feeding every projection because of err (matching
// ErrFenced); see slot.fenceOff.
func (r *Runner) fenceAll(err error) {
	n := 0
	for _, name := range r.names {
		if r.slots[name].fenceOff(err) {
			n++
		}
	}
	if n > 0 {
		r.log.Error("projections: stopped feeding the read models", "err", err)
	}
}

// resumeFenced asks every fenced slot to reload its builds from the
// catalog; the caller holds the lease.
func (r *Runner) resumeFenced(ctx context.Context) {
	for _, name := range r.names {
		s := r.slots[name]
		s.mu.Lock()
		fenced := s.fence != nil
		s.mu.Unlock()
		if !fenced {
			continue
		}
		select {
		case s.cmds <- slotCmd{kind: cmdResume}:
		case <-ctx.Done():
			return
		}
	}
}

func (r *Runner) lag(ctx context.Context, head, pos events.Position, now time.Time) (uint64, float64) {
	return MeasureLag(ctx, r.store, head, pos, now)
}

// MeasureLag reports how far a projection at pos is behind head: in
// positions (events, for the embedded store), and in seconds since the
// oldest event it has not applied yet was recorded (0 when caught up).
func MeasureLag(ctx context.Context, store events.Store, head, pos events.Position, now time.Time) (uint64, float64) {
	if pos >= head {
		return 0, 0
	}
	var seconds float64
	if next, err := store.ReadAll(ctx, pos, 1); err == nil && len(next) == 1 {
		seconds = max(now.Sub(next[0].RecordedAt).Seconds(), 0)
	}
	return uint64(head - pos), seconds
}
