package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hanse-network/hanse/events"
)

// build is one build of a projection in memory.
type build struct {
	id        int64
	tables    Tables
	proj      Projector // nil: the build's version is not registered (frozen)
	createdAt time.Time

	// Guarded by slot.mu.
	role          Role
	state         State
	position      events.Position
	processed     uint64
	lastErr       *ErrorInfo
	liveAt        time.Time
	requestID     int64   // rebuild request finished by the switch
	retryReqs     []int64 // retry requests finished once past the error, or on a new failure
	prevProcessed uint64
	prevAt        time.Time
	rate          float64

	// Owned by the slot goroutine.
	cancel context.CancelFunc
	done   chan struct{}
}

func (b *build) failureError(name string) error {
	e := b.lastErr
	return &EventError{Projection: name, Position: e.Position, Type: e.Type, StreamID: e.StreamID, Err: errors.New(e.Message)}
}

type cmdKind int

const (
	cmdRebuild cmdKind = iota
	cmdRetry
	evCaughtUp
	evFailed
	evRecovered
	cmdResume // reload the builds from the catalog after a fence
)

type slotCmd struct {
	kind       cmdKind
	requestID  int64      // cross-process request to finish (0: none)
	requestIDs []int64    // retry requests a recovered build finishes
	reply      chan error // in-process caller (nil: none)
	build      *build
	failure    *EventError
}

// slot manages the builds of one projection name. Its goroutine (run) owns
// every change of builds and states; workers feed builds and report back
// through cmds.
type slot struct {
	r        *Runner
	name     string
	versions map[int]Projector
	target   Projector
	cmds     chan slotCmd
	runCtx   context.Context // set by Start
	exited   chan struct{}   // closed when run has returned

	mu      sync.Mutex
	live    *build
	pending *build
	notify  chan struct{} // closed and replaced on every change waiters care about
	closed  bool
	// feedCtx is the parent of the workers' contexts; fenceOff cancels it.
	feedCtx    context.Context
	feedCancel context.CancelFunc
	// fence (with fenceErr, matching ErrFenced) is set while this runner
	// does not feed the builds because another runner took over.
	fence    *ErrorInfo
	fenceErr error
	// switchAt is the old live build's checkpoint that the pending build
	// must reach before the switch is tried again (0: none).
	switchAt events.Position
}

func (s *slot) broadcastLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *slot) newBuild(row buildRow) *build {
	return &build{
		id:        row.id,
		tables:    Tables{projection: s.name, version: row.version, generation: row.generation},
		proj:      s.versions[row.version],
		createdAt: row.createdAt,
		role:      row.role,
		state:     row.state,
		position:  row.position,
		lastErr:   row.lastErr,
		liveAt:    row.liveAt,
		requestID: row.requestID,
	}
}

