package esdbtest

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Expected-version encodings used by EventStoreDB internally (and in its
// wrong-expected-version error messages).
const (
	expectAny          int64 = -2
	expectNoStream     int64 = -1
	expectStreamExists int64 = -4
)

// deletedStream is EventStoreDB's EventNumber.DeletedStream: the revision of
// a tombstone record and the $tb value of a soft-deleted stream.
const deletedStream = math.MaxInt64

// Record header overhead added to every record's size when positions are
// assigned, so that commit positions have gaps of varying width like the
// transaction-file offsets of a real server.
const recordOverhead = 83

// record is one entry of the transaction log. Records are immutable once
// appended.
type record struct {
	pos      uint64
	stream   string
	revision uint64
	id       uuid.UUID
	typ      string
	json     bool
	data     []byte
	meta     []byte
	created  time.Time
}

func (r *record) size() uint64 {
	return uint64(recordOverhead + 2*len(r.stream) + 2*len(r.typ) + len(r.data) + len(r.meta))
}

// streamState is what the index knows about one stream.
type streamState struct {
	events      []*record // by revision; events[i].revision == i
	tombstoned  bool
	softDeleted bool
	truncBefore uint64 // $tb: revisions below it are hidden
	metaLast    int64  // last revision of the $$ metadata stream, -1 if none
}

func (s *streamState) last() int64 { return int64(len(s.events)) - 1 }

type eventRef struct {
	stream   string
	revision uint64
}

// proposed is an event received in an append.
type proposed struct {
	id   uuid.UUID
	typ  string
	json bool
	data []byte
	meta []byte
}

// Failures of log operations; the gRPC layer turns them into the statuses,
// trailers and response messages EventStoreDB sends.
var errStreamDeleted = errors.New("stream deleted")

type wrongExpectedVersionError struct {
	expected int64
	current  int64
}

func (e *wrongExpectedVersionError) Error() string {
	return fmt.Sprintf("wrong expected version: expected %d, current %d", e.expected, e.current)
}

// memLog is the transaction log plus its stream index. Callers hold FakeServer.mu.
type memLog struct {
	records []*record
	streams map[string]*streamState
	ids     map[uuid.UUID]eventRef
	nextPos uint64
	now     func() time.Time
}

func newMemLog(now func() time.Time) *memLog {
	l := &memLog{
		streams: map[string]*streamState{},
		ids:     map[uuid.UUID]eventRef{},
		now:     now,
	}
	// Position 0 holds the epoch record, which is not an event: the first
	// event of a real server's log never has commit position 0.
	l.nextPos = 0x7e
	// A fresh EventStoreDB writes system events ($-prefixed streams and
	// types) before any user event; they must be filtered by readers of $all.
	l.writeSystem("$$$users", "$metadata", []byte(`{"$acl":{"$w":"$admins","$d":"$admins","$mw":"$admins"}}`))
	l.writeSystem("$users", "$User", []byte(`{"loginName":"admin"}`))
	l.writeSystem("$$$scavenges", "$metadata", []byte(`{"$maxAge":2592000}`))
	return l
}

func (l *memLog) stream(name string) *streamState {
	s := l.streams[name]
	if s == nil {
		s = &streamState{metaLast: -1}
		l.streams[name] = s
	}
	return s
}

func (l *memLog) current(name string) int64 {
	if s := l.streams[name]; s != nil {
		return s.last()
	}
	return -1
}

// write appends one record at the end of the log.
func (l *memLog) write(stream string, revision uint64, id uuid.UUID, typ string, json bool, data, meta []byte) *record {
	r := &record{
		pos: l.nextPos, stream: stream, revision: revision, id: id, typ: typ,
		json: json, data: data, meta: meta, created: l.now(),
	}
	l.nextPos += r.size()
	l.records = append(l.records, r)
	if revision != deletedStream {
		s := l.stream(stream)
		s.events = append(s.events, r)
		l.ids[id] = eventRef{stream: stream, revision: revision}
	}
	return r
}

// writeSystem appends a system event to a $-stream (a metadata stream, for
// example), tracking metadata-stream revisions.
func (l *memLog) writeSystem(stream, typ string, data []byte) *record {
	s := l.stream(stream)
	return l.write(stream, uint64(len(s.events)), uuid.New(), typ, true, data, nil)
}

func (l *memLog) writeMetadata(stream string, data []byte) *record {
	r := l.writeSystem("$$"+stream, "$metadata", data)
	l.stream(stream).metaLast = int64(r.revision)
	return r
}

// checkCommit mirrors EventStoreDB's IndexWriter.CheckCommit. It returns
// (ok, idempotent result, error): ok means the write may proceed; a non-nil
// idempotent result means the events were already written by an earlier,
// identical append.
func (l *memLog) checkCommit(name string, expected int64, ids []uuid.UUID) (bool, *appendResult, error) {
	s := l.streams[name]
	cur := l.current(name)
	softDeleted := s != nil && s.softDeleted
	if s != nil && s.tombstoned {
		return false, nil, errStreamDeleted
	}
	wrong := &wrongExpectedVersionError{expected: expected, current: cur}
	if expected == expectStreamExists {
		if softDeleted {
			// EventStoreDB answers StreamDeleted here, not WrongExpectedVersion.
			return false, nil, errStreamDeleted
		}
		if cur < 0 && (s == nil || s.metaLast < 0) {
			return false, nil, wrong
		}
	}
	if expected == expectAny || expected == expectStreamExists {
		// Idempotency by event id (a bounded cache on the server; unbounded here).
		var last eventRef
		for i, id := range ids {
			ref, ok := l.ids[id]
			if !ok || ref.stream != name {
				if i == 0 {
					return true, nil, nil
				}
				return false, nil, wrong // corrupted idempotency
			}
			last = ref
		}
		return false, l.idempotent(name, last.revision), nil
	}
	if expected < cur {
		for i, id := range ids {
			rev := expected + 1 + int64(i)
			if rev <= cur && s.events[rev].id == id {
				continue
			}
			if i > 0 {
				return false, nil, wrong // corrupted idempotency
			}
			if expected == expectNoStream && softDeleted {
				return true, nil, nil
			}
			return false, nil, wrong
		}
		return false, l.idempotent(name, uint64(expected+int64(len(ids)))), nil
	}
	if expected > cur {
		return false, nil, wrong
	}
	return true, nil, nil
}

func (l *memLog) idempotent(name string, lastRevision uint64) *appendResult {
	r := l.streams[name].events[lastRevision]
	return &appendResult{current: int64(lastRevision), pos: r.pos}
}

type appendResult struct {
	current int64
	pos     uint64
}

// append writes events to a stream under an expected version.
func (l *memLog) append(name string, expected int64, events []proposed) (appendResult, error) {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.id
	}
	ok, idem, err := l.checkCommit(name, expected, ids)
	if err != nil {
		return appendResult{}, err
	}
	if idem != nil {
		return *idem, nil
	}
	if !ok {
		return appendResult{}, errors.New("internal: commit check refused without reason")
	}
	cur := l.current(name)
	if len(events) == 0 {
		return appendResult{current: cur, pos: math.MaxUint64}, nil
	}
	s := l.stream(name)
	wasSoftDeleted := s.softDeleted
	var lastRec *record
	for i, e := range events {
		lastRec = l.write(name, uint64(cur+1+int64(i)), e.id, e.typ, e.json, e.data, e.meta)
	}
	if wasSoftDeleted {
		// Recreating a soft-deleted stream rewrites its metadata with $tb set
		// to the first new revision (after the events, as the server does).
		s.softDeleted = false
		s.truncBefore = uint64(cur + 1)
		l.writeMetadata(name, []byte(`{"$tb":`+strconv.FormatInt(cur+1, 10)+`}`))
	}
	return appendResult{current: int64(lastRec.revision), pos: lastRec.pos}, nil
}

