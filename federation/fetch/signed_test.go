package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
)

// verifying wraps h: requests whose signature the httpsig Verifier rejects
// get 401; verified ones are recorded (path and signer) and passed on.
type verifying struct {
	v    httpsig.Verifier
	h    http.Handler
	mu   sync.Mutex
	seen []string // "<method> <path> <keyId>" or "<method> <path> REJECTED: <err>"
}

func (s *verifying) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := s.v.Verify(r.Context(), r, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.seen = append(s.seen, fmt.Sprintf("%s %s REJECTED: %v", r.Method, r.URL.Path, err))
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	s.seen = append(s.seen, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, res.KeyID, strings.Join(res.Covered, ",")))
	s.h.ServeHTTP(w, r)
}

func (s *verifying) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func TestSignedGET(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/start", http.RedirectHandler("/hop", http.StatusFound))
	mux.Handle("/hop", http.RedirectHandler("/users/bob", http.StatusMovedPermanently))
	mux.Handle("/users/bob", apHandler)
	srv := &verifying{v: verifier(t), h: mux}
	ts := serve(t, srv)
	s := signer(t)
	c := newClient(t, Options{Signer: &s})

	body, meta, err := c.GetActivityJSON(context.Background(), ts.URL+"/start")
	if err != nil || string(body) != actorJSON || meta.Redirects != 2 {
		t.Fatalf("signed GET: %q %+v %v (server saw %q)", body, meta, err, srv.log())
	}
	cov := "(request-target),host,date"
	want := []string{
		"GET /start " + testKeyID + " " + cov,
		"GET /hop " + testKeyID + " " + cov,
		"GET /users/bob " + testKeyID + " " + cov,
	}
	if got := srv.log(); !equal(got, want) {
		t.Fatalf("server saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Unsigned, the same server refuses (authorized fetch).
	unsigned := newClient(t, Options{})
	_, _, err = unsigned.GetActivityJSON(context.Background(), ts.URL+"/users/bob")
	if fe := wantKind(t, err, ErrStatus); fe.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned GET: %v", err)
	}
}

func TestPostSignedVerified(t *testing.T) {
	accept := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != ContentTypeActivityJSON {
			http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux := http.NewServeMux()
	mux.Handle("/inbox", accept)
	mux.Handle("/moved", http.RedirectHandler("/inbox", http.StatusPermanentRedirect))
	mux.Handle("/found", http.RedirectHandler("/inbox", http.StatusFound))
	srv := &verifying{v: verifier(t), h: mux}
	ts := serve(t, srv)
	c := newClient(t, Options{})
	activity := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://hanse.test/actor","object":"https://remote.test/users/bob"}`)
	cov := "(request-target),host,date,digest,content-type"

	tests := []struct {
		path    string
		status  int
		outcome Outcome
		seen    []string
	}{
		{"/inbox", 202, OutcomeSuccess, []string{"POST /inbox " + testKeyID + " " + cov}},
		// 308 is followed with the same body, signed again for the new target.
		{"/moved", 202, OutcomeSuccess, []string{"POST /moved " + testKeyID + " " + cov, "POST /inbox " + testKeyID + " " + cov}},
		// 302 would turn the POST into a GET: not followed.
		{"/found", 302, OutcomePermanent, []string{"POST /found " + testKeyID + " " + cov}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv.mu.Lock()
			srv.seen = nil
			srv.mu.Unlock()
			res, err := c.PostSigned(context.Background(), ts.URL+tt.path, activity, signer(t))
			if res.StatusCode != tt.status || res.Outcome != tt.outcome {
				t.Fatalf("result %+v (%v), want %d %v; server saw %q", res, err, tt.status, tt.outcome, srv.log())
			}
			if (err == nil) != (tt.outcome == OutcomeSuccess) {
				t.Fatalf("error %v with outcome %v", err, res.Outcome)
			}
			if got := srv.log(); !equal(got, tt.seen) {
				t.Fatalf("server saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.seen, "\n"))
			}
		})
	}
}

func TestPostSignedOutcomes(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Query().Get("code"), "%d", &code)
		if ra := r.URL.Query().Get("ra"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(code)
		io.WriteString(w, "status body")
	}))
	c := newClient(t, Options{Clock: func() time.Time { return now }})
	tests := []struct {
		code    int
		ra      string
		outcome Outcome
		retry   time.Duration
	}{
		{200, "", OutcomeSuccess, 0},
		{202, "", OutcomeSuccess, 0},
		{204, "", OutcomeSuccess, 0},
		{400, "", OutcomePermanent, 0},
		{401, "", OutcomePermanent, 0},
		{403, "", OutcomePermanent, 0},
		{404, "", OutcomePermanent, 0},
		{410, "", OutcomePermanent, 0},
		{422, "", OutcomePermanent, 0},
		{408, "", OutcomeTemporary, 0},
		{429, "120", OutcomeTemporary, 120 * time.Second},
		{500, "", OutcomeTemporary, 0},
		{502, "", OutcomeTemporary, 0},
		{503, "Sat, 01 Mar 2025 12:30:00 GMT", OutcomeTemporary, 30 * time.Minute},
		{503, "soon", OutcomeTemporary, 0},
		{504, "", OutcomeTemporary, 0},
		{300, "", OutcomePermanent, 0},
	}
	for _, tt := range tests {
		u := fmt.Sprintf("%s/inbox?code=%d&ra=%s", srv.URL, tt.code, strings.ReplaceAll(tt.ra, " ", "+"))
		res, err := c.PostSigned(context.Background(), u, []byte(`{}`), signer(t))
		if res.StatusCode != tt.code || res.Outcome != tt.outcome || res.RetryAfter != tt.retry {
			t.Errorf("%d %q: %+v, want outcome %v retry %v", tt.code, tt.ra, res, tt.outcome, tt.retry)
		}
		if tt.outcome == OutcomeSuccess {
			if err != nil {
				t.Errorf("%d: %v", tt.code, err)
			}
			continue
		}
		if fe := wantKind(t, err, ErrStatus); fe.StatusCode != tt.code || ClassifyError(err) != tt.outcome {
			t.Errorf("%d: %v classified %v", tt.code, err, ClassifyError(err))
		}
		if tt.code != 204 && string(res.Body) != "status body" {
			t.Errorf("%d: body %q", tt.code, res.Body)
		}
	}
}

func TestSignFailure(t *testing.T) {
	c := newClient(t, Options{Signer: &httpsig.Signer{KeyID: "k"}}) // no key
	h, hits := counted(apHandler)
	srv := serve(t, h)
	_, _, err := c.GetActivityJSON(context.Background(), srv.URL)
	wantKind(t, err, ErrSign)
	res, err := c.PostSigned(context.Background(), srv.URL, nil, httpsig.Signer{})
	wantKind(t, err, ErrSign)
	if res.Outcome != OutcomePermanent || hits.Load() != 0 {
		t.Fatalf("unsigned request sent (%d) or outcome %v", hits.Load(), res.Outcome)
	}
}
