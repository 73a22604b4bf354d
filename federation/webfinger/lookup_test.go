package webfinger

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/federation/fetch"
)

// peer is a loopback WebFinger server knowing one account, alice.
type peer struct {
	mu       sync.Mutex
	requests []*http.Request
	mode     string // "", "404", "html", "garbage"
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.Clone(context.Background()))
	mode := p.mode
	p.mu.Unlock()
	if r.URL.Path != "/.well-known/webfinger" {
		http.NotFound(w, r)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	res, err := ParseResource(r.URL.Query().Get("resource"))
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	case mode == "404" || (res.User != "alice" && res.URL != base+"/actors/alice") || res.Host != r.Host:
		http.NotFound(w, r)
	case mode == "html":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html></html>")
	case mode == "garbage":
		w.Header().Set("Content-Type", "application/jrd+json")
		io.WriteString(w, "[1,2,3]")
	default:
		alice := Resource{User: "alice", Host: r.Host}
		WriteJRD(w, ActorJRD(alice, base+"/@alice", base+"/actors/alice"))
	}
}

func (p *peer) last() *http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.requests) == 0 {
		return nil
	}
	return p.requests[len(p.requests)-1]
}

func loopbackClient(t *testing.T, opts fetch.Options) *fetch.Client {
	t.Helper()
	allow, err := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	opts.Guard = &fetch.Guard{Allow: allow}
	c := fetch.New(opts)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func mustParse(t *testing.T, s string) Resource {
	t.Helper()
	r, err := ParseResource(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookupPlainHTTP(t *testing.T) {
	p := &peer{}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := loopbackClient(t, fetch.Options{})
	ctx := context.Background()

	j, err := Lookup(ctx, c, mustParse(t, "@alice@"+host), PlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	if j.Subject != "acct:alice@"+host {
		t.Errorf("subject %q", j.Subject)
	}
	if self, ok := j.SelfLink(); !ok || self.Href != srv.URL+"/actors/alice" {
		t.Errorf("self link %+v, %v", self, ok)
	}
	req := p.last()
	if got := req.URL.Query().Get("resource"); got != "acct:alice@"+host {
		t.Errorf("queried resource %q", got)
	}
	if a := req.Header.Get("Accept"); a != "application/jrd+json, application/json" {
		t.Errorf("Accept %q", a)
	}
	if req.Header.Get("Signature") != "" {
		t.Errorf("lookup was signed")
	}

	// A URL resource is queried on its host with its scheme, no option.
	j, err = Lookup(ctx, c, mustParse(t, srv.URL+"/actors/alice"))
	if err != nil || j.Subject != "acct:alice@"+host {
		t.Fatalf("URL lookup: %+v, %v", j, err)
	}
	if got := p.last().URL.Query().Get("resource"); got != srv.URL+"/actors/alice" {
		t.Errorf("queried resource %q", got)
	}

	// Without PlainHTTP the lookup uses https, which this peer does not
	// speak: a network error, not a silent downgrade.
	_, err = Lookup(ctx, c, mustParse(t, "alice@"+host))
	if !errors.Is(err, fetch.ErrNetwork) {
		t.Errorf("https against a plain peer: %v", err)
	}
}

func TestLookupHTTPS(t *testing.T) {
	p := &peer{}
	srv := httptest.NewTLSServer(p)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsConf.RootCAs = pool
	c := loopbackClient(t, fetch.Options{TLSConfig: tlsConf})
	host := strings.TrimPrefix(srv.URL, "https://")

	j, err := Lookup(context.Background(), c, mustParse(t, "acct:alice@"+host))
	if err != nil {
		t.Fatal(err)
	}
	if self, ok := j.SelfLink(); !ok || self.Href != srv.URL+"/actors/alice" {
		t.Errorf("self link %+v, %v", self, ok)
	}
}

func TestLookupErrors(t *testing.T) {
	p := &peer{}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := loopbackClient(t, fetch.Options{})
	ctx := context.Background()

	tests := []struct {
		name     string
		mode     string
		resource string
		want     []error
	}{
		{"unknown account", "", "bob@" + host, []error{ErrNotFound, fetch.ErrStatus}},
		{"server says 404", "404", "alice@" + host, []error{ErrNotFound, fetch.ErrStatus}},
		{"HTML instead of JRD", "html", "alice@" + host, []error{fetch.ErrContentType}},
		{"not a JRD object", "garbage", "alice@" + host, []error{ErrInvalidJRD}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.mu.Lock()
			p.mode = tt.mode
			p.mu.Unlock()
			_, err := Lookup(ctx, c, mustParse(t, tt.resource), PlainHTTP())
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
		})
	}

	// The guard applies: without an allow-list, loopback is forbidden.
	strict := fetch.New(fetch.Options{})
	defer strict.CloseIdleConnections()
	if _, err := Lookup(ctx, strict, mustParse(t, "alice@"+host), PlainHTTP()); !errors.Is(err, fetch.ErrForbiddenAddress) {
		t.Errorf("unguarded lookup: %v", err)
	}
	if _, err := Lookup(ctx, c, Resource{}); !errors.Is(err, ErrInvalidResource) {
		t.Errorf("empty resource: %v", err)
	}
}

func TestIsJRD(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/jrd+json":                true,
		"application/jrd+json; charset=utf-8": true,
		"application/json":                    true,
		"application/xrd+xml":                 false,
		"text/html":                           false,
		"":                                    false,
	} {
		if got := isJRD(ct); got != want {
			t.Errorf("isJRD(%q) = %v", ct, got)
		}
	}
}
