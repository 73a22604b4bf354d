package esdbtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// streamsService implements event_store.client.streams.Streams.
type streamsService struct {
	streams.UnimplementedStreamsServer
	f *FakeServer
}

// ---- errors as EventStoreDB sends them -------------------------------------

// trailerSetter is satisfied by server streams; unary handlers use grpc.SetTrailer.
type trailerSetter func(metadata.MD)

func streamDeleted(set trailerSetter, stream string) error {
	set(metadata.Pairs("exception", "stream-deleted", "stream-name", stream))
	return status.Errorf(codes.FailedPrecondition, "Event stream '%s' is deleted.", stream)
}

// wrongExpectedVersion is the status EventStoreDB's Delete and Tombstone
// answer with (appends answer with a WrongExpectedVersion message instead).
func wrongExpectedVersion(set trailerSetter, operation, stream string, e *wrongExpectedVersionError) error {
	set(metadata.Pairs(
		"exception", "wrong-expected-version",
		"stream-name", stream,
		"expected-version", strconv.FormatInt(e.expected, 10),
		"actual-version", strconv.FormatInt(e.current, 10),
	))
	return status.Errorf(codes.FailedPrecondition,
		"%s failed due to WrongExpectedVersion. Stream: %s, Expected version: %d, Actual version: %d",
		operation, stream, e.expected, e.current)
}

// invalidPosition is EventStoreDB's answer to a $all position that is not a
// record boundary.
func invalidPosition() error {
	return status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
}

// ---- Append -----------------------------------------------------------------

// Append implements the client-streaming append: an options message, then
// one message per proposed event.
func (s *streamsService) Append(stream streams.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil || opts.GetStreamIdentifier() == nil {
		return invalidArgument("first append message must carry options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	var expected int64
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		expected = int64(o.Revision)
	case *streams.AppendReq_Options_NoStream:
		expected = expectNoStream
	case *streams.AppendReq_Options_Any:
		expected = expectAny
	case *streams.AppendReq_Options_StreamExists:
		expected = expectStreamExists
	default:
		return invalidArgument("missing expected stream revision")
	}
	set := trailerSetter(stream.SetTrailer)
	var events []proposed
	size := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := req.GetProposedMessage()
		if pm == nil {
			return invalidArgument("expected a proposed message")
		}
		typ, ok := pm.GetMetadata()["type"]
		if !ok {
			set(metadata.Pairs("exception", "missing-required-metadata-property", "required-metadata-properties", "type,content-type"))
			return invalidArgument("Required Metadata Property 'type' is missing")
		}
		contentType, ok := pm.GetMetadata()["content-type"]
		if !ok {
			set(metadata.Pairs("exception", "missing-required-metadata-property", "required-metadata-properties", "type,content-type"))
			return invalidArgument("Required Metadata Property 'content-type' is missing")
		}
		size += len(pm.GetData()) + len(pm.GetCustomMetadata()) + 2*len(typ)
		if size > s.f.opts.MaxAppendSize {
			set(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(s.f.opts.MaxAppendSize)))
			return invalidArgument("Maximum Append Size of %d Exceeded.", s.f.opts.MaxAppendSize)
		}
		id, err := uuidFromProto(pm.GetId())
		if err != nil {
			return invalidArgument("bad event id: %v", err)
		}
		events = append(events, proposed{
			id: id, typ: typ, json: contentType == "application/json",
			data: pm.GetData(), meta: pm.GetCustomMetadata(),
		})
	}

	f := s.f
	f.mu.Lock()
	f.stats.Appends++
	before := len(f.log.records)
	res, err := f.log.append(name, expected, events)
	idempotent := len(f.log.records) == before
	if !idempotent {
		f.grew()
	}
	f.mu.Unlock()

	var wrong *wrongExpectedVersionError
	switch {
	case errors.Is(err, errStreamDeleted):
		return streamDeleted(set, name)
	case errors.As(err, &wrong):
		w := &streams.AppendResp_WrongExpectedVersion{}
		if wrong.current < 0 {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(wrong.current)}
		}
		switch expected {
		case expectAny:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		case expectStreamExists:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		case expectNoStream:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
		}
		return stream.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}})
	case err != nil:
		return status.Error(codes.Internal, err.Error())
	}

	ok := &streams.AppendResp_Success{}
	if res.current < 0 {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(res.current)}
	}
	if res.pos == ^uint64(0) || (idempotent && f.opts.IdempotentNoPosition) {
		ok.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{CommitPosition: res.pos, PreparePosition: res.pos}}
	}
	return stream.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}})
}