// init loads the projection's builds from the catalog, creates the missing
// ones and starts their workers (at Start, and to resume after a fence).
func (s *slot) init(ctx context.Context) error {
	s.mu.Lock()
	s.feedCtx, s.feedCancel = context.WithCancel(s.runCtx)
	s.switchAt = 0
	s.mu.Unlock()
	db := s.r.db
	rows, err := db.loadBuilds(ctx, s.name)
	if err != nil {
		return err
	}
	var liveRow, pendRow *buildRow
	for i := range rows {
		switch rows[i].role {
		case RoleLive:
			liveRow = &rows[i]
		case RolePending:
			pendRow = &rows[i]
		}
	}
	target := s.target.Version()
	if pendRow != nil && pendRow.version != target {
		// A rebuild towards a version this binary does not build.
		if err := db.dropBuild(ctx, pendRow.id); err != nil {
			return err
		}
		_ = db.finishRequest(ctx, pendRow.requestID, false,
			fmt.Sprintf("abandoned: the running binary builds %s version %d", s.name, target))
		pendRow = nil
	}
	if liveRow == nil && pendRow != nil {
		result := func(events.Position) string { return "rebuilt (no previous live build)" }
		if _, err := db.switchLive(ctx, 0, pendRow.id, pendRow.requestID, result); err != nil {
			return err
		}
		pendRow.role, pendRow.requestID = RoleLive, 0
		liveRow, pendRow = pendRow, nil
	}
	if liveRow == nil {
		row, err := db.createBuild(ctx, s.target, RoleLive, StateCatchingUp, 0)
		if err != nil {
			return err
		}
		liveRow = &row
		s.r.log.Info("projections: new projection", "projection", s.name, "version", target)
	}
	if liveRow.version != target && pendRow == nil {
		row, err := db.createBuild(ctx, s.target, RolePending, StateRebuilding, 0)
		if err != nil {
			return err
		}
		pendRow = &row
		s.r.log.Info("projections: version changed; building beside the live build",
			"projection", s.name, "live_version", liveRow.version, "version", target)
	}
	live := s.newBuild(*liveRow)
	live.role = RoleLive
	if live.proj == nil {
		live.state = StateFrozen
	} else {
		live.state = StateCatchingUp
	}
	var pending *build
	if pendRow != nil {
		pending = s.newBuild(*pendRow)
		pending.state = StateRebuilding
	}
	s.mu.Lock()
	s.live, s.pending = live, pending
	s.broadcastLocked()
	s.mu.Unlock()
	if pending == nil {
		s.r.m.forget(s.name, RolePending)
	}
	for _, b := range []*build{live, pending} {
		if b == nil {
			continue
		}
		if err := db.setState(ctx, b.id, b.state, nil); err != nil {
			return err
		}
		s.r.m.setState(s.name, b.role, b.state)
		s.r.m.position.WithLabelValues(s.name, string(b.role)).Set(float64(b.position))
		if b.proj != nil {
			s.startWorker(b)
		}
	}
	return nil
}

func (s *slot) startWorker(b *build) {
	s.mu.Lock()
	ctx, cancel := context.WithCancel(s.feedCtx)
	s.mu.Unlock()
	b.cancel, b.done = cancel, make(chan struct{})
	go s.work(ctx, b)
}

func (s *slot) stopWorker(b *build) {
	if b == nil || b.cancel == nil {
		return
	}
	b.cancel()
	<-b.done
	b.cancel = nil
}

func (s *slot) workerRunning(b *build) bool {
	if b.cancel == nil {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

func (s *slot) stopAll() {
	s.mu.Lock()
	live, pending := s.live, s.pending
	s.mu.Unlock()
	s.stopWorker(live)
	s.stopWorker(pending)
}

// send delivers a worker's report to the slot goroutine unless ctx ends.
func (s *slot) send(ctx context.Context, c slotCmd) {
	select {
	case s.cmds <- c:
	case <-ctx.Done():
	}
}

func (s *slot) run(ctx context.Context) {
	defer s.stopAll()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-s.cmds:
			s.handle(ctx, c)
		}
	}
}

func (s *slot) reply(c slotCmd, err error) {
	if c.reply != nil {
		c.reply <- err
	}
}

func (s *slot) finish(ctx context.Context, id int64, ok bool, result string) {
	if id == 0 {
		return
	}
	if err := s.r.db.finishRequest(ctx, id, ok, result); err != nil && ctx.Err() == nil {
		s.r.log.Warn("projections: finish request", "id", id, "err", err)
	}
}

func (s *slot) handle(ctx context.Context, c slotCmd) {
	if c.kind == cmdResume {
		s.resume(ctx)
		return
	}
	s.mu.Lock()
	fenceErr := s.fenceErr
	s.mu.Unlock()
	if fenceErr != nil {
		// Reports of the stopped workers are stale: resuming reloads the catalog.
		if c.kind == cmdRebuild || c.kind == cmdRetry {
			s.finish(ctx, c.requestID, false, fenceErr.Error())
			s.reply(c, fenceErr)
		}
		return
	}
	switch c.kind {
	case cmdRebuild:
		s.reply(c, s.rebuild(ctx, c.requestID))
	case cmdRetry:
		s.reply(c, s.retry(ctx, c.requestID))
	case evCaughtUp:
		s.caughtUp(ctx, c.build)
	case evFailed:
		s.failed(ctx, c.build, c.failure)
	case evRecovered:
		if !s.current(c.build) {
			return
		}
		s.mu.Lock()
		pos := c.build.position
		s.mu.Unlock()
		for _, id := range c.requestIDs {
			s.finish(ctx, id, true, fmt.Sprintf("resumed: %s applied the failing event, now at position %d", s.name, pos))
		}
	}
}

