package httpapi

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limit is a token-bucket rate: PerSecond tokens are added each second up
// to Burst. The zero Limit (or a non-positive rate or burst) disables
// limiting.
type Limit struct {
	PerSecond float64
	Burst     int
}

// PerMinute is the Limit of n requests a minute with a burst of n.
func PerMinute(n int) Limit { return Limit{PerSecond: float64(n) / 60, Burst: n} }

// Enabled reports whether l limits anything.
func (l Limit) Enabled() bool { return l.PerSecond > 0 && l.Burst > 0 }

// DefaultLimiterKeys bounds the keys a KeyedLimiter remembers.
const DefaultLimiterKeys = 10000

// KeyedLimiter is a token bucket per key (client address, login name,
// account) with bounded memory: at most maxKeys buckets, the least
// recently used forgotten first (a forgotten bucket starts full again, so
// only idle keys should be forgotten; keep maxKeys well above the number
// of keys active within Burst/PerSecond seconds). Safe for concurrent use.
type KeyedLimiter struct {
	limit Limit
	max   int
	now   func() time.Time

	mu sync.Mutex
	ll *list.List // front: most recently used
	m  map[string]*list.Element
}

type limiterBucket struct {
	key    string
	tokens float64
	last   time.Time
}

// NewKeyedLimiter returns a limiter of limit per key remembering at most
// maxKeys keys (DefaultLimiterKeys when ≤ 0).
func NewKeyedLimiter(limit Limit, maxKeys int) *KeyedLimiter {
	if maxKeys <= 0 {
		maxKeys = DefaultLimiterKeys
	}
	return &KeyedLimiter{limit: limit, max: maxKeys, now: time.Now, ll: list.New(), m: map[string]*list.Element{}}
}

// SetClock replaces the limiter's clock (tests).
func (l *KeyedLimiter) SetClock(now func() time.Time) {
	l.mu.Lock()
	l.now = now
	l.mu.Unlock()
}

// Allow takes a token from key's limiterBucket. When none is left it returns
// false and how long until one is. A disabled limit or an empty key always
// allows.
func (l *KeyedLimiter) Allow(key string) (bool, time.Duration) {
	if l == nil || !l.limit.Enabled() || key == "" {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	burst := float64(l.limit.Burst)
	var b *limiterBucket
	if el, ok := l.m[key]; ok {
		l.ll.MoveToFront(el)
		b = el.Value.(*limiterBucket)
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = math.Min(burst, b.tokens+dt*l.limit.PerSecond)
			b.last = now
		}
	} else {
		b = &limiterBucket{key: key, tokens: burst, last: now}
		l.m[key] = l.ll.PushFront(b)
		for l.ll.Len() > l.max {
			oldest := l.ll.Back()
			l.ll.Remove(oldest)
			delete(l.m, oldest.Value.(*limiterBucket).key)
		}
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.limit.PerSecond * float64(time.Second))
}

// Len is the number of keys remembered.
func (l *KeyedLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ll.Len()
}

// ClientIP is the client's address from the connection (X-Forwarded-For
// is not trusted), without the port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// AccountKey keys a limit by the signed-in account, or by the client
// address for requests without one (for per-account limits such as
// posting).
func AccountKey(r *http.Request) string {
	if p, ok := PrincipalFrom(r.Context()); ok && p.AccountID != "" {
		return "account:" + p.AccountID
	}
	return "ip:" + ClientIP(r)
}

// retryAfterSeconds renders a wait as Retry-After: whole seconds, at least 1.
func retryAfterSeconds(wait time.Duration) string {
	s := int64(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// WriteRateLimited writes 429 rate_limited with Retry-After.
func WriteRateLimited(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	WriteError(w, r, http.StatusTooManyRequests, CodeRateLimited, "too many requests; try again in "+retryAfterSeconds(wait)+" s")
}

// RateLimit limits requests per key(r) to perSecond with burst (a
// KeyedLimiter of DefaultLimiterKeys keys): beyond it, 429 rate_limited
// with Retry-After. An empty key is not limited. Use it per route group,
// e.g. posting per account:
//
//	r.With(httpapi.RateLimit(httpapi.AccountKey, 30.0/60, 30)).Post("/posts", …)
func RateLimit(key func(*http.Request) string, perSecond float64, burst int) func(http.Handler) http.Handler {
	return LimitWith(NewKeyedLimiter(Limit{PerSecond: perSecond, Burst: burst}, 0), key, WriteRateLimited)
}

// LimitWith is RateLimit over a given limiter, answering refused requests
// with refuse (WriteRateLimited, or an endpoint's own error format).
func LimitWith(l *KeyedLimiter, key func(*http.Request) string,
	refuse func(http.ResponseWriter, *http.Request, time.Duration)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, wait := l.Allow(key(r)); !ok {
				refuse(w, r, wait)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