// ---- Delete and Tombstone ---------------------------------------------------

func expectedFromDelete(opts interface {
	GetRevision() uint64
	GetNoStream() *shared.Empty
	GetAny() *shared.Empty
	GetStreamExists() *shared.Empty
}) (int64, error) {
	switch {
	case opts.GetNoStream() != nil:
		return expectNoStream, nil
	case opts.GetAny() != nil:
		return expectAny, nil
	case opts.GetStreamExists() != nil:
		return expectStreamExists, nil
	default:
		return int64(opts.GetRevision()), nil
	}
}

// Delete soft-deletes a stream.
func (s *streamsService) Delete(ctx context.Context, req *streams.DeleteReq) (*streams.DeleteResp, error) {
	opts := req.GetOptions()
	if opts == nil || opts.GetExpectedStreamRevision() == nil {
		return nil, invalidArgument("missing expected stream revision")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	expected, _ := expectedFromDelete(opts)
	f := s.f
	f.mu.Lock()
	pos, err := f.log.softDelete(name, expected)
	if err == nil {
		f.grew()
	}
	f.mu.Unlock()
	if err != nil {
		return nil, deleteError(ctx, name, err)
	}
	return &streams.DeleteResp{PositionOption: &streams.DeleteResp_Position_{Position: &streams.DeleteResp_Position{CommitPosition: pos, PreparePosition: pos}}}, nil
}

// Tombstone deletes a stream for ever.
func (s *streamsService) Tombstone(ctx context.Context, req *streams.TombstoneReq) (*streams.TombstoneResp, error) {
	opts := req.GetOptions()
	if opts == nil || opts.GetExpectedStreamRevision() == nil {
		return nil, invalidArgument("missing expected stream revision")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	expected, _ := expectedFromDelete(opts)
	f := s.f
	f.mu.Lock()
	pos, err := f.log.tombstone(name, expected)
	if err == nil {
		f.grew()
	}
	f.mu.Unlock()
	if err != nil {
		return nil, deleteError(ctx, name, err)
	}
	return &streams.TombstoneResp{PositionOption: &streams.TombstoneResp_Position_{Position: &streams.TombstoneResp_Position{CommitPosition: pos, PreparePosition: pos}}}, nil
}

func deleteError(ctx context.Context, name string, err error) error {
	set := trailerSetter(func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) })
	var wrong *wrongExpectedVersionError
	switch {
	case errors.Is(err, errStreamDeleted):
		return streamDeleted(set, name)
	case errors.As(err, &wrong):
		return wrongExpectedVersion(set, "Delete", name, wrong)
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

// ---- Read -------------------------------------------------------------------

// Read serves stream reads, $all reads and $all subscriptions.
func (s *streamsService) Read(req *streams.ReadReq, stream streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return invalidArgument("missing read options")
	}
	stringIDs := opts.GetUuidOption().GetString_() != nil
	filter, err := newFilter(opts.GetFilter())
	if err != nil {
		return err
	}
	_, subscribe := opts.GetCountOption().(*streams.ReadReq_Options_Subscription)
	forwards := opts.GetReadDirection() == streams.ReadReq_Options_Forwards
	switch so := opts.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		if subscribe {
			return status.Error(codes.Unimplemented, "esdbtest: stream subscriptions are not implemented by the test double")
		}
		return s.readStream(so.Stream, forwards, opts.GetCount(), stringIDs, stream)
	case *streams.ReadReq_Options_All:
		if subscribe {
			return s.subscribeAll(so.All, filter, stringIDs, stream)
		}
		return s.readAll(so.All, forwards, opts.GetCount(), filter, stringIDs, stream)
	default:
		return invalidArgument("missing stream option")
	}
}

