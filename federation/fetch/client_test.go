package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const actorJSON = `{"@context":"https://www.w3.org/ns/activitystreams","id":"https://remote.test/users/bob","type":"Person"}`

// apHandler serves actorJSON as application/activity+json.
var apHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	io.WriteString(w, actorJSON)
})

func TestForbiddenByDefault(t *testing.T) {
	h, hits := counted(apHandler)
	srv := serve(t, h)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	v6 := serveOn(t, "[::1]:0", h)
	c := New(Options{}) // no allow-list
	t.Cleanup(c.CloseIdleConnections)
	ctx := context.Background()

	tests := []struct {
		name, url, host, addr string
	}{
		{"IPv4 literal", srv.URL, "127.0.0.1", "127.0.0.1"},
		{"IPv6 literal", v6.URL, "::1", "::1"},
		{"name resolving to loopback", "http://localhost:" + port + "/", "localhost", ""}, // 127.0.0.1 or ::1
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.GetActivityJSON(ctx, tt.url)
			wantKind(t, err, ErrForbiddenAddress)
			var fa *ForbiddenAddressError
			if !errors.As(err, &fa) || fa.Host != tt.host || fa.Reason != "loopback" {
				t.Fatalf("error = %#v, want loopback refusal of host %s", fa, tt.host)
			}
			if !fa.Addr.IsLoopback() || (tt.addr != "" && fa.Addr != netip.MustParseAddr(tt.addr)) {
				t.Fatalf("refused %s, want %s", fa.Addr, tt.addr)
			}
			res, err := c.PostSigned(ctx, tt.url+"/inbox", []byte(`{}`), signer(t))
			wantKind(t, err, ErrForbiddenAddress)
			if res.Outcome != OutcomePermanent || res.StatusCode != 0 {
				t.Fatalf("post result %+v, want permanent without status", res)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("forbidden servers received %d requests", n)
	}
}

func TestAllowListAdmits(t *testing.T) {
	srv := serve(t, apHandler)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	v6 := serveOn(t, "[::1]:0", apHandler)
	allow, err := ParseAllowList("127.0.0.0/8,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Guard: &Guard{Allow: allow}})
	for _, u := range []string{srv.URL, v6.URL, "http://localhost:" + port} {
		body, meta, err := c.GetActivityJSON(context.Background(), u+"/users/bob")
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		if string(body) != actorJSON || meta.StatusCode != 200 || meta.URL != u+"/users/bob" || meta.Redirects != 0 {
			t.Fatalf("GET %s = %q, %+v", u, body, meta)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	var got http.Header
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		apHandler(w, r)
	}))
	c := newClient(t, Options{InstanceURL: "https://hanse.example/", Version: "1.2.3"})
	if _, _, err := c.GetActivityJSON(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	if ua := got.Get("User-Agent"); ua != "Hanse/1.2.3 (+https://hanse.example/)" {
		t.Errorf("User-Agent %q", ua)
	}
	if a := got.Get("Accept"); a != `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"` {
		t.Errorf("Accept %q", a)
	}
	if got.Get("Signature") != "" {
		t.Errorf("unsigned client sent a Signature")
	}
}

// redirector redirects /r/<n> to /r/<n-1> and serves the document at /r/0.
func redirector(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			apHandler(w, r)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), code)
	})
}

func TestRedirectLimit(t *testing.T) {
	h, hits := counted(redirector(http.StatusFound))
	srv := serve(t, h)
	tests := []struct {
		name      string
		max       int
		chain     int
		wantErr   error
		wantHits  int64
		redirects int
	}{
		{"default follows 5", 0, 5, nil, 6, 5},
		{"default stops at the 6th", 0, 6, ErrTooManyRedirects, 6, 0},
		{"max 2 follows 2", 2, 2, nil, 3, 2},
		{"max 2 stops at the 3rd", 2, 9, ErrTooManyRedirects, 3, 0},
		{"negative follows none", -1, 1, ErrTooManyRedirects, 1, 0},
		{"no redirect", -1, 0, nil, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			c := newClient(t, Options{MaxRedirects: tt.max})
			u := fmt.Sprintf("%s/r/%d", srv.URL, tt.chain)
			body, meta, err := c.GetActivityJSON(context.Background(), u)
			if tt.wantErr != nil {
				wantKind(t, err, tt.wantErr)
				if ClassifyError(err) != OutcomePermanent {
					t.Errorf("too many redirects classified %v", ClassifyError(err))
				}
			} else if err != nil || string(body) != actorJSON || meta.Redirects != tt.redirects || meta.URL != srv.URL+"/r/0" {
				t.Fatalf("GET = %q, %+v, %v", body, meta, err)
			}
			if n := hits.Load(); n != tt.wantHits {
				t.Errorf("server saw %d requests, want %d", n, tt.wantHits)
			}
		})
	}
}

