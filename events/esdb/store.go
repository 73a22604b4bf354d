package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/hanse-network/hanse/events"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Logger receives the adapter's diagnostics and, one level lower, the
	// client library's. Nil discards them.
	Logger *slog.Logger
	// SubscriptionBuffer is how many events a subscription holds for a slow
	// consumer before it stops reading from the server. Default 1024.
	SubscriptionBuffer int
	// SubscriptionBufferBytes caps the payload and metadata bytes a
	// subscription holds (at least one event is always accepted).
	// Default 16 MiB.
	SubscriptionBufferBytes int
	// RetryDelay is the first pause before resubscribing after a dropped
	// subscription that delivered nothing since the previous attempt; it
	// doubles up to MaxRetryDelay. Default 20 ms. (After progress the first
	// retry is immediate.)
	RetryDelay time.Duration
	// MaxRetryDelay caps the pause between resubscription attempts.
	// Default 2 s.
	MaxRetryDelay time.Duration
	// ReadBatch is the page size for scanning $all in ReadAll and Head.
	// Default 256.
	ReadBatch int
	// CloseTimeout bounds how long Close waits for operations in flight
	// before it closes the connection under them. Default 5 s.
	CloseTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = 1024
	}
	if o.SubscriptionBufferBytes <= 0 {
		o.SubscriptionBufferBytes = 16 << 20
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 20 * time.Millisecond
	}
	if o.MaxRetryDelay < o.RetryDelay {
		o.MaxRetryDelay = max(2*time.Second, o.RetryDelay)
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 256
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
}

// ErrUnavailable wraps failures to reach EventStoreDB (connection refused or
// lost, discovery exhausted, deadline exceeded). The operation may be
// retried; appends are idempotent by event id.
var ErrUnavailable = errors.New("esdb: EventStoreDB unavailable")

// Store is an events.Store on EventStoreDB/KurrentDB. It is safe for
// concurrent use.
type Store struct {
	opts   Options
	log    *slog.Logger
	config esdb.Configuration // template for (re)created clients

	mu     sync.Mutex
	client *esdb.Client
	// using counts the calls in flight on each client, so that a replaced
	// client is closed only once nothing uses it any more (closing it
	// under a running call races inside the client library).
	using    map[*esdb.Client]*sync.WaitGroup
	closed   bool
	subs     map[*subscription]struct{}
	inflight sync.WaitGroup
	base     context.Context // cancelled by Close; parent of subscriptions
	stop     context.CancelFunc

	replacements atomic.Int64 // clients replaced after giving up; for tests
}

var _ events.Store = (*Store)(nil)

// Open connects using an EventStoreDB connection string such as
// "esdb://127.0.0.1:2113?tls=false" (the value of HANSE_ESDB_URL) and checks
// that the server answers.
func Open(ctx context.Context, connectionString string, opts Options) (*Store, error) {
	opts.setDefaults()
	cfg, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		// The string may hold a password; do not echo it.
		return nil, fmt.Errorf("esdb: parse connection string: %w", err)
	}
	cfg.Logger = clientLogger(opts.Logger)
	s := &Store{opts: opts, log: opts.Logger, config: *cfg, subs: map[*subscription]struct{}{}}
	s.base, s.stop = context.WithCancel(context.Background())
	if s.client, err = s.newClient(); err != nil {
		return nil, err
	}
	var version *esdb.ServerVersion
	err = s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		var err error
		version, err = c.GetServerVersion()
		return err
	})
	if err != nil {
		err = s.mapErr(ctx, "connect", err)
		_ = s.Close()
		return nil, err
	}
	s.log.Info("connected to EventStoreDB", "address", cfg.Address,
		"version", fmt.Sprintf("%d.%d.%d", version.Major, version.Minor, version.Patch))
	return s, nil
}

func (s *Store) newClient() (*esdb.Client, error) {
	cfg := s.config
	c, err := esdb.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("esdb: create client: %w", err)
	}
	return c, nil
}

// clientLogger routes the client library's log lines to slog, one level
// lower than the library's own (it logs routine drops as errors).
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		lvl := slog.LevelDebug
		if level == esdb.LogWarn || level == esdb.LogError {
			lvl = slog.LevelInfo
		}
		if !l.Enabled(context.Background(), lvl) {
			return
		}
		l.Log(context.Background(), lvl, "eventstoredb client: "+fmt.Sprintf(format, args...))
	}
}

// errClientPanic reports a panic inside the client library, which happens
// when it is closed while a call is queued on it.
var errClientPanic = errors.New("esdb: client library panicked")

