package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
)

// Defaults used for zero Options fields.
const (
	DefaultConnectTimeout        = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 20 * time.Second
	DefaultRequestTimeout        = 60 * time.Second
	DefaultMaxRedirects          = 5
	DefaultMaxBodyBytes          = 1 << 20 // 1 MiB, for ActivityPub documents
)

// Media types and header values of ActivityPub requests.
const (
	// ActivityStreamsProfile is the JSON-LD profile naming ActivityStreams.
	ActivityStreamsProfile = "https://www.w3.org/ns/activitystreams"
	// ContentTypeActivityJSON is the Content-Type of activities we POST.
	ContentTypeActivityJSON = "application/activity+json"
	// AcceptActivityJSON is the Accept header of ActivityPub GETs.
	AcceptActivityJSON = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// maxErrorBody bounds how much of a POST response body is kept (for logs)
// and maxDrain how much more is read so the connection can be reused.
const (
	maxErrorBody = 4 << 10
	maxDrain     = 64 << 10
)

// Options configures a Client. Zero fields mean the defaults.
type Options struct {
	// Guard decides which addresses may be contacted; nil means a Guard
	// with an empty allow-list (only public addresses).
	Guard *Guard
	// InstanceURL is this instance's public URL, named in the User-Agent.
	InstanceURL string
	// Version is Hanse's version, named in the User-Agent ("dev" if empty).
	Version string
	// UserAgent replaces the User-Agent built from Version and InstanceURL.
	UserAgent string
	// Signer, when non-nil, signs ActivityPub GETs (authorized fetch),
	// normally with the instance actor's key.
	Signer *httpsig.Signer
	// ConnectTimeout bounds each TCP connect (default 10 s).
	ConnectTimeout time.Duration
	// TLSHandshakeTimeout bounds each TLS handshake (default 10 s).
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written (default 20 s).
	ResponseHeaderTimeout time.Duration
	// RequestTimeout bounds a whole call: connects, redirects and reading
	// the body (default 60 s).
	RequestTimeout time.Duration
	// MaxRedirects is how many redirects a call follows (default 5; a
	// negative value follows none).
	MaxRedirects int
	// MaxBodyBytes caps response bodies (default 1 MiB).
	MaxBodyBytes int64
	// TLSConfig, when non-nil, is cloned for the transport (tests set
	// RootCAs); the default requires TLS 1.2 or later.
	TLSConfig *tls.Config
	// Clock is used to interpret Retry-After dates; nil means time.Now.
	Clock func() time.Time
}

// Client is the guarded federation HTTP client. It is safe for concurrent
// use; make one per process (it pools connections).
type Client struct {
	hc           http.Client
	transport    *http.Transport
	userAgent    string
	signer       *httpsig.Signer
	maxRedirects int
	maxBody      int64
	clock        func() time.Time
}

// UserAgent returns the User-Agent Hanse sends, in the style of Mastodon's
// ("http.rb/5.1.1 (Mastodon/4.3.0; +https://mastodon.social/)"):
// "Hanse/<version> (+<instance URL>)".
func UserAgent(version, instanceURL string) string {
	if version == "" {
		version = "dev"
	}
	if instanceURL == "" {
		return "Hanse/" + version
	}
	return fmt.Sprintf("Hanse/%s (+%s)", version, instanceURL)
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	guard := opts.Guard
	if guard == nil {
		guard = &Guard{}
	}
	def := func(d, v time.Duration) time.Duration {
		if v <= 0 {
			return d
		}
		return v
	}
	var tlsConf *tls.Config
	if opts.TLSConfig != nil {
		tlsConf = opts.TLSConfig.Clone()
	} else {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{
		Proxy: nil, // a proxy would connect on our behalf, past the guard
		DialContext: guard.DialContext(net.Dialer{
			Timeout:   def(DefaultConnectTimeout, opts.ConnectTimeout),
			KeepAlive: 30 * time.Second,
		}),
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    def(DefaultTLSHandshakeTimeout, opts.TLSHandshakeTimeout),
		ResponseHeaderTimeout:  def(DefaultResponseHeaderTimeout, opts.ResponseHeaderTimeout),
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c := &Client{
		hc:           http.Client{Transport: tr, Timeout: def(DefaultRequestTimeout, opts.RequestTimeout)},
		transport:    tr,
		userAgent:    opts.UserAgent,
		signer:       opts.Signer,
		maxRedirects: opts.MaxRedirects,
		maxBody:      opts.MaxBodyBytes,
		clock:        opts.Clock,
	}
	if c.userAgent == "" {
		c.userAgent = UserAgent(opts.Version, opts.InstanceURL)
	}
	if c.maxRedirects == 0 {
		c.maxRedirects = DefaultMaxRedirects
	} else if c.maxRedirects < 0 {
		c.maxRedirects = 0
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	return c
}

// CloseIdleConnections closes pooled idle connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Meta describes a successful GET's response.
type Meta struct {
	// StatusCode is the final response's status (2xx).
	StatusCode int
	// URL is the final URL, after redirects: the origin the document came
	// from.
	URL string
	// ContentType is the response's Content-Type header.
	ContentType string
	// Header is the final response's header.
	Header http.Header
	// Redirects is the number of redirects followed.
	Redirects int
}

// GetOptions parameterises Client.Get.
type GetOptions struct {
	// Accept is the Accept header ("" sends none).
	Accept string
	// Signer, when non-nil, signs the GET and every redirect hop.
	Signer *httpsig.Signer
	// MaxBytes caps the body; 0 means the client's cap.
	MaxBytes int64
	// AcceptContentType, when non-nil, must approve the response's
	// Content-Type header value, or the call fails with ErrContentType.
	AcceptContentType func(contentType string) bool
}

// GetActivityJSON fetches an ActivityPub document: a GET with the
// ActivityPub Accept header, signed with the client's Signer if it has one,
// whose response must be 2xx with an ActivityPub content type (see
// IsActivityJSON) and at most the client's body cap.
func (c *Client) GetActivityJSON(ctx context.Context, rawURL string) ([]byte, Meta, error) {
	return c.Get(ctx, rawURL, GetOptions{
		Accept:            AcceptActivityJSON,
		Signer:            c.signer,
		AcceptContentType: IsActivityJSON,
	})
}

// Get performs a guarded GET and returns the body of a 2xx response. A
// non-2xx status is ErrStatus (the body is not read). Once a response has
// arrived, Meta describes it even when an error is returned.
func (c *Client) Get(ctx context.Context, rawURL string, o GetOptions) ([]byte, Meta, error) {
	var meta Meta // filled once a response arrives; returned with errors too
	fail := func(kind error, status int, cause error) ([]byte, Meta, error) {
		return nil, meta, &Error{Method: http.MethodGet, URL: rawURL, Kind: kind, StatusCode: status, Err: cause}
	}
	u, err := checkURL(rawURL)
	if err != nil {
		return fail(kindOf(err), 0, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(ErrInvalidURL, 0, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	if o.Accept != "" {
		req.Header.Set("Accept", o.Accept)
	}
	if o.Signer != nil {
		if err := o.Signer.SignRequest(req, nil); err != nil {
			return fail(ErrSign, 0, err)
		}
	}
	redirects := 0
	resp, err := c.client(o.Signer, nil, &redirects).Do(req)
	if err != nil {
		return fail(classify(err), 0, err)
	}
	defer resp.Body.Close()
	meta = Meta{
		StatusCode:  resp.StatusCode,
		URL:         resp.Request.URL.String(),
		ContentType: resp.Header.Get("Content-Type"),
		Header:      resp.Header,
		Redirects:   redirects,
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(ErrStatus, resp.StatusCode, fmt.Errorf("%s answered %s", meta.URL, resp.Status))
	}
	if o.AcceptContentType != nil && !o.AcceptContentType(meta.ContentType) {
		return fail(ErrContentType, resp.StatusCode, fmt.Errorf("Content-Type %q", meta.ContentType))
	}
	max := o.MaxBytes
	if max <= 0 {
		max = c.maxBody
	}
	body, err := readCapped(resp, max)
	if err != nil {
		return fail(kindOf(err), resp.StatusCode, err)
	}
	return body, meta, nil
}

// PostResult is the outcome of a delivery.
type PostResult struct {
	// StatusCode is the final response's status; 0 when none was received.
	StatusCode int
	// RetryAfter is the server's Retry-After (on any response), 0 when
	// absent, unparsable or in the past.
	RetryAfter time.Duration
	// Outcome classifies the attempt for the delivery worker.
	Outcome Outcome
	// Body holds up to the first 4 KiB of the response body, for logs.
	Body []byte
}

// PostSigned POSTs body (an activity) to inbox as application/activity+json,
// signed by signer (draft-cavage with a Digest, as Mastodon expects). It
// follows only 307/308 redirects (re-signing each hop); other redirects
// are not followed and count as permanent failures. The error is nil
// exactly when the outcome is OutcomeSuccess; for a non-2xx response it
// wraps ErrStatus, and the result still carries the status, Retry-After and
// outcome.
func (c *Client) PostSigned(ctx context.Context, inbox string, body []byte, signer httpsig.Signer) (PostResult, error) {
	fail := func(res PostResult, kind error, cause error) (PostResult, error) {
		err := &Error{Method: http.MethodPost, URL: inbox, Kind: kind, StatusCode: res.StatusCode, Err: cause}
		res.Outcome = ClassifyError(err)
		return res, err
	}
	u, err := checkURL(inbox)
	if err != nil {
		return fail(PostResult{}, kindOf(err), err)
	}
	if body == nil {
		body = []byte{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fail(PostResult{}, ErrInvalidURL, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Content-Type", ContentTypeActivityJSON)
	req.Header.Set("Accept", AcceptActivityJSON)
	if err := signer.SignRequest(req, body); err != nil {
		return fail(PostResult{}, ErrSign, err)
	}
	resp, err := c.client(&signer, body, nil).Do(req)
	if err != nil {
		return fail(PostResult{}, classify(err), err)
	}
	defer resp.Body.Close()
	res := PostResult{StatusCode: resp.StatusCode}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		res.RetryAfter, _ = ParseRetryAfter(ra, c.clock())
	}
	res.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(res, ErrStatus, fmt.Errorf("%s answered %s", resp.Request.URL, resp.Status))
	}
	res.Outcome = OutcomeSuccess
	return res, nil
}

// client returns a copy of the http.Client whose CheckRedirect enforces the
// redirect policy, re-signs each hop with signer (body for POSTs) and
// counts redirects into *n (when n is non-nil).
func (c *Client) client(signer *httpsig.Signer, body []byte, n *int) *http.Client {
	hc := c.hc
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if via[0].Method == http.MethodPost && req.Response != nil &&
			req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect {
			return http.ErrUseLastResponse // a POST is not turned into a GET
		}
		if len(via) > c.maxRedirects {
			return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, c.maxRedirects)
		}
		if _, err := checkURL(req.URL.String()); err != nil {
			return err
		}
		if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme == "http" {
			return fmt.Errorf("%w: redirect from https to http refused", ErrUnsupportedScheme)
		}
		if signer != nil {
			if err := signer.SignRequest(req, body); err != nil {
				return fmt.Errorf("%w: %w", ErrSign, err)
			}
		}
		if n != nil {
			*n = len(via)
		}
		return nil
	}
	return &hc
}

// checkURL parses an absolute http(s) URL with a host and no user
// information; errors wrap ErrInvalidURL or ErrUnsupportedScheme.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("%w: %q is not an absolute URL", ErrInvalidURL, raw)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrInvalidURL, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %q carries user information", ErrInvalidURL, raw)
	}
	return u, nil
}

// readCapped reads resp's body, failing with ErrTooLarge as soon as more
// than max bytes arrive (or are announced by Content-Length).
func readCapped(resp *http.Response, max int64) ([]byte, error) {
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrTooLarge, resp.ContentLength, max)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %w", classify(err), err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, max)
	}
	return buf.Bytes(), nil
}

// kindOf returns the kind sentinel err wraps, or ErrNetwork.
func kindOf(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return ErrNetwork
}

// classify maps a transport error to a kind: one of ours if wrapped (from
// the guard or the redirect policy), ErrTimeout for timeouts, else
// ErrNetwork.
func classify(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &te) && te.Timeout()) {
		return ErrTimeout
	}
	return ErrNetwork
}

// IsActivityJSON reports whether a Content-Type header value is acceptable
// for an ActivityPub document: application/activity+json;
// application/ld+json whose profile parameter (a space-separated list)
// names ActivityStreams, or which has no profile; and, leniently,
// application/json.
func IsActivityJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json", "application/json":
		return true
	case "application/ld+json":
		profile, ok := params["profile"]
		if !ok {
			return true
		}
		for _, p := range strings.Fields(profile) {
			if p == ActivityStreamsProfile {
				return true
			}
		}
	}
	return false
}
