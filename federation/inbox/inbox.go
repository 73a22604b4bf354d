package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections/actors"
)

// Recorder records a verified activity (app.Remote implements it). It
// returns only once the event is durable; duplicate reports an activity
// received before.
type Recorder interface {
	RecordActivity(ctx context.Context, a remote.ActivityReceived) (pos events.Position, duplicate bool, err error)
}

// Keys resolves signature keys (resolve.Resolver implements it).
type Keys interface {
	// KeyResolver returns the (possibly cached) key of a key id.
	KeyResolver(ctx context.Context, keyID string) (httpsig.PublicKey, error)
	// RefreshKey refetches the key's actor first (key rotation).
	RefreshKey(ctx context.Context, keyID string) (httpsig.PublicKey, error)
	// CachedKey returns the last known key even if its actor is gone.
	CachedKey(ctx context.Context, keyID string) (httpsig.PublicKey, error)
}

var (
	_ Keys        = (*resolve.Resolver)(nil)
	_ ActorSource = (*resolve.Resolver)(nil)
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	DefaultRate         = 50      // requests per second per remote host
	DefaultBurst        = 100
)

// Error codes of the JSON error bodies ({"error":{"code","message"}}).
const (
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeTooLarge             = "payload_too_large"
	CodeUnauthorized         = "unauthorized"
	CodeBadRequest           = "bad_request"
	CodeNotFound             = "not_found"
	CodeGone                 = "gone"
	CodeRateLimited          = "rate_limited"
	CodeUnavailable          = "unavailable"
)

// Options tune a Handler; zero values mean the defaults.
type Options struct {
	// MaxBodyBytes caps a request body (default 1 MiB; larger: 413).
	MaxBodyBytes int64
	// Rate is the sustained requests per second allowed per remote host
	// (default 50; negative: no limit). Burst is the bucket size (default 100).
	Rate  float64
	Burst int
	// MaxAge and MaxFuture bound the signature's date (defaults: Mastodon's
	// 12 h and 1 h).
	MaxAge, MaxFuture time.Duration
	// Clock is the current time (default time.Now).
	Clock func() time.Time
	// Logger logs refusals at debug level and failures at warn; nil discards.
	Logger *slog.Logger
	// Policy is the instance's moderation; requests from rejected domains
	// are answered 202 and dropped unrecorded. nil allows everything.
	Policy moderation.Policy
}

// Handler serves the inboxes.
type Handler struct {
	scheme   urls.Scheme
	local    actors.Reader
	keys     Keys
	recorder Recorder
	o        Options
	limit    *limiter
	verifier httpsig.Verifier
}

// New returns the inbox handler. local answers which local actors exist;
// keys resolves signature keys; when it is also an ActorSource (as
// resolve.Resolver is), keys parsed from an actor document are reused for
// as long as the resolver still holds that same document. recorder records
// activities.
func New(scheme urls.Scheme, local actors.Reader, keys Keys, recorder Recorder, o Options) *Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{scheme: scheme, local: local, keys: keys, recorder: recorder, o: o}
	if o.Rate > 0 {
		h.limit = newLimiter(o.Rate, o.Burst)
	}
	s := "https"
	if strings.HasPrefix(scheme.Base(), "http://") {
		s = "http"
	}
	resolveKey := keys.KeyResolver
	if src, ok := keys.(ActorSource); ok {
		resolveKey = newKeyMemo(keys, src, scheme).resolve
	}
	h.verifier = httpsig.Verifier{Resolve: resolveKey, Clock: o.Clock, MaxAge: o.MaxAge, MaxFuture: o.MaxFuture, Scheme: s}
	return h
}

// Mux is the part of a router (chi.Router satisfies it) that Register
// needs.
type Mux interface {
	Method(method, pattern string, h http.Handler)
}

// Patterns lists the inbox paths: the shared inbox and every kind's actor
// inbox.
func Patterns() []string {
	out := []string{urls.SharedInboxPath, urls.InstanceActorPath + "/" + string(urls.Inbox)}
	for _, prefix := range urls.ActorPrefixes() {
		out = append(out, prefix+"{username}/"+string(urls.Inbox))
	}
	return out
}

// Register mounts the handler on m for POST at every pattern of Patterns.
func (h *Handler) Register(m Mux) {
	for _, p := range Patterns() {
		m.Method(http.MethodPost, p, h)
	}
}