// do runs one client call with the Store's safety net: it never outlives
// ctx, recovers panics from the client library, counts as in flight for
// Close, and retries once on a fresh client if the current one has given
// up reconnecting (the call never reached a server in that case).
//
// When ctx ends first, do returns ctx.Err() while fn may still be running:
// callers must then not read what fn writes.
func (s *Store) do(ctx context.Context, fn func(ctx context.Context, c *esdb.Client) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return events.ErrClosed
		}
		c := s.client
		s.inflight.Add(1)
		users := s.usersOf(c)
		users.Add(1)
		s.mu.Unlock()

		done := make(chan error, 1)
		go func() {
			defer s.inflight.Done()
			defer users.Done()
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("%w: %v", errClientPanic, r)
				}
			}()
			done <- fn(ctx, c)
		}()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			select {
			case err = <-done: // finished meanwhile: report what happened
			default:
				return ctx.Err()
			}
		}
		if err != nil && attempt == 0 && clientGone(err) && s.replaceClient(c, err) {
			continue
		}
		return err
	}
}

// clientGone reports whether err means the client object is finished: the
// library closes itself for good when discovery fails.
func clientGone(err error) bool {
	if errors.Is(err, errClientPanic) {
		return strings.Contains(err.Error(), "closed channel")
	}
	var e *esdb.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == esdb.ErrorCodeConnectionClosed ||
		strings.Contains(e.Error(), "maximum discovery attempt count reached")
}

// replaceClient swaps a dead client for a new one, unless another caller
// already did or the Store is closed. It reports whether a retry makes sense.
func (s *Store) replaceClient(old *esdb.Client, cause error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.client != old {
		return true
	}
	c, err := s.newClient()
	if err != nil {
		s.log.Error("cannot recreate EventStoreDB client", "err", err)
		return false
	}
	s.client = c
	s.replacements.Add(1)
	s.log.Warn("EventStoreDB client gave up reconnecting; replaced it", "cause", cause)
	users := s.usersOf(old)
	delete(s.using, old)
	go func() {
		users.Wait() // no new call can pick old up: s.client changed under mu
		closeClient(old)
	}()
	return true
}

// usersOf returns the in-flight counter of client c; s.mu must be held.
func (s *Store) usersOf(c *esdb.Client) *sync.WaitGroup {
	if s.using == nil {
		s.using = map[*esdb.Client]*sync.WaitGroup{}
	}
	wg, ok := s.using[c]
	if !ok {
		wg = &sync.WaitGroup{}
		s.using[c] = wg
	}
	return wg
}

func closeClient(c *esdb.Client) {
	defer func() { _ = recover() }()
	_ = c.Close()
}

// Close ends all subscriptions, waits (up to Options.CloseTimeout) for
// operations in flight, and closes the connection.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		_ = sub.Close()
	}
	s.stop()
	waited := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(s.opts.CloseTimeout):
		s.log.Warn("closing EventStoreDB store with operations still in flight")
	}
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	closeClient(c)
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ---- writes -----------------------------------------------------------------

func toExpected(e events.ExpectedRevision) esdb.ExpectedRevision {
	switch {
	case e.IsAny():
		return esdb.Any{}
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	default:
		rev, _ := e.ExactRevision()
		return esdb.Revision(rev)
	}
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, stream string, expected events.ExpectedRevision, evs ...events.EventData) (events.AppendResult, error) {
	if err := events.ValidateAppend(stream, expected, evs); err != nil {
		return events.AppendResult{}, err
	}
	proposed := make([]esdb.EventData, len(evs))
	for i, e := range evs {
		meta, err := events.EncodeMetadata(e.Metadata)
		if err != nil {
			return events.AppendResult{}, err
		}
		proposed[i] = esdb.EventData{
			EventID:     uuid.UUID(e.ID),
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    meta,
		}
	}
	var wr *esdb.WriteResult
	err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		var err error
		wr, err = c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: toExpected(expected)}, proposed...)
		return err
	})
	if err != nil {
		return events.AppendResult{}, s.appendError(ctx, stream, expected, evs, err)
	}
	res := events.AppendResult{NextRevision: wr.NextExpectedVersion, Position: events.Position(wr.CommitPosition)}
	if wr.CommitPosition == 0 {
		// Servers may answer an idempotent retry without a position; the
		// original position is that of the event now at NextRevision.
		pos, err := s.positionOf(ctx, stream, wr.NextExpectedVersion, evs[len(evs)-1].ID)
		if err != nil {
			return events.AppendResult{}, fmt.Errorf("esdb: append to %q succeeded but its position is unknown: %w", stream, err)
		}
		res.Position = pos
	}
	return res, nil
}