// fenceOff stops feeding the slot's builds because of err (matching
// ErrFenced): the workers' context is cancelled at once, waiters get err and
// Status reports state fenced. It reports whether the slot was fed until now.
func (s *slot) fenceOff(err error) bool {
	info := &ErrorInfo{Message: err.Error(), At: s.r.now().UTC()}
	s.mu.Lock()
	if s.closed || s.feedCancel == nil || s.fence != nil && s.feedCtx.Err() != nil {
		s.mu.Unlock()
		return false
	}
	s.fence, s.fenceErr = info, err
	s.feedCancel()
	s.switchAt = 0
	var roles []Role
	for _, b := range []*build{s.live, s.pending} {
		if b != nil {
			roles = append(roles, b.role)
		}
	}
	s.broadcastLocked()
	s.mu.Unlock()
	for _, role := range roles {
		s.r.m.setState(s.name, role, StateFenced)
	}
	return true
}

// resume reloads the builds of a fenced slot from the catalog and feeds
// them again; the runner holds the lease again. On failure the slot stays
// fenced and the next poll tries again.
func (s *slot) resume(ctx context.Context) {
	s.mu.Lock()
	fenced := s.fence != nil
	s.mu.Unlock()
	if !fenced {
		return
	}
	s.stopAll()
	err := s.init(ctx)
	s.mu.Lock()
	if err == nil && s.feedCtx.Err() != nil {
		err = s.fenceErr // fenced again meanwhile
	}
	if err == nil {
		s.fence, s.fenceErr = nil, nil
		s.broadcastLocked()
	} else {
		s.feedCancel()
	}
	s.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			s.r.log.Warn("projections: resume failed; retrying at the next poll", "projection", s.name, "err", err)
		}
		s.stopAll()
		return
	}
	s.r.log.Info("projections: resumed from the catalog", "projection", s.name)
}

// fenceOnErr fences the runner when err says another runner took over.
func (s *slot) fenceOnErr(err error) bool {
	if errors.Is(err, ErrFenced) {
		s.r.fenceAll(err)
		return true
	}
	return false
}

// writeFailed handles the error of a catalog write that the slot goes on
// without: another runner taking over fences the runner; others are logged.
func (s *slot) writeFailed(ctx context.Context, what string, err error) {
	if err == nil || ctx.Err() != nil || s.fenceOnErr(err) {
		return
	}
	s.r.log.Warn("projections: "+what, "projection", s.name, "err", err)
}

// feedLive restarts the live build's worker if it was stopped for a switch
// that is not going to happen (the pending build failed or was replaced).
func (s *slot) feedLive() {
	s.mu.Lock()
	live := s.live
	ok := live != nil && live.proj != nil && live.state != StateFailed
	s.switchAt = 0
	s.mu.Unlock()
	if ok && !s.workerRunning(live) {
		s.startWorker(live)
	}
}

func (s *slot) current(b *build) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return b == s.live || b == s.pending
}

func (s *slot) rebuild(ctx context.Context, requestID int64) error {
	s.mu.Lock()
	old := s.pending
	s.mu.Unlock()
	if old != nil {
		s.stopWorker(old)
		if err := s.r.db.dropBuild(ctx, old.id); err != nil {
			s.fenceOnErr(err)
			s.finish(ctx, requestID, false, err.Error())
			return err
		}
		s.mu.Lock()
		s.pending = nil
		reqs := old.retryReqs
		s.broadcastLocked()
		s.mu.Unlock()
		s.r.m.forget(s.name, RolePending)
		superseded := "superseded by a new rebuild"
		s.finish(ctx, old.requestID, false, superseded)
		for _, id := range reqs {
			s.finish(ctx, id, false, superseded)
		}
		s.feedLive()
	}
	row, err := s.r.db.createBuild(ctx, s.target, RolePending, StateRebuilding, requestID)
	if err != nil {
		s.fenceOnErr(err)
		s.finish(ctx, requestID, false, err.Error())
		return err
	}
	b := s.newBuild(row)
	s.mu.Lock()
	s.pending = b
	s.broadcastLocked()
	s.mu.Unlock()
	s.r.m.setState(s.name, RolePending, StateRebuilding)
	s.r.log.Info("projections: rebuild started", "projection", s.name, "build", b.tables.String())
	s.startWorker(b)
	return nil
}