func TestRedirectToForbiddenAddress(t *testing.T) {
	target, targetHits := counted(apHandler)
	for _, addr := range []string{"127.0.0.2:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			private := serveOn(t, addr, target)
			origin := serve(t, http.RedirectHandler(private.URL+"/users/bob", http.StatusMovedPermanently))
			c := newClient(t, Options{}) // admits 127.0.0.1 only
			_, _, err := c.GetActivityJSON(context.Background(), origin.URL)
			wantKind(t, err, ErrForbiddenAddress)
			if n := targetHits.Load(); n != 0 {
				t.Fatalf("forbidden redirect target received %d requests", n)
			}
		})
	}
}

func TestRedirectSchemes(t *testing.T) {
	plain := serve(t, apHandler)
	tls, opts := serveTLS(t, http.RedirectHandler(plain.URL, http.StatusFound))
	ftp := serve(t, http.RedirectHandler("ftp://127.0.0.1/x", http.StatusFound))
	userinfo := serve(t, http.RedirectHandler("http://u:p@127.0.0.1/x", http.StatusFound))
	c := newClient(t, *opts)
	ctx := context.Background()

	_, _, err := c.GetActivityJSON(ctx, tls.URL)
	wantKind(t, err, ErrUnsupportedScheme) // https → http downgrade
	_, _, err = c.GetActivityJSON(ctx, ftp.URL)
	wantKind(t, err, ErrUnsupportedScheme)
	_, _, err = c.GetActivityJSON(ctx, userinfo.URL)
	wantKind(t, err, ErrInvalidURL)

	// https itself works, and http → https upgrades are followed.
	tlsDoc, _ := serveTLS(t, apHandler)
	up := serve(t, http.RedirectHandler(tlsDoc.URL, http.StatusFound))
	body, meta, err := c.GetActivityJSON(ctx, up.URL)
	if err != nil || string(body) != actorJSON || meta.URL != tlsDoc.URL {
		t.Fatalf("http→https: %q %+v %v", body, meta, err)
	}
}

func TestInvalidURLs(t *testing.T) {
	c := newClient(t, Options{})
	tests := []struct {
		url  string
		want error
	}{
		{"ftp://example.org/x", ErrUnsupportedScheme},
		{"file:///etc/passwd", ErrUnsupportedScheme},
		{"gopher://127.0.0.1:70/", ErrUnsupportedScheme},
		{"/relative/path", ErrInvalidURL},
		{"http:///nohost", ErrInvalidURL},
		{"http://user:secret@example.org/", ErrInvalidURL},
		{"http://[::1/", ErrInvalidURL},
		{"http://exa mple.org/", ErrInvalidURL},
	}
	for _, tt := range tests {
		_, _, err := c.GetActivityJSON(context.Background(), tt.url)
		wantKind(t, err, tt.want)
		res, err := c.PostSigned(context.Background(), tt.url, nil, signer(t))
		wantKind(t, err, tt.want)
		if res.Outcome != OutcomePermanent {
			t.Errorf("POST %s: outcome %v", tt.url, res.Outcome)
		}
	}
}

func TestBodyCap(t *testing.T) {
	const small = 64 << 10
	release := make(chan struct{})
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An endless chunked body: the client must stop reading by itself.
		w.Header().Set("Content-Type", "application/activity+json")
		buf := bytes.Repeat([]byte{' '}, 4096)
		for {
			select {
			case <-release:
				return
			default:
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	sized := func(n int, announce bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			if announce {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			w.Write(bytes.Repeat([]byte{' '}, n))
			if !announce {
				w.(http.Flusher).Flush()
			}
		})
	}
	tests := []struct {
		name    string
		max     int64
		h       http.Handler
		wantErr error
		wantLen int
	}{
		{"default cap admits 1 MiB", 0, sized(1<<20, true), nil, 1 << 20},
		{"default cap refuses 1 MiB + 1 by Content-Length", 0, sized(1<<20+1, true), ErrTooLarge, 0},
		{"default cap refuses 1 MiB + 1 chunked", 0, sized(1<<20+1, false), ErrTooLarge, 0},
		{"exactly the cap", small, sized(small, false), nil, small},
		{"one byte over the cap", small, sized(small+1, false), ErrTooLarge, 0},
		{"endless stream", small, stream, ErrTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.h)
			c := newClient(t, Options{MaxBodyBytes: tt.max, RequestTimeout: 10 * time.Second})
			var (
				body []byte
				err  error
			)
			within(t, 5*time.Second, func() { body, _, err = c.GetActivityJSON(context.Background(), srv.URL) })
			if tt.wantErr != nil {
				fe := wantKind(t, err, tt.wantErr)
				if fe.StatusCode != 200 || ClassifyError(err) != OutcomePermanent {
					t.Errorf("error %+v classified %v", fe, ClassifyError(err))
				}
				return
			}
			if err != nil || len(body) != tt.wantLen {
				t.Fatalf("len %d, err %v; want %d bytes", len(body), err, tt.wantLen)
			}
		})
	}
	close(release)
}

func TestTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("response header", func(t *testing.T) {
		srv := serve(t, nil)
		release := blocker(t)
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { block(r, release) })
		c := newClient(t, Options{ResponseHeaderTimeout: 100 * time.Millisecond, RequestTimeout: time.Minute})
		var err error
		within(t, 10*time.Second, func() { _, _, err = c.GetActivityJSON(ctx, srv.URL) })
		wantKind(t, err, ErrTimeout)
		res, err := c.PostSigned(ctx, srv.URL, []byte(`{}`), signer(t))
		wantKind(t, err, ErrTimeout)
		if res.Outcome != OutcomeTemporary {
			t.Errorf("timeout outcome %v", res.Outcome)
		}
	})
	t.Run("whole request while reading the body", func(t *testing.T) {
		srv := serve(t, nil)
		release := blocker(t)
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			io.WriteString(w, `{"id":`)
			w.(http.Flusher).Flush()
			block(r, release)
		})
		c := newClient(t, Options{RequestTimeout: 200 * time.Millisecond})
		var err error
		within(t, 10*time.Second, func() { _, _, err = c.GetActivityJSON(ctx, srv.URL) })
		wantKind(t, err, ErrTimeout)
	})
	t.Run("TLS handshake", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() { // accept and say nothing
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		c := newClient(t, Options{TLSHandshakeTimeout: 100 * time.Millisecond, RequestTimeout: time.Minute})
		within(t, 10*time.Second, func() { _, _, err = c.GetActivityJSON(ctx, "https://"+l.Addr().String()+"/") })
		wantKind(t, err, ErrTimeout)
	})
	t.Run("caller's deadline", func(t *testing.T) {
		srv := serve(t, nil)
		release := blocker(t)
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { block(r, release) })
		c := newClient(t, Options{})
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, _, err := c.GetActivityJSON(dctx, srv.URL)
		wantKind(t, err, ErrTimeout)
	})
	t.Run("caller's cancellation", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		c := newClient(t, Options{})
		_, _, err := c.GetActivityJSON(cctx, serve(t, apHandler).URL)
		wantKind(t, err, ErrNetwork)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancellation not visible: %v", err)
		}
	})
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, Options{})
	res, err := c.PostSigned(context.Background(), "http://"+addr+"/inbox", []byte(`{}`), signer(t))
	wantKind(t, err, ErrNetwork)
	if res.Outcome != OutcomeTemporary {
		t.Errorf("refused connection outcome %v", res.Outcome)
	}
}

func TestContentType(t *testing.T) {
	tests := []struct {
		ct string
		ok bool
	}{
		{"application/activity+json", true},
		{"application/activity+json; charset=utf-8", true},
		{"Application/Activity+JSON", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json;profile="https://www.w3.org/ns/activitystreams";charset=utf-8`, true},
		{`application/ld+json; profile="https://example.org/x https://www.w3.org/ns/activitystreams"`, true},
		{"application/ld+json", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{`application/ld+json; profile="https://example.org/other"`, false},
		{"text/html", false},
		{"text/html; charset=utf-8", false},
		{"application/xml", false},
		{"text/plain", false},
		{"", false},
		{"application/activity+json; =broken", false},
	}
	for _, tt := range tests {
		if got := IsActivityJSON(tt.ct); got != tt.ok {
			t.Errorf("IsActivityJSON(%q) = %v, want %v", tt.ct, got, tt.ok)
		}
	}

	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		io.WriteString(w, actorJSON)
	}))
	c := newClient(t, Options{})
	_, _, err := c.GetActivityJSON(context.Background(), srv.URL+"/?ct=text/html")
	if fe := wantKind(t, err, ErrContentType); fe.StatusCode != 200 {
		t.Errorf("status %d", fe.StatusCode)
	}
	body, meta, err := c.GetActivityJSON(context.Background(), srv.URL+"/?ct="+url.QueryEscape(`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`))
	if err != nil || string(body) != actorJSON || !strings.HasPrefix(meta.ContentType, "application/ld+json") {
		t.Fatalf("ld+json: %q %+v %v", body, meta, err)
	}
}

func TestGetStatus(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
	}))
	c := newClient(t, Options{})
	for _, tt := range []struct {
		code int
		want Outcome
	}{{404, OutcomePermanent}, {410, OutcomePermanent}, {401, OutcomePermanent}, {429, OutcomeTemporary}, {503, OutcomeTemporary}} {
		_, _, err := c.GetActivityJSON(context.Background(), fmt.Sprintf("%s/%d", srv.URL, tt.code))
		fe := wantKind(t, err, ErrStatus)
		if fe.StatusCode != tt.code || ClassifyError(err) != tt.want {
			t.Errorf("%d: %+v classified %v", tt.code, fe, ClassifyError(err))
		}
	}
}