// positionOf reads the commit position of the event at revision rev, which
// must have id.
func (s *Store) positionOf(ctx context.Context, stream string, rev uint64, id events.UUID) (events.Position, error) {
	envs, err := s.readStream(ctx, stream, esdb.Forwards, esdb.Revision(rev), 1)
	if err != nil {
		return 0, err
	}
	if len(envs) == 0 || envs[0].ID != id {
		return 0, fmt.Errorf("esdb: event %s not found at revision %d of %q", id, rev, stream)
	}
	return envs[0].Position, nil
}

// DeleteStream implements events.Store with EventStoreDB's soft delete.
func (s *Store) DeleteStream(ctx context.Context, stream string, expected events.ExpectedRevision) error {
	return s.remove(ctx, "delete", stream, expected, func(ctx context.Context, c *esdb.Client) error {
		_, err := c.DeleteStream(ctx, stream, esdb.DeleteStreamOptions{ExpectedRevision: toExpected(expected)})
		return err
	})
}

// TombstoneStream implements events.Store with EventStoreDB's tombstone.
func (s *Store) TombstoneStream(ctx context.Context, stream string, expected events.ExpectedRevision) error {
	return s.remove(ctx, "tombstone", stream, expected, func(ctx context.Context, c *esdb.Client) error {
		_, err := c.TombstoneStream(ctx, stream, esdb.TombstoneStreamOptions{ExpectedRevision: toExpected(expected)})
		return err
	})
}

// remove validates a delete or tombstone, runs call and maps its error.
func (s *Store) remove(ctx context.Context, op, stream string, expected events.ExpectedRevision,
	call func(context.Context, *esdb.Client) error) error {
	if err := events.ValidateDelete(stream, expected); err != nil {
		return err
	}
	if err := s.do(ctx, call); err != nil {
		return s.deleteError(ctx, op, stream, expected, err)
	}
	return nil
}

// ---- reads ------------------------------------------------------------------

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	if err := events.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	if opts.Max < 0 {
		return nil, fmt.Errorf("esdb: read %q: negative Max %d", stream, opts.Max)
	}
	count := uint64(opts.Max)
	if opts.Max == 0 {
		count = math.MaxUint64
	}
	switch {
	case opts.From == events.StreamEnd && opts.Direction == events.Forwards:
		// Forwards from the last event is the last event alone.
		return s.readStream(ctx, stream, esdb.Backwards, esdb.End{}, 1)
	case opts.From == events.StreamEnd:
		return s.readStream(ctx, stream, esdb.Backwards, esdb.End{}, count)
	case opts.Direction == events.Backwards:
		return s.readStream(ctx, stream, esdb.Backwards, esdb.Revision(opts.From), count)
	default:
		return s.readStream(ctx, stream, esdb.Forwards, esdb.Revision(opts.From), count)
	}
}

func (s *Store) readStream(ctx context.Context, stream string, dir esdb.Direction, from esdb.StreamPosition, count uint64) ([]events.Envelope, error) {
	var out []events.Envelope
	err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		out = nil
		rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: dir, From: from}, count)
		if err != nil {
			return err
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, s.envelope(ev.OriginalEvent()))
		}
	})
	if err != nil {
		return nil, s.mapErr(ctx, fmt.Sprintf("read %q", stream), err)
	}
	return out, nil
}

// isSystem reports EventStoreDB's own events: $-types (metadata, tombstones,
// links, statistics) and anything in a $-stream.
func isSystem(ev *esdb.RecordedEvent) bool {
	return strings.HasPrefix(ev.EventType, "$") || strings.HasPrefix(ev.StreamID, "$")
}

// allPosition addresses $all right at p (Start for the position before the
// first event). Commit and prepare positions are equal for gRPC writes.
func allPosition(p events.Position) esdb.AllPosition {
	if p == events.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
}

