package fetch

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
)

// loopbackOnly admits 127.0.0.1 and nothing else: 127.0.0.2 and ::1 stay
// forbidden, for redirect tests.
func loopbackOnly(tb testing.TB) *Guard {
	tb.Helper()
	a, err := ParseAllowList("127.0.0.1/32")
	if err != nil {
		tb.Fatal(err)
	}
	return &Guard{Allow: a}
}

// newClient returns a client admitting 127.0.0.1 unless opts.Guard is set,
// closing its idle connections at the end of the test.
func newClient(tb testing.TB, opts Options) *Client {
	tb.Helper()
	if opts.Guard == nil {
		opts.Guard = loopbackOnly(tb)
	}
	c := New(opts)
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// counted wraps h to count the requests it serves.
func counted(h http.Handler) (http.Handler, *atomic.Int64) {
	n := new(atomic.Int64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}), n
}

// serve starts an HTTP server on 127.0.0.1.
func serve(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// serveOn starts an HTTP server on the given loopback address (e.g.
// "127.0.0.2:0" or "[::1]:0"), skipping the test when it is unavailable.
func serveOn(tb testing.TB, addr string, h http.Handler) *httptest.Server {
	tb.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

// serveTLS starts an HTTPS server on 127.0.0.1 and returns a TLS config
// trusting it.
func serveTLS(tb testing.TB, h http.Handler) (*httptest.Server, *Options) {
	tb.Helper()
	srv := httptest.NewTLSServer(h)
	tb.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	o := &Options{}
	o.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	o.TLSConfig.RootCAs = pool
	return srv, o
}

// blocker is released at the end of a test, before the servers close
// (cleanups run last-in first-out, so register it after the server).
func blocker(tb testing.TB) <-chan struct{} {
	ch := make(chan struct{})
	tb.Cleanup(func() { close(ch) })
	return ch
}

// block waits for the test's end or the request's cancellation.
func block(r *http.Request, release <-chan struct{}) {
	select {
	case <-release:
	case <-r.Context().Done():
	}
}

// testKey is one RSA key shared by the tests (generation is slow).
var testKey = sync.OnceValues(httpsig.GenerateRSAKey)

const testKeyID = "https://hanse.test/actor#main-key"

func signer(tb testing.TB) httpsig.Signer {
	tb.Helper()
	k, err := testKey()
	if err != nil {
		tb.Fatal(err)
	}
	return httpsig.Signer{KeyID: testKeyID, Key: k}
}

func verifier(tb testing.TB) httpsig.Verifier {
	tb.Helper()
	k, err := testKey()
	if err != nil {
		tb.Fatal(err)
	}
	pub := &k.PublicKey
	return httpsig.Verifier{Resolve: func(_ context.Context, keyID string) (httpsig.PublicKey, error) {
		if keyID != testKeyID {
			return httpsig.PublicKey{}, errors.New("unknown key")
		}
		return httpsig.PublicKey{ID: keyID, Owner: "https://hanse.test/actor", Key: pub}, nil
	}, Scheme: "http"}
}

// wantKind fails unless err is a *Error of kind want (and of no other kind).
func wantKind(tb testing.TB, err, want error) *Error {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
	for _, k := range kinds {
		if k != want && errors.Is(err, k) {
			tb.Fatalf("error %v is also %v", err, k)
		}
	}
	var fe *Error
	if !errors.As(err, &fe) {
		tb.Fatalf("error %T is not a *fetch.Error", err)
	}
	return fe
}

// within fails when f takes longer than d (a timeout that did not fire).
func within(tb testing.TB, d time.Duration, f func()) {
	tb.Helper()
	start := time.Now()
	f()
	if el := time.Since(start); el > d {
		tb.Fatalf("took %v, want under %v", el, d)
	}
}
