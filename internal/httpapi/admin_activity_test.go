package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"

	_ "modernc.org/sqlite"
)

// activityServer serves the feed of a real activity projection over the
// given events on a loopback HTTP server.
func activityServer(t *testing.T, streams []string) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	var head events.Position
	for i, s := range streams {
		typ := "community.created"
		if i%2 == 1 {
			typ = "person.registered"
		}
		res, err := store.Append(ctx, s, events.Any, events.EventData{ID: events.NewUUID(), Type: typ, Data: []byte(`{}`),
			Metadata: events.Metadata{Actor: "admin", CorrelationID: fmt.Sprintf("c%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, activity.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.WaitFor(wctx, activity.Name, head); err != nil {
		t.Fatal(err)
	}
	return mountActivity(t, activity.NewReader(r.DB().Reader()))
}

func mountActivity(t *testing.T, q activity.Reader) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewRouter(Deps{Mount: func(r chi.Router) {
		r.Method(http.MethodGet, AdminActivityPath, AdminActivityHandler(q))
		r.Method(http.MethodPost, AdminActivityPath, AdminActivityHandler(q))
	}}))
	t.Cleanup(srv.Close)
	return srv
}

func activityGetJSON(t *testing.T, method, url string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode
}

func TestAdminActivityPages(t *testing.T) {
	srv := activityServer(t, []string{"community-1", "person-1", "community-2", "person-2", "community-10"})
	cases := []struct {
		query    string
		want     []events.Position
		wantNext *string
	}{
		{"", []events.Position{5, 4, 3, 2, 1}, nil},
		{"?limit=2", []events.Position{5, 4}, activityStrPtr("4")},
		{"?limit=2&before=4", []events.Position{3, 2}, activityStrPtr("2")},
		{"?after=3", []events.Position{4, 5}, nil},
		{"?after=1&limit=1", []events.Position{2}, activityStrPtr("2")},
		{"?stream_prefix=community-1", []events.Position{5, 1}, nil},
		{"?type=person.registered", []events.Position{4, 2}, nil},
		{"?type=person.registered&stream_prefix=person-2", []events.Position{4}, nil},
		{"?stream_prefix=nobody", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var page AdminActivityPage
			if status := activityGetJSON(t, http.MethodGet, srv.URL+AdminActivityPath+tc.query, &page); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			var got []events.Position
			for _, e := range page.Items {
				got = append(got, e.Position)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(page.Next, tc.wantNext) {
				t.Fatalf("positions %v next %v, want %v next %v", got, activityDeref(page.Next), tc.want, activityDeref(tc.wantNext))
			}
			if page.Items == nil {
				t.Fatal("items must be [] when empty, not null")
			}
		})
	}
	// Field names of one item.
	var raw struct {
		Items []map[string]any `json:"items"`
	}
	activityGetJSON(t, http.MethodGet, srv.URL+AdminActivityPath+"?limit=1", &raw)
	for _, k := range []string{"position", "event_id", "stream", "type", "revision", "recorded_at", "actor", "correlation_id"} {
		if _, ok := raw.Items[0][k]; !ok {
			t.Errorf("item lacks %q: %v", k, raw.Items[0])
		}
	}
}

func TestAdminActivityBadRequests(t *testing.T) {
	srv := activityServer(t, []string{"community-1"})
	cases := []struct {
		method, query string
		status        int
		code          string
	}{
		{http.MethodGet, "?limit=0", 400, CodeInvalidQuery},
		{http.MethodGet, "?limit=201", 400, CodeInvalidQuery},
		{http.MethodGet, "?limit=ten", 400, CodeInvalidQuery},
		{http.MethodGet, "?before=-1", 400, CodeInvalidQuery},
		{http.MethodGet, "?before=0", 400, CodeInvalidQuery},
		{http.MethodGet, "?after=x", 400, CodeInvalidQuery},
		{http.MethodGet, "?after=5&before=3", 400, CodeInvalidQuery},
		{http.MethodGet, "?type=Bad%20Type", 400, CodeInvalidQuery},
		{http.MethodGet, "?stream=community-1", 400, CodeInvalidQuery},
		{http.MethodGet, "?limit=1&limit=2", 400, CodeInvalidQuery},
		{http.MethodPost, "", 405, CodeMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.method+tc.query, func(t *testing.T) {
			var body ErrorBody
			if status := activityGetJSON(t, tc.method, srv.URL+AdminActivityPath+tc.query, &body); status != tc.status || body.Error.Code != tc.code {
				t.Fatalf("status %d code %q (%s), want %d %q", status, body.Error.Code, body.Error.Message, tc.status, tc.code)
			}
			if body.RequestID == "" || body.Error.Message == "" {
				t.Fatalf("error body incomplete: %+v", body)
			}
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) List(context.Context, activity.Filter) (activity.Page, error) {
	return activity.Page{}, f.err
}

func TestAdminActivityReaderErrors(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("resolve: %w", projections.ErrNotLive), 503, CodeNotReady},
		{errors.New("disk on fire"), 500, CodeInternal},
	}
	for _, tc := range cases {
		srv := mountActivity(t, failingReader{tc.err})
		var body ErrorBody
		if status := activityGetJSON(t, http.MethodGet, srv.URL+AdminActivityPath, &body); status != tc.status || body.Error.Code != tc.code {
			t.Fatalf("%v: status %d code %q, want %d %q", tc.err, status, body.Error.Code, tc.status, tc.code)
		}
		if tc.status == 500 && body.Error.Message != "the activity feed could not be read" {
			t.Fatalf("500 leaks detail: %q", body.Error.Message)
		}
	}
}

func activityStrPtr(s string) *string { return &s }

func activityDeref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