func (s *streamsService) readStream(o *streams.ReadReq_Options_StreamOptions, forwards bool, count uint64, stringIDs bool, stream streams.Streams_ReadServer) error {
	name := string(o.GetStreamIdentifier().GetStreamName())
	var from uint64
	fromEnd := false
	switch r := o.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Revision:
		from = r.Revision
	case *streams.ReadReq_Options_StreamOptions_Start:
	case *streams.ReadReq_Options_StreamOptions_End:
		fromEnd = true
	default:
		return invalidArgument("missing revision option")
	}
	s.f.mu.Lock()
	recs, notFound, err := s.f.log.readStream(name, forwards, from, fromEnd, count)
	s.f.mu.Unlock()
	if errors.Is(err, errStreamDeleted) {
		return streamDeleted(stream.SetTrailer, name)
	}
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if notFound {
		return stream.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
			StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}},
		}})
	}
	for _, r := range recs {
		if err := stream.Send(eventResp(r, stringIDs)); err != nil {
			return err
		}
	}
	return nil
}

func (s *streamsService) readAll(o *streams.ReadReq_Options_AllOptions, forwards bool, count uint64, filter *filter, stringIDs bool, stream streams.Streams_ReadServer) error {
	f := s.f
	f.mu.Lock()
	recs := f.log.records
	start := 0
	end := len(recs) // exclusive bound for backwards reads
	var err error
	switch p := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
		end = 0
	case *streams.ReadReq_Options_AllOptions_End:
		start = len(recs)
	case *streams.ReadReq_Options_AllOptions_Position:
		start, err = f.log.seek(p.Position.GetCommitPosition())
		end = start
	default:
		err = invalidArgument("missing $all position option")
	}
	var out []*record
	if err == nil {
		if forwards {
			for i := start; i < len(recs) && uint64(len(out)) < count; i++ {
				if filter.match(recs[i]) {
					out = append(out, recs[i])
				}
			}
		} else {
			for i := end - 1; i >= 0 && uint64(len(out)) < count; i-- {
				if filter.match(recs[i]) {
					out = append(out, recs[i])
				}
			}
		}
	}
	f.mu.Unlock()
	if errors.Is(err, errInvalidPosition) {
		return invalidPosition()
	}
	if err != nil {
		return err
	}
	for _, r := range out {
		if err := stream.Send(eventResp(r, stringIDs)); err != nil {
			return err
		}
	}
	return nil
}

// subscribeAll runs a catch-up subscription to $all: confirmation, stored
// events, CaughtUp, then live events. A live subscriber that lets more than
// LiveBufferSize messages pile up is dropped, as EventStoreDB does.
func (s *streamsService) subscribeAll(o *streams.ReadReq_Options_AllOptions, filter *filter, stringIDs bool, stream streams.Streams_ReadServer) error {
	f := s.f
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)

	f.mu.Lock()
	next := 0
	var err error
	switch p := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
	case *streams.ReadReq_Options_AllOptions_End:
		next = len(f.log.records)
	case *streams.ReadReq_Options_AllOptions_Position:
		// The server reads one event at the position and starts after it, so
		// the position is exclusive (and Position{0,0} skips the first event).
		next, err = f.log.seek(p.Position.GetCommitPosition())
		if err == nil && next < len(f.log.records) {
			next++
		}
	default:
		err = invalidArgument("missing $all position option")
	}
	if err != nil {
		f.mu.Unlock()
		if errors.Is(err, errInvalidPosition) {
			// The server confirms the subscription, then fails it.
			confirm := &streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}
			if err := stream.Send(confirm); err != nil {
				return err
			}
			return invalidPosition()
		}
		return err
	}
	sub := &liveSub{cancel: cancel}
	f.subs[sub] = struct{}{}
	f.stats.Subscriptions++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, sub)
		f.mu.Unlock()
	}()

	out := make(chan *streams.ReadResp, f.opts.LiveBufferSize)
	go s.produce(ctx, cancel, next, filter, stringIDs, out)

	for m := range out {
		if err := stream.Send(m); err != nil {
			cancel(err)
			for range out { // let the producer finish
			}
			return err
		}
	}
	cause := context.Cause(ctx)
	if _, ok := status.FromError(cause); ok && cause != nil {
		return cause
	}
	return status.FromContextError(ctx.Err()).Err()
}

