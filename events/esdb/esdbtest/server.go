package esdbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// Options configure a FakeServer. The zero value gives EventStoreDB's defaults.
type Options struct {
	// LiveBufferSize is how many messages a live subscription may have queued
	// for a slow consumer before the server drops it with "consumer too
	// slow", as EventStoreDB does. Default 32.
	LiveBufferSize int
	// MaxAppendSize caps one append: the sum of data, metadata and twice the
	// type-name bytes of its events (KurrentDB's formula). Default 1 MiB.
	MaxAppendSize int
	// IdempotentNoPosition makes idempotent (duplicate) appends answer
	// without a log position, as older servers did.
	IdempotentNoPosition bool
	// Version is the server version reported on connect. Default "24.10.0".
	Version string
	// Now is the clock for recorded timestamps. Default time.Now.
	Now func() time.Time
}

// Stats counts what a FakeServer has done, for assertions in tests.
type Stats struct {
	// ActiveSubscriptions is the number of open $all subscriptions.
	ActiveSubscriptions int
	// Subscriptions counts every $all subscription ever opened.
	Subscriptions int
	// Drops counts subscriptions ended by the server (test hook or slow consumer).
	Drops int
	// SlowConsumerDrops counts drops because a live subscriber fell behind.
	SlowConsumerDrops int
	// Appends counts append requests that reached the log.
	Appends int
}

// FakeServer is a test double, not EventStoreDB: an in-process gRPC server
// that speaks enough of EventStoreDB's streams protocol, over a plain
// in-memory log, for EventStore-Client-Go to run against it. See the package
// documentation for what it imitates and what it does not.
type FakeServer struct {
	opts Options

	mu     sync.Mutex
	log    *memLog
	notify chan struct{} // closed and replaced whenever the log grows
	subs   map[*liveSub]struct{}
	stats  Stats
	addr   string
	srv    *grpc.Server
	done   chan struct{} // closed when the current srv stopped serving
	closed bool
}

type liveSub struct {
	cancel context.CancelCauseFunc
}

// Start creates a FakeServer listening on 127.0.0.1 on a free port.
func Start(opts Options) (*FakeServer, error) {
	if opts.LiveBufferSize <= 0 {
		opts.LiveBufferSize = 32
	}
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = 1 << 20
	}
	if opts.Version == "" {
		opts.Version = "24.10.0"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &FakeServer{
		opts:   opts,
		log:    newMemLog(opts.Now),
		notify: make(chan struct{}),
		subs:   map[*liveSub]struct{}{},
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("esdbtest: listen: %w", err)
	}
	f.addr = lis.Addr().String()
	f.serve(lis)
	return f, nil
}

// Addr is the host:port the server listens on.
func (f *FakeServer) Addr() string { return f.addr }

// ConnectionString is an EventStoreDB connection string for this server.
func (f *FakeServer) ConnectionString() string {
	return "esdb://" + f.addr + "?tls=false"
}

func (f *FakeServer) serve(lis net.Listener) {
	srv := grpc.NewServer(
		// EventStoreDB (Kestrel) accepts the client's 10 s keepalive pings;
		// grpc-go's default policy would answer them with GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	)
	streams.RegisterStreamsServer(srv, &streamsService{f: f})
	serverfeatures.RegisterServerFeaturesServer(srv, &featuresService{f: f})
	done := make(chan struct{})
	f.mu.Lock()
	f.srv, f.done = srv, done
	f.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(lis) // returns when stopped
	}()
}

// Stop stops serving, as if the server process went down: every connection
// and subscription is cut. The log and the address are kept for Resume.
func (f *FakeServer) Stop() {
	f.mu.Lock()
	srv, done := f.srv, f.done
	f.srv = nil
	f.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Stop()
	<-done
}

// Resume serves again on the same address after Stop, with the same log.
func (f *FakeServer) Resume() error {
	f.mu.Lock()
	running, closed := f.srv != nil, f.closed
	f.mu.Unlock()
	if closed {
		return errors.New("esdbtest: server closed")
	}
	if running {
		return nil
	}
	var lis net.Listener
	var err error
	// The port was just released; retry briefly in case the kernel lags.
	for range 50 {
		if lis, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("esdbtest: listen again on %s: %w", f.addr, err)
	}
	f.serve(lis)
	return nil
}

// Restart is Stop followed by Resume.
func (f *FakeServer) Restart() error {
	f.Stop()
	return f.Resume()
}

// Close stops the server for good.
func (f *FakeServer) Close() {
	f.Stop()
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

// DropSubscriptions ends every open $all subscription from the server side
// with an Unavailable status (after delivering what was already queued) and
// returns how many it dropped.
func (f *FakeServer) DropSubscriptions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for s := range f.subs {
		s.cancel(status.Error(codes.Unavailable, "subscription dropped by FakeServer.DropSubscriptions"))
		n++
	}
	f.stats.Drops += n
	return n
}

// EmitSystemEvents appends n system events ($statsCollected in a $stats-
// stream) to the log, as a real server does periodically.
func (f *FakeServer) EmitSystemEvents(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.log.writeSystem("$stats-"+f.addr, "$statsCollected", []byte(`{"proc-cpu":1.5,"es-queue-Storage Writer-length":0}`))
	}
	f.grew()
}

// Stats returns the server's counters.
func (f *FakeServer) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.ActiveSubscriptions = len(f.subs)
	return s
}

// LastPosition is the commit position of the last record in the log
// (system records included).
func (f *FakeServer) LastPosition() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.records[len(f.log.records)-1].pos
}

// grew wakes live subscriptions. Callers hold f.mu.
func (f *FakeServer) grew() {
	close(f.notify)
	f.notify = make(chan struct{})
}

type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
	f *FakeServer
}

// GetSupportedMethods answers the client's first call on connect.
func (s *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	methods := []*serverfeatures.SupportedMethod{}
	for _, m := range []string{"read", "append", "delete", "tombstone"} {
		methods = append(methods, &serverfeatures.SupportedMethod{ServiceName: "event_store.client.streams.streams", MethodName: m})
	}
	return &serverfeatures.SupportedMethods{EventStoreServerVersion: s.f.opts.Version, Methods: methods}, nil
}

// invalidArgument answers a malformed request.
func invalidArgument(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
