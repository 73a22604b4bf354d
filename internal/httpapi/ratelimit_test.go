package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type limiterClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *limiterClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *limiterClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestKeyedLimiter(t *testing.T) {
	type step struct {
		advance  time.Duration
		key      string
		wantOK   bool
		wantWait time.Duration
	}
	cases := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{name: "burst then refusal with the wait for one token", limit: Limit{PerSecond: 1, Burst: 2},
			steps: []step{{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, time.Second}, {500 * time.Millisecond, "a", false, 500 * time.Millisecond},
				{500 * time.Millisecond, "a", true, 0}, {0, "a", false, time.Second}}},
		{name: "keys are independent", limit: Limit{PerSecond: 1, Burst: 1},
			steps: []step{{0, "a", true, 0}, {0, "a", false, time.Second}, {0, "b", true, 0}}},
		{name: "refill is capped at the burst", limit: Limit{PerSecond: 1, Burst: 2},
			steps: []step{{0, "a", true, 0}, {time.Hour, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, time.Second}}},
		{name: "5 a minute", limit: Limit{PerSecond: 5.0 / 60, Burst: 1},
			steps: []step{{0, "a", true, 0}, {0, "a", false, 12 * time.Second}, {12 * time.Second, "a", true, 0}}},
		{name: "disabled", limit: Limit{},
			steps: []step{{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}}},
		{name: "empty key is not limited", limit: Limit{PerSecond: 1, Burst: 1},
			steps: []step{{0, "", true, 0}, {0, "", true, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &limiterClock{t: time.Unix(1e9, 0)}
			l := NewKeyedLimiter(tc.limit, 0)
			l.SetClock(clock.now)
			for i, s := range tc.steps {
				clock.advance(s.advance)
				ok, wait := l.Allow(s.key)
				if ok != s.wantOK || (wait-s.wantWait).Abs() > time.Millisecond {
					t.Fatalf("step %d: Allow(%q) = %v, %v; want %v, %v", i, s.key, ok, wait, s.wantOK, s.wantWait)
				}
			}
		})
	}
}

func TestKeyedLimiterBoundedMemory(t *testing.T) {
	clock := &limiterClock{t: time.Unix(1e9, 0)}
	l := NewKeyedLimiter(Limit{PerSecond: 1.0 / 3600, Burst: 1}, 3)
	l.SetClock(clock.now)
	l.Allow("busy")
	for i := range 100 {
		l.Allow("busy") // keeps "busy" recently used (and refused)
		l.Allow("k" + strconv.Itoa(i))
	}
	if l.Len() != 3 {
		t.Fatalf("remembers %d keys, want 3", l.Len())
	}
	if ok, _ := l.Allow("busy"); ok {
		t.Fatal("a recently used key was forgotten and got a fresh bucket")
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	h := RateLimit(func(r *http.Request) string { return r.Header.Get("X-Key") }, 1.0/60, 2)(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	do := func(key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/posts", nil)
		req.Header.Set("X-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 2 {
		if rec := do("acct"); rec.Code != http.StatusNoContent {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := do("acct")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("third request: %d %s", rec.Code, rec.Body)
	}
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 59 || ra > 60 {
		t.Fatalf("Retry-After = %q, want about 60", rec.Header().Get("Retry-After"))
	}
	if body := rec.Body.String(); !strings.Contains(body, `"code":"rate_limited"`) {
		t.Fatalf("body %s", body)
	}
	if rec := do("other"); rec.Code != http.StatusNoContent {
		t.Fatalf("other key: %d", rec.Code)
	}
}

func TestRateLimitKeys(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "[2001:db8::1]:4321"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := ClientIP(req); got != "2001:db8::1" {
		t.Errorf("ClientIP = %q", got)
	}
	if got := AccountKey(req); got != "ip:2001:db8::1" {
		t.Errorf("AccountKey without principal = %q", got)
	}
	req = req.WithContext(WithPrincipal(req.Context(), Principal{AccountID: "a1"}))
	if got := AccountKey(req); got != "account:a1" {
		t.Errorf("AccountKey = %q", got)
	}
}
