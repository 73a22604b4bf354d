package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// errNotLoopback is wrapped by every refusal of a non-loopback address.
var errNotLoopback = errors.New("not a loopback address")

// parseTarget checks that raw is an http(s) URL of a loopback host (an IP
// literal in 127.0.0.0/8 or ::1, or "localhost") without path, query or
// fragment, and returns it.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("--target %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--target %q: want a base URL such as http://127.0.0.1:8080", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--target %q: %w: hanse-load talks to loopback only", raw, errNotLoopback)
	}
	return u, nil
}

// loopbackOnly is a net.Dialer Control function refusing any address
// that is not a loopback IP, whatever name it was resolved from.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, errNotLoopback)
	}
	return nil
}

// newClient returns an HTTP client that dials loopback addresses only,
// ignores proxy settings and keeps up to conns connections per host
// alive.
func newClient(conns int, timeout time.Duration) *http.Client {
	return newClientFrom(conns, timeout, nil)
}

// newClientFrom is newClient with connections from the local address
// local (nil: the system's choice).
func newClientFrom(conns int, timeout time.Duration, local *net.TCPAddr) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	if local != nil {
		d.LocalAddr = local
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// listenLoopback listens on a free port of 127.0.0.1.
func listenLoopback(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", "127.0.0.1:0")
}