// ServeHTTP receives one activity; see the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "inboxes accept POST only")
		return
	}
	now := h.o.Clock()
	if h.limit != nil {
		if ok, wait := h.limit.allow(rateKey(r), now); !ok {
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests from this host; retry later")
			return
		}
	}
	if drop, err := moderation.Rejects(r.Context(), h.o.Policy, claimedHost(r)); err != nil || drop {
		h.dropRejected(w, err)
		return
	}
	recipient, status, msg := h.recipient(r.Context(), r.URL.Path)
	if status != 0 {
		code := CodeNotFound
		if status == http.StatusGone {
			code = CodeGone
		} else if status >= 500 {
			code = CodeUnavailable
		}
		writeError(w, status, code, msg)
		return
	}
	if !acceptableType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"Content-Type must be application/activity+json or application/ld+json")
		return
	}
	if r.ContentLength > h.o.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body exceeds %d bytes", h.o.MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.o.MaxBodyBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "could not read the body")
		return
	}
	if int64(len(body)) > h.o.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body exceeds %d bytes", h.o.MaxBodyBytes))
		return
	}
	ctx := r.Context()
	res, err := h.verify(ctx, r, body)
	var activity *as2.Object
	if err != nil && errors.Is(err, resolve.ErrGone) {
		// The signer's actor answers 410. Mastodon's rule: a Delete signed
		// by the key we still hold is accepted, anything else from it is
		// acknowledged and dropped (the sender would retry a 401 for days).
		activity, _ = as2.Decode(body)
		if activity == nil || activity.Type != as2.TypeDelete {
			h.o.Logger.Debug("inbox: dropped activity of a gone actor", "error", err)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		cached := h.verifier
		cached.Resolve = h.keys.CachedKey
		if res, err = cached.Verify(ctx, r, body); err != nil {
			h.o.Logger.Debug("inbox: dropped Delete of a gone actor without a cached key", "error", err)
			w.WriteHeader(http.StatusAccepted)
			return
		}
	}
	if err != nil {
		h.o.Logger.Debug("inbox: signature refused", "error", err)
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "signature verification failed: "+err.Error())
		return
	}
	if activity == nil {
		if activity, err = as2.Decode(body); err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "malformed activity: "+err.Error())
			return
		}
	}
	actorID := activity.ActorID()
	if actorID == "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "the activity names no actor")
		return
	}
	if actorID != res.Owner {
		writeError(w, http.StatusUnauthorized, CodeUnauthorized,
			fmt.Sprintf("the activity's actor %s is not the signer %s (key %s)", actorID, res.Owner, res.KeyID))
		return
	}
	if drop, err := moderation.Rejects(ctx, h.o.Policy, moderation.HostOf(actorID)); err != nil || drop {
		h.dropRejected(w, err)
		return
	}
	id := activity.ID
	if id == "" {
		sum := sha256.Sum256(body)
		id = "urn:sha256:" + hex.EncodeToString(sum[:])
	}
	_, _, err = h.recorder.RecordActivity(ctx, remote.ActivityReceived{ActivityID: id, Type: activity.Type,
		Actor: actorID, ObjectID: activity.ObjectID(), SignerKeyID: res.KeyID, Recipient: recipient,
		Raw: json.RawMessage(body), ReceivedAt: now.UTC()})
	switch {
	case errors.Is(err, events.ErrEventTooLarge), errors.Is(err, events.ErrAppendTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "activity too large to record")
		return
	case err != nil:
		h.o.Logger.Warn("inbox: recording activity failed", "activity", id, "error", err)
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "could not record the activity; retry later")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// verify checks the signature; when it fails with the cached key (bad
// signature, or the key id no longer in the cached document) it refetches
// the key's actor once and tries again, since the remote may have rotated
// its key.
func (h *Handler) verify(ctx context.Context, r *http.Request, body []byte) (httpsig.Result, error) {
	res, err := h.verifier.Verify(ctx, r, body)
	if err == nil || !(errors.Is(err, httpsig.ErrBadSignature) || errors.Is(err, resolve.ErrNotFound)) {
		return res, err
	}
	refreshed := h.verifier
	refreshed.Resolve = h.keys.RefreshKey
	res2, err2 := refreshed.Verify(ctx, r, body)
	if err2 != nil && errors.Is(err2, resolve.ErrRefreshTooSoon) {
		return res, err
	}
	return res2, err2
}

// recipient resolves the inbox path to the local actor id (empty for the
// shared inbox), or a status and message to refuse with.
func (h *Handler) recipient(ctx context.Context, path string) (string, int, string) {
	if path == urls.SharedInboxPath {
		return "", 0, ""
	}
	t, ok := urls.ParsePath(path)
	if !ok || t.Collection != urls.Inbox || t.Profile {
		return "", http.StatusNotFound, "no such inbox"
	}
	var a actors.Actor
	var err error
	if t.Kind == actor.KindApplication {
		a, err = h.local.InstanceActor(ctx)
	} else {
		a, err = h.local.ByUsername(ctx, t.Username)
	}
	switch {
	case errors.Is(err, actors.ErrNotFound) || (err == nil && a.Kind != t.Kind):
		return "", http.StatusNotFound, "no such actor"
	case err != nil:
		h.o.Logger.Warn("inbox: actor lookup failed", "path", path, "error", err)
		return "", http.StatusServiceUnavailable, "actor directory unavailable"
	case !a.DeletedAt.IsZero():
		return "", http.StatusGone, "the actor was deleted"
	}
	return a.ID, 0, ""
}

// acceptableType accepts application/activity+json, application/ld+json
// (any profile) and, leniently, application/json.
func acceptableType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json", "application/ld+json", "application/json":
		return true
	}
	return false
}

// rateKey is the bucket of a request: the host of the claimed key id (not
// yet verified) together with the client address, so that forged key ids
// cannot spend another server's budget.
func rateKey(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return claimedHost(r) + "|" + ip
}

// claimedHost extracts the host of the keyId (draft-cavage) or keyid
// (RFC 9421) parameter, "" if there is none.
func claimedHost(r *http.Request) string {
	for _, v := range []string{r.Header.Get("Signature"), r.Header.Get("Authorization"), r.Header.Get("Signature-Input")} {
		lower := strings.ToLower(v)
		i := strings.Index(lower, `keyid="`)
		if i < 0 {
			continue
		}
		rest := v[i+len(`keyid="`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			rest = rest[:j]
		}
		if u, err := url.Parse(rest); err == nil && u.Host != "" {
			return strings.ToLower(u.Host)
		}
		return ""
	}
	return ""
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(b)
}

// dropRejected answers a request from a rejected domain with 202 (it is
// not recorded; a 4xx would only make the sender retry), or 503 when the
// policy could not be read.
func (h *Handler) dropRejected(w http.ResponseWriter, err error) {
	if err != nil {
		h.o.Logger.Warn("inbox: moderation policy unavailable", "error", err)
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "moderation policy unavailable; retry later")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
