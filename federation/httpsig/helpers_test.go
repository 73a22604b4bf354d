package httpsig

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtureRoot is where the shared HTTP-signature vectors live, relative to
// this package: <repo>/../shared/fixtures/httpsig.
var fixtureRoot = filepath.Join("..", "..", "..", "shared", "fixtures", "httpsig")

// fixtures returns the fixture directory, or skips the test when it is
// absent (CI always has it).
func fixtures(tb testing.TB) string {
	tb.Helper()
	if st, err := os.Stat(fixtureRoot); err != nil || !st.IsDir() {
		tb.Skipf("shared HTTP-signature fixtures not found at %s (expected ../shared beside the repository): %v", fixtureRoot, err)
	}
	return fixtureRoot
}

func readFixture(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{fixtures(tb)}, parts...)...))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

func readJSONFixture(tb testing.TB, v any, parts ...string) {
	tb.Helper()
	if err := json.Unmarshal(readFixture(tb, parts...), v); err != nil {
		tb.Fatalf("decode %v: %v", parts, err)
	}
}

// readRequest parses a raw HTTP/1.1 request fixture and its body.
func readRequest(tb testing.TB, parts ...string) (*http.Request, []byte) {
	tb.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(readFixture(tb, parts...))))
	if err != nil {
		tb.Fatalf("parse request %v: %v", parts, err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return req, body
}

// readResponse parses a raw HTTP/1.1 response fixture and its body.
func readResponse(tb testing.TB, parts ...string) (*http.Response, []byte) {
	tb.Helper()
	res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(readFixture(tb, parts...))), nil)
	if err != nil {
		tb.Fatalf("parse response %v: %v", parts, err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return res, body
}

func publicKeyFixture(tb testing.TB, parts ...string) any {
	tb.Helper()
	k, err := ParsePublicKeyPEM(readFixture(tb, parts...))
	if err != nil {
		tb.Fatalf("parse %v: %v", parts, err)
	}
	return k
}

// staticResolver resolves key ids from a map.
func staticResolver(keys map[string]PublicKey) KeyResolver {
	return func(_ context.Context, keyID string) (PublicKey, error) {
		k, ok := keys[keyID]
		if !ok {
			return PublicKey{}, errors.New("unknown key id")
		}
		return k, nil
	}
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// sentinels lists the package's error kinds, for naming them in tests.
var sentinels = []error{ErrNoSignature, ErrMalformed, ErrUnknownAlgorithm, ErrKeyNotFound,
	ErrBadSignature, ErrDigestMismatch, ErrMissingComponent, ErrOutsideWindow}

// kindOf returns the sentinel err wraps, or nil.
func kindOf(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// wantKind fails unless err wraps want (nil want: no error).
func wantKind(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
	// Exactly one kind: the sentinels are disjoint.
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		tb.Fatalf("error %v wraps %d kinds, want exactly 1", err, n)
	}
}
