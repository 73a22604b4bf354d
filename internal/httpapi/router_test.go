package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
)

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type testEnv struct {
	srv  *httptest.Server
	logs *logBuffer
}

func newTestServer(t *testing.T, deps Deps) *testEnv {
	t.Helper()
	logs := &logBuffer{}
	deps.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(NewRouter(deps))
	t.Cleanup(srv.Close)
	return &testEnv{srv: srv, logs: logs}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *testEnv) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// errorBody decodes and sanity-checks a JSON error response.
func errorBody(t *testing.T, r response) ErrorBody {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	var eb ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("error body %q lacks code or message", r.body)
	}
	if eb.RequestID == "" || eb.RequestID != r.header.Get(RequestIDHeader) {
		t.Fatalf("request_id %q does not match header %q", eb.RequestID, r.header.Get(RequestIDHeader))
	}
	return eb
}

func TestHealthEndpoints(t *testing.T) {
	errDown := errors.New("store unreachable")
	tests := []struct {
		name       string
		ready      func(context.Context) error
		method     string
		path       string
		wantStatus int
		wantBody   string // exact JSON for success bodies
		wantCode   string // error code for error bodies
		wantInMsg  string
	}{
		{name: "livez", method: "GET", path: "/livez", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "livez HEAD", method: "HEAD", path: "/livez", wantStatus: 200},
		{name: "livez while not ready", ready: func(context.Context) error { return errDown }, method: "GET", path: "/livez", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz without check", method: "GET", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz ready", ready: func(context.Context) error { return nil }, method: "GET", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz not ready", ready: func(context.Context) error { return errDown }, method: "GET", path: "/readyz", wantStatus: 503, wantCode: CodeNotReady, wantInMsg: "store unreachable"},
		{
			name: "readyz check gets a deadline",
			ready: func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					return errors.New("no deadline")
				}
				return nil
			},
			method: "GET", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestServer(t, Deps{Ready: tt.ready})
			res := env.do(t, tt.method, tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if res.header.Get(RequestIDHeader) == "" {
				t.Error("no X-Request-Id in response")
			}
			if tt.wantBody != "" && strings.TrimSpace(string(res.body)) != tt.wantBody {
				t.Errorf("body = %s, want %s", res.body, tt.wantBody)
			}
			if tt.wantCode != "" {
				eb := errorBody(t, res)
				if eb.Error.Code != tt.wantCode || !strings.Contains(eb.Error.Message, tt.wantInMsg) {
					t.Errorf("error = %+v, want code %q with %q", eb.Error, tt.wantCode, tt.wantInMsg)
				}
			}
		})
	}
}

