package fetch

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"testing"
)

func BenchmarkGuardCheck(b *testing.B) {
	allow, _ := ParseAllowList("127.0.0.0/8,::1/128")
	for _, bc := range []struct{ name, ip string }{
		{"public-v4", "93.184.215.14"},
		{"private-v4", "192.168.1.1"},
		{"public-v6", "2a01:4f8::1"},
		{"mapped-v4", "::ffff:10.0.0.1"},
		{"allowed-loopback", "127.0.0.1"},
	} {
		ip := netip.MustParseAddr(bc.ip)
		g := &Guard{Allow: allow}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_ = g.Check(ip)
			}
		})
	}
}

// BenchmarkLoopbackGET compares a GET of a small ActivityPub document
// through the guarded client with the same GET through a plain
// http.Client (keep-alive in both).
func BenchmarkLoopbackGET(b *testing.B) {
	srv := serve(b, apHandler)
	ctx := context.Background()
	b.Run("fetch.Client", func(b *testing.B) {
		c := newClient(b, Options{})
		for b.Loop() {
			if _, _, err := c.GetActivityJSON(ctx, srv.URL); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http.Client", func(b *testing.B) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			req.Header.Set("Accept", AcceptActivityJSON)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}