// produce feeds one subscription's outgoing queue until ctx ends.
func (s *streamsService) produce(ctx context.Context, cancel context.CancelCauseFunc, next int, filter *filter, stringIDs bool, out chan<- *streams.ReadResp) {
	defer close(out)
	f := s.f
	live := false
	push := func(m *streams.ReadResp) bool {
		if live {
			select {
			case out <- m:
				return true
			default:
				f.mu.Lock()
				f.stats.Drops++
				f.stats.SlowConsumerDrops++
				f.mu.Unlock()
				cancel(status.Error(codes.Aborted, "Operation timed out: Consumer too slow to handle event while live. Client resubscription required."))
				return false
			}
		}
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !push(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}) {
		return
	}
	checkpointEvery := filter.checkpointEvery()
	considered := 0
	for {
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		batch := f.log.records[next:min(next+64, len(f.log.records))]
		notify := f.notify
		f.mu.Unlock()
		if len(batch) == 0 {
			if !live {
				if !push(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}) {
					return
				}
				live = true
			}
			select {
			case <-notify:
				continue
			case <-ctx.Done():
				return
			}
		}
		for _, r := range batch {
			next++
			considered++
			if filter.match(r) && !push(eventResp(r, stringIDs)) {
				return
			}
			if filter != nil && considered%checkpointEvery == 0 {
				cp := &streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: r.pos, PreparePosition: r.pos}}}
				if !push(cp) {
					return
				}
			}
		}
	}
}

// ---- conversions ------------------------------------------------------------

func eventResp(r *record, stringIDs bool) *streams.ReadResp {
	contentType := "application/octet-stream"
	if r.json {
		contentType = "application/json"
	}
	data, meta := r.data, r.meta
	if data == nil {
		data = []byte{}
	}
	if meta == nil {
		meta = []byte{}
	}
	ev := &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               uuidToProto(r.id, stringIDs),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.pos,
		CommitPosition:   r.pos,
		Metadata: map[string]string{
			"type":         r.typ,
			"content-type": contentType,
			// .NET ticks (100 ns) since the Unix epoch.
			"created": strconv.FormatInt(r.created.UnixNano()/100, 10),
		},
		CustomMetadata: meta,
		Data:           data,
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event:    ev,
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}}}
}

// uuidToProto encodes an id as the client expects: the big-endian halves of
// the canonical byte order, or the canonical string.
func uuidToProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func uuidFromProto(p *shared.UUID) (uuid.UUID, error) {
	if p == nil {
		return uuid.Nil, errors.New("missing id")
	}
	if st := p.GetStructured(); st != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(st.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(st.GetLeastSignificantBits()))
		return id, nil
	}
	return uuid.Parse(p.GetString_())
}

// ---- server-side filters ----------------------------------------------------

// filter is a server-side $all filter on event type or stream name, by
// prefixes or a regular expression. A nil filter matches everything.
type filter struct {
	onType   bool
	prefixes []string
	re       *regexp.Regexp
	window   int
	interval int
}

func newFilter(o *streams.ReadReq_Options_FilterOptions) (*filter, error) {
	if o == nil {
		return nil, nil
	}
	f := &filter{window: 32, interval: int(o.GetCheckpointIntervalMultiplier())}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	switch x := o.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_EventType:
		f.onType, expr = true, x.EventType
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = x.StreamIdentifier
	default:
		return nil, invalidArgument("filter without expression")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, invalidArgument("bad filter regex: %v", err)
		}
		f.re = re
	} else {
		f.prefixes = expr.GetPrefix()
	}
	if m := o.GetMax(); m > 0 {
		f.window = int(m)
	}
	if f.interval <= 0 {
		return nil, invalidArgument("checkpointIntervalMultiplier must be positive")
	}
	return f, nil
}

func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	s := r.stream
	if f.onType {
		s = r.typ
	}
	if f.re != nil {
		return f.re.MatchString(s)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func (f *filter) checkpointEvery() int {
	if f == nil {
		return 1
	}
	return f.window * f.interval
}