func (s *slot) retry(ctx context.Context, requestID int64) error {
	var resumed []*build
	s.mu.Lock()
	for _, b := range []*build{s.live, s.pending} {
		if b == nil || b.state != StateFailed || b.proj == nil || s.workerRunning(b) {
			continue
		}
		if b.role == RoleLive {
			b.state = StateCatchingUp
		} else {
			b.state = StateRebuilding
		}
		if requestID != 0 {
			b.retryReqs = append(b.retryReqs, requestID)
		}
		resumed = append(resumed, b)
	}
	state, pos := StateStopped, events.Position(0)
	if s.live != nil {
		state, pos = s.live.state, s.live.position
	}
	if len(resumed) > 0 {
		s.broadcastLocked()
	}
	s.mu.Unlock()
	if len(resumed) == 0 {
		s.finish(ctx, requestID, true, fmt.Sprintf("nothing to retry: %s is %s at position %d", s.name, state, pos))
		return fmt.Errorf("%w: %s is %s at position %d", ErrNotFailed, s.name, state, pos)
	}
	for _, b := range resumed {
		if err := s.r.db.setState(ctx, b.id, b.state, nil); err != nil {
			if s.fenceOnErr(err) {
				return err
			}
			s.r.log.Warn("projections: record state", "projection", s.name, "err", err)
		}
		s.r.m.setState(s.name, b.role, b.state)
		s.r.log.Info("projections: retrying", "projection", s.name, "build", b.tables.String(), "position", b.position)
		s.startWorker(b)
	}
	return nil
}

func (s *slot) caughtUp(ctx context.Context, b *build) {
	s.mu.Lock()
	live, pending := s.live, s.pending
	transitioned := b == live && b.state == StateCatchingUp
	if transitioned {
		b.state = StateLive
		s.broadcastLocked()
	}
	s.mu.Unlock()
	switch {
	case transitioned:
		s.writeFailed(ctx, "record state", s.r.db.setState(ctx, b.id, StateLive, nil))
		s.r.m.setState(s.name, RoleLive, StateLive)
		s.r.log.Info("projections: caught up", "projection", s.name, "build", b.tables.String())
	case b == pending:
		s.switchTo(ctx, b)
	}
}

// switchTo makes the caught-up pending build live and drops the old one.
// The old live build's worker is stopped first; the catalog switch is
// refused while the pending build is behind the old build's final
// checkpoint, and tried again once the pending build has reached it.
func (s *slot) switchTo(ctx context.Context, b *build) {
	s.mu.Lock()
	old := s.live
	requestID := b.requestID
	s.mu.Unlock()
	s.stopWorker(old)
	var oldID int64
	if old != nil {
		oldID = old.id
	}
	result := func(pos events.Position) string {
		return fmt.Sprintf("rebuilt %s, live at position %d", b.tables.String(), pos)
	}
	pos, err := s.r.db.switchLive(ctx, oldID, b.id, requestID, result)
	if s.r.onSwitch != nil {
		s.r.onSwitch(s.name, err)
	}
	var behind *switchBehindError
	switch {
	case err == nil:
	case errors.As(err, &behind):
		// The old build stays stopped at behind.live, a few events ahead.
		s.mu.Lock()
		ready := b.position >= behind.live
		if !ready {
			s.switchAt = behind.live
		}
		s.mu.Unlock()
		if ready {
			go s.send(s.runCtx, slotCmd{kind: evCaughtUp, build: b})
		}
		return
	case errors.Is(err, ErrFenced):
		s.r.fenceAll(err)
		return
	case ctx.Err() != nil:
		return
	default:
		s.r.log.Error("projections: switch to new build failed; retrying shortly", "projection", s.name, "err", err)
		if old != nil && old.proj != nil {
			s.startWorker(old)
		}
		time.AfterFunc(time.Second, func() { s.send(ctx, slotCmd{kind: evCaughtUp, build: b}) })
		return
	}
	now := s.r.now().UTC()
	s.mu.Lock()
	s.live, s.pending, s.switchAt = b, nil, 0
	b.role, b.state, b.liveAt, b.requestID = RoleLive, StateLive, now, 0
	b.position = max(b.position, pos) // the worker's next advance is at least pos
	b.prevAt = time.Time{}
	var oldReqs []int64
	if old != nil {
		oldReqs = old.retryReqs
	}
	s.broadcastLocked()
	s.mu.Unlock()
	s.r.m.forget(s.name, RolePending)
	s.r.m.setState(s.name, RoleLive, StateLive)
	s.r.m.position.WithLabelValues(s.name, string(RoleLive)).Set(float64(pos))
	for _, id := range oldReqs {
		s.finish(ctx, id, false, "superseded: the failed build was replaced by a rebuild")
	}
	s.r.log.Info("projections: switched to new build", "projection", s.name, "build", b.tables.String(), "position", pos)
}