// softDelete marks a stream deleted by writing {"$tb": DeletedStream} to its
// metadata stream, as EventStoreDB's soft delete does.
func (l *memLog) softDelete(name string, expected int64) (uint64, error) {
	ok, _, err := l.checkCommit(name, expected, []uuid.UUID{uuid.New()})
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &wrongExpectedVersionError{expected: expected, current: l.current(name)}
	}
	s := l.stream(name)
	if s.last() < 0 && s.metaLast < 0 {
		return 0, &wrongExpectedVersionError{expected: expected, current: -1}
	}
	r := l.writeMetadata(name, []byte(`{"$tb":9223372036854775807}`))
	s.softDeleted = true
	return r.pos, nil
}

// tombstone writes a $streamDeleted record into the stream itself.
func (l *memLog) tombstone(name string, expected int64) (uint64, error) {
	ok, _, err := l.checkCommit(name, expected, []uuid.UUID{uuid.New()})
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &wrongExpectedVersionError{expected: expected, current: l.current(name)}
	}
	r := l.write(name, deletedStream, uuid.New(), "$streamDeleted", false, nil, nil)
	s := l.stream(name)
	s.tombstoned = true
	return r.pos, nil
}

// readStream returns the visible events of a stream. notFound reports a
// missing or soft-deleted stream.
func (l *memLog) readStream(name string, forwards bool, from uint64, fromEnd bool, count uint64) (out []*record, notFound bool, err error) {
	s := l.streams[name]
	if s != nil && s.tombstoned {
		return nil, false, errStreamDeleted
	}
	if s == nil || s.last() < 0 || s.softDeleted {
		return nil, true, nil
	}
	last := uint64(s.last())
	if forwards {
		if fromEnd {
			return nil, false, nil
		}
		rev := max(from, s.truncBefore)
		for ; rev <= last && uint64(len(out)) < count; rev++ {
			out = append(out, s.events[rev])
		}
		return out, false, nil
	}
	rev := last
	if !fromEnd {
		if from < s.truncBefore {
			return nil, false, nil
		}
		rev = min(from, last)
	}
	for uint64(len(out)) < count {
		out = append(out, s.events[rev])
		if rev == s.truncBefore || rev == 0 {
			break
		}
		rev--
	}
	return out, false, nil
}

// errInvalidPosition reports a $all position that is neither the start of a
// record nor the end of the log.
var errInvalidPosition = errors.New("invalid $all position")

// seek returns the index of the first record at or after pos, checking that
// pos is a record boundary (0, the epoch record, counts as one).
func (l *memLog) seek(pos uint64) (int, error) {
	i := sort.Search(len(l.records), func(i int) bool { return l.records[i].pos >= pos })
	if pos == 0 || pos == l.nextPos || (i < len(l.records) && l.records[i].pos == pos) {
		return i, nil
	}
	return 0, fmt.Errorf("%w: %d", errInvalidPosition, pos)
}