func TestErrorResponses(t *testing.T) {
	mount := func(r chi.Router) {
		r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
		r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
			var v map[string]any
			if !ReadJSON(w, r, &v) {
				return
			}
			WriteJSON(w, http.StatusOK, v)
		})
		r.Post("/ignore", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	}
	big := `{"k":"` + strings.Repeat("x", int(DefaultMaxBodyBytes)) + `"}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		header     map[string]string
		wantStatus int
		wantCode   string
		wantAllow  string
		wantLog    string
	}{
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404, wantCode: CodeNotFound},
		{name: "wrong method", method: "DELETE", path: "/livez", wantStatus: 405, wantCode: CodeMethodNotAllowed, wantAllow: "GET, HEAD"},
		{name: "wrong method on feature route", method: "GET", path: "/echo", wantStatus: 405, wantCode: CodeMethodNotAllowed, wantAllow: "POST"},
		{name: "panic", method: "GET", path: "/boom", wantStatus: 500, wantCode: CodeInternal, wantLog: "kaboom"},
		{name: "declared body too large", method: "POST", path: "/ignore", body: strings.NewReader(big), wantStatus: 413, wantCode: CodeBodyTooLarge},
		{
			// io.MultiReader hides the length: the body is sent chunked and
			// only the MaxBytesReader can stop it.
			name: "chunked body too large", method: "POST", path: "/echo",
			body: io.MultiReader(strings.NewReader(big)), header: map[string]string{"Content-Type": "application/json"},
			wantStatus: 413, wantCode: CodeBodyTooLarge,
		},
		{name: "malformed JSON", method: "POST", path: "/echo", body: strings.NewReader(`{"k":`), wantStatus: 400, wantCode: CodeBadRequest},
		{name: "two JSON values", method: "POST", path: "/echo", body: strings.NewReader(`{} {}`), wantStatus: 400, wantCode: CodeBadRequest},
		{name: "empty body", method: "POST", path: "/echo", body: strings.NewReader(``), wantStatus: 400, wantCode: CodeBadRequest},
		{name: "not JSON", method: "POST", path: "/echo", body: strings.NewReader(`a=b`), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 415, wantCode: CodeUnsupportedMedia},
		{name: "small JSON", method: "POST", path: "/echo", body: strings.NewReader(`{"k":"v"}`), header: map[string]string{"Content-Type": "application/activity+json"}, wantStatus: 200},
	}
	env := newTestServer(t, Deps{Mount: mount})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.do(t, tt.method, tt.path, tt.body, tt.header)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if tt.wantCode != "" {
				if eb := errorBody(t, res); eb.Error.Code != tt.wantCode {
					t.Errorf("code = %q, want %q", eb.Error.Code, tt.wantCode)
				}
			}
			if got := res.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantLog != "" && !strings.Contains(env.logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, env.logs.String())
			}
		})
	}
	// The server survives all of the above.
	if res := env.do(t, "GET", "/livez", nil, nil); res.status != 200 {
		t.Fatalf("livez after errors: %d", res.status)
	}
}

func TestPanicAfterResponseStartedAborts(t *testing.T) {
	env := newTestServer(t, Deps{Mount: func(r chi.Router) {
		r.Get("/half", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err) // the middleware must keep flushing reachable
			}
			panic("late")
		})
	}})
	res, err := env.srv.Client().Get(env.srv.URL + "/half")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Fatal("truncated response read without error; want the connection aborted")
	}
	if !strings.Contains(env.logs.String(), "late") {
		t.Errorf("panic not logged:\n%s", env.logs.String())
	}
}

func TestRequestIDs(t *testing.T) {
	env := newTestServer(t, Deps{})
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{name: "none", incoming: ""},
		{name: "well formed kept", incoming: "abc-123_X.y", keep: true},
		{name: "log forging replaced", incoming: "a b\" level=ERROR"},
		{name: "too long replaced", incoming: strings.Repeat("a", 65)},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.do(t, "GET", "/nope", nil, map[string]string{RequestIDHeader: tt.incoming})
			eb := errorBody(t, res)
			got := res.header.Get(RequestIDHeader)
			if tt.keep && got != tt.incoming {
				t.Fatalf("request id = %q, want incoming %q kept", got, tt.incoming)
			}
			if !tt.keep && (got == tt.incoming || !validRequestID(got) || seen[got]) {
				t.Fatalf("request id = %q, want a fresh valid id", got)
			}
			seen[got] = true
			if !strings.Contains(env.logs.String(), `"request_id":"`+eb.RequestID+`"`) {
				t.Errorf("access log lacks request id %q", eb.RequestID)
			}
		})
	}
}

func TestAccessLogAndMetrics(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hanse_up 1\n")
	})
	tests := []struct {
		name       string
		metrics    http.Handler
		wantStatus int
	}{
		{name: "with metrics", metrics: metrics, wantStatus: 200},
		{name: "without metrics", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestServer(t, Deps{Metrics: tt.metrics, AdminToken: testAdminToken})
			res := env.do(t, "GET", "/metrics", nil, map[string]string{
				"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer " + testAdminToken})
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.status, tt.wantStatus)
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(env.logs.String()), "\n") {
				if strings.Contains(l, `"msg":"request"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line == nil {
				t.Fatalf("no access log line:\n%s", env.logs.String())
			}
			if line["path"] != "/metrics" || line["status"] != float64(tt.wantStatus) || line["method"] != "GET" {
				t.Errorf("access log = %v", line)
			}
			if remote, _ := line["remote"].(string); !strings.HasPrefix(remote, "127.0.0.1:") {
				t.Errorf("remote = %q, want the connection's address (X-Forwarded-For not trusted)", remote)
			}
		})
	}
}

func TestNewServerTimeouts(t *testing.T) {
	s := NewServer(http.NotFoundHandler(), nil)
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.ErrorLog == nil {
		t.Fatalf("server lacks timeouts or error log: %+v", s)
	}
}