func (s *slot) failed(ctx context.Context, b *build, ee *EventError) {
	info := &ErrorInfo{Position: ee.Position, Type: ee.Type, StreamID: ee.StreamID, Message: ee.Err.Error(), At: s.r.now().UTC()}
	if !s.current(b) {
		return
	}
	s.stopWorker(b) // it has returned after reporting; wait for it
	s.mu.Lock()
	b.state, b.lastErr = StateFailed, info
	reqs := b.retryReqs
	b.retryReqs = nil
	var rebuildReq int64
	if b.role == RolePending {
		rebuildReq, b.requestID = b.requestID, 0
	}
	role := b.role
	s.broadcastLocked()
	s.mu.Unlock()
	if role == RolePending {
		s.feedLive() // in case it was stopped for the switch
	}
	s.writeFailed(ctx, "record failure", s.r.db.setState(ctx, b.id, StateFailed, info))
	s.r.m.setState(s.name, role, StateFailed)
	s.r.m.failures.WithLabelValues(s.name).Inc()
	s.r.log.Error("projections: projection stopped on an event", "projection", s.name, "build", b.tables.String(),
		"position", ee.Position, "type", ee.Type, "stream", ee.StreamID, "err", ee.Err)
	msg := fmt.Sprintf("failed at position %d (%s on stream %q): %v", ee.Position, ee.Type, ee.StreamID, ee.Err)
	for _, id := range reqs {
		s.finish(ctx, id, false, "failed again: "+msg)
	}
	s.finish(ctx, rebuildReq, false, "rebuild "+msg+"; fix the projector and run retry")
}

// markStopped records, after the workers stopped, that no runner feeds the
// builds any more (failed and frozen builds keep their state).
func (s *slot) markStopped(ctx context.Context) error {
	s.mu.Lock()
	var ids []int64
	for _, b := range []*build{s.live, s.pending} {
		if b != nil && b.state != StateFailed && b.state != StateFrozen {
			b.state = StateStopped
			ids = append(ids, b.id)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.r.db.setState(ctx, id, StateStopped, nil))
	}
	return errors.Join(errs...)
}

// statuses reports the slot's builds, sampled now.
func (s *slot) statuses(ctx context.Context, head events.Position) []Status {
	now := s.r.now()
	s.mu.Lock()
	var out []Status
	for _, b := range []*build{s.live, s.pending} {
		if b == nil {
			continue
		}
		st := Status{ID: b.id, Name: s.name, Version: b.tables.version, Generation: b.tables.generation, Role: b.role,
			State: b.state, Position: b.position, Head: head, Rate: b.rate, CreatedAt: b.createdAt,
			LiveAt: b.liveAt, UpdatedAt: now.UTC()}
		if b.lastErr != nil {
			e := *b.lastErr
			st.LastError = &e
		}
		if s.fence != nil {
			e := *s.fence
			e.Position = b.position
			st.State, st.LastError = StateFenced, &e
		}
		out = append(out, st)
	}
	s.mu.Unlock()
	for i := range out {
		out[i].LagEvents, out[i].LagSeconds = s.r.lag(ctx, head, out[i].Position, now)
	}
	return out
}