// ReadAll implements events.Store. The position is used as is when it is an
// event's position (the usual case); any other value (EventStoreDB refuses
// positions that are not record boundaries) is first resolved to the last
// event at or before it, see resolve.
func (s *Store) ReadAll(ctx context.Context, after events.Position, max int) ([]events.Envelope, error) {
	if max <= 0 {
		return nil, fmt.Errorf("esdb: ReadAll: max must be positive, got %d", max)
	}
	out := make([]events.Envelope, 0, min(max, 4096))
	from := allPosition(after)
	verified := after == events.Start // Start needs no check
	cursor := after                   // everything at or before it is skipped
	for len(out) < max {
		// Reading from a position includes the event at it, hence +1; a few
		// more absorb system events.
		page := min(max-len(out)+1+s.opts.ReadBatch/8, 4096)
		var got []events.Envelope
		seen := 0
		last := cursor
		err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
			got, seen, last = got[:0], 0, cursor
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, uint64(page))
			if err != nil {
				return err
			}
			defer rs.Close()
			for len(out)+len(got) < max {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				rec := ev.OriginalEvent()
				pos := events.Position(rec.Position.Commit)
				seen++
				if !verified && pos != after {
					return errUnverified // resolve first; see below
				}
				verified = true
				if pos <= cursor {
					continue
				}
				last = pos
				if !isSystem(rec) {
					got = append(got, s.envelope(rec))
				}
			}
			return nil
		})
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err() // the abandoned call may still write got and seen
		}
		if !verified && (errors.Is(err, errUnverified) || (err == nil && seen == 0) || positionRefused(err)) {
			// after is not an event's position: start from the last event
			// at or before it instead.
			if from, err = s.resolve(ctx, after); err != nil {
				return nil, s.mapErr(ctx, "read $all", err)
			}
			verified = true
			continue
		}
		if err != nil {
			return nil, s.mapErr(ctx, "read $all", err)
		}
		out = append(out, got...)
		if seen < page || last == cursor {
			break // end of the log
		}
		cursor = last
		from = allPosition(cursor)
	}
	return out, nil
}

// errUnverified stops a read whose start position turned out not to be an
// event's position.
var errUnverified = errors.New("esdb: start position is not an event position")

// positionRefused reports a server error for a read from a position: any
// answer that is not about transport, deadline or closing.
func positionRefused(err error) bool {
	if err == nil || errors.Is(err, events.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if st, ok := grpcStatus(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted:
			return false
		}
	}
	return true
}

// resolve turns an arbitrary position into a safe starting point for reads
// and subscriptions: the position of the last event (system events
// included) at or before p, or Start. It scans $all backwards from the end,
// so its cost grows with the distance from p to the head of the log; event
// positions (from envelopes, appends and Head) never need it.
func (s *Store) resolve(ctx context.Context, p events.Position) (esdb.AllPosition, error) {
	var from esdb.AllPosition = esdb.End{}
	page := 64
	for {
		var found esdb.AllPosition
		seen := 0
		var last uint64
		err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
			found, seen = nil, 0
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, uint64(page))
			if err != nil {
				return err
			}
			defer rs.Close()
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				seen++
				last = ev.OriginalEvent().Position.Commit
				if events.Position(last) <= p {
					found = esdb.Position{Commit: last, Prepare: last}
					return nil
				}
			}
		})
		switch {
		case err != nil:
			return nil, err
		case found != nil:
			return found, nil
		case seen < page:
			return esdb.Start{}, nil
		}
		// Backwards reads from a position exclude it.
		from = esdb.Position{Commit: last, Prepare: last}
		page = min(page*4, 4096)
	}
}

// Head implements events.Store: the position of the last non-system event.
func (s *Store) Head(ctx context.Context) (events.Position, error) {
	var from esdb.AllPosition = esdb.End{}
	page := 32
	for {
		var head events.Position
		seen := 0
		var last uint64
		err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
			head, seen = 0, 0
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, uint64(page))
			if err != nil {
				return err
			}
			defer rs.Close()
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				rec := ev.OriginalEvent()
				seen++
				last = rec.Position.Commit
				if !isSystem(rec) {
					head = events.Position(rec.Position.Commit)
					return nil
				}
			}
		})
		if err != nil {
			return 0, s.mapErr(ctx, "read $all backwards", err)
		}
		if head != 0 || seen < page {
			return head, nil
		}
		// Backwards reads from a position exclude it.
		from = esdb.Position{Commit: last, Prepare: last}
		page = min(page*4, max(s.opts.ReadBatch, 4096))
	}
}

// envelope converts a recorded event. Metadata that is not Hanse's JSON
// (events written by other tools) is logged and left empty.
func (s *Store) envelope(ev *esdb.RecordedEvent) events.Envelope {
	meta, err := events.DecodeMetadata(ev.UserMetadata)
	if err != nil {
		s.log.Warn("event metadata is not Hanse envelope metadata", "stream", ev.StreamID,
			"revision", ev.EventNumber, "position", ev.Position.Commit, "err", err)
	}
	return events.Envelope{
		ID:         events.UUID(ev.EventID),
		StreamID:   ev.StreamID,
		Revision:   ev.EventNumber,
		Position:   events.Position(ev.Position.Commit),
		Type:       ev.EventType,
		Data:       ev.Data,
		Metadata:   meta,
		RecordedAt: ev.CreatedDate,
	}
}
