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
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"
)

// fakeWaiter answers WaitFor from a table of reached positions.
type fakeWaiter struct {
	reached events.Position
	failed  error
	asked   []events.Position
}

func (f *fakeWaiter) WaitFor(ctx context.Context, _ string, pos events.Position) error {
	f.asked = append(f.asked, pos)
	if f.failed != nil {
		return f.failed
	}
	if pos <= f.reached {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestAwaitPosition(t *testing.T) {
	failure := &projections.EventError{Projection: "feed", Position: 7, Type: "x.happened", Err: errors.New("boom")}
	tests := []struct {
		name       string
		waiter     *fakeWaiter
		header     string
		query      string
		wantStatus int
		wantCode   string
		wantAsked  []events.Position
	}{
		{name: "no position: not delayed", waiter: &fakeWaiter{}, wantStatus: 200},
		{name: "header reached", waiter: &fakeWaiter{reached: 10}, header: "10", wantStatus: 200, wantAsked: []events.Position{10}},
		{name: "query reached", waiter: &fakeWaiter{reached: 10}, query: "3", wantStatus: 200, wantAsked: []events.Position{3}},
		{name: "query wins over header", waiter: &fakeWaiter{reached: 10}, header: "99", query: "4", wantStatus: 200, wantAsked: []events.Position{4}},
		{name: "not a number", waiter: &fakeWaiter{}, header: "ten", wantStatus: 400, wantCode: CodeBadRequest},
		{name: "negative", waiter: &fakeWaiter{}, query: "-1", wantStatus: 400, wantCode: CodeBadRequest},
		{name: "not reached in time", waiter: &fakeWaiter{reached: 10}, header: "11", wantStatus: 503, wantCode: CodeNotCaughtUp, wantAsked: []events.Position{11}},
		{name: "projection failed", waiter: &fakeWaiter{failed: failure}, header: "8", wantStatus: 503, wantCode: CodeNotCaughtUp, wantAsked: []events.Position{8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := false
			h := AwaitPosition(tt.waiter, "feed", 50*time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				served = true
				WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
			}))
			target := "/feed"
			if tt.query != "" {
				target += "?" + MinPositionParam + "=" + tt.query
			}
			req := httptest.NewRequest(http.MethodGet, target, nil)
			if tt.header != "" {
				req.Header.Set(MinPositionHeader, tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || served != (tt.wantStatus == 200) {
				t.Fatalf("status %d (served %v), want %d: %s", rec.Code, served, tt.wantStatus, rec.Body)
			}
			if tt.wantCode != "" {
				var body ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != tt.wantCode {
					t.Fatalf("body %s, want code %q", rec.Body, tt.wantCode)
				}
			}
			if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if fmt.Sprint(tt.waiter.asked) != fmt.Sprint(tt.wantAsked) {
				t.Errorf("waited for %v, want %v", tt.waiter.asked, tt.wantAsked)
			}
		})
	}
}

// TestReadYourWritesOverHTTP appends to a real store while a real activity
// projection runs, then reads the feed over loopback HTTP with the append's
// position: the new event must be in the very first answer.
func TestReadYourWritesOverHTTP(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	runner, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, activity.New())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	feed := AwaitPosition(runner, activity.Name, 10*time.Second)(AdminActivityHandler(activity.NewReader(runner.DB().Reader())))
	srv := httptest.NewServer(NewRouter(Deps{Mount: func(r chi.Router) { r.Method(http.MethodGet, AdminActivityPath, feed) }}))
	t.Cleanup(srv.Close)

	for i := range 20 {
		stream := fmt.Sprintf("community-%d", i)
		res, err := store.Append(ctx, stream, events.NoStream, events.EventData{ID: events.NewUUID(), Type: "community.created", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		url := srv.URL + AdminActivityPath + "?limit=1"
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if i%2 == 0 {
			req.Header.Set(MinPositionHeader, fmt.Sprint(res.Position))
		} else {
			req, _ = http.NewRequest(http.MethodGet, url+"&"+MinPositionParam+"="+fmt.Sprint(res.Position), nil)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page AdminActivityPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("read %d: status %d, %v", i, resp.StatusCode, err)
		}
		if len(page.Items) != 1 || !strings.Contains(fmt.Sprintf("%+v", page.Items[0]), stream) {
			t.Fatalf("read after write %d does not show %s: %+v", i, stream, page.Items)
		}
	}
}
