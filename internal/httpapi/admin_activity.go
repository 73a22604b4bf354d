package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"
)

// AdminActivityPath is where the admin activity feed is meant to be mounted.
const AdminActivityPath = "/api/admin/activity"

// Error codes of the admin activity feed.
const (
	// CodeInvalidQuery: a query parameter is unknown, repeated or malformed.
	CodeInvalidQuery = "invalid_query"
)

// adminActivityParams are the query parameters the feed accepts.
var adminActivityParams = map[string]bool{"stream_prefix": true, "type": true, "before": true, "after": true, "limit": true, MinPositionParam: true}

// AdminActivityPage is the JSON body of a feed page. Next is the cursor of
// the following page (pass it as before=, or as after= when the page was
// requested with after= alone); null when there are no more events.
type AdminActivityPage struct {
	Items []activity.Entry `json:"items"`
	Next  *string          `json:"next"`
}

// AdminActivityHandler serves the audit feed of all events from the
// activity read model:
//
//	GET /api/admin/activity?stream_prefix=&type=&before=&after=&limit=
//
// newest first (or oldest first from after= when before= is absent), at
// most 200 items per page (default 50). Bad parameters get a 400 JSON
// error, a feed not built yet a 503. It checks no credentials itself: mount
// it under AdminPrefix (Deps.Admin), where the router requires the
// HANSE_ADMIN_TOKEN bearer token. Internal errors are logged with
// slog.Default.
func AdminActivityHandler(q activity.Reader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			WriteError(w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+r.Method+" not allowed")
			return
		}
		f, err := parseActivityFilter(r)
		if err != nil {
			WriteError(w, r, http.StatusBadRequest, CodeInvalidQuery, err.Error())
			return
		}
		page, err := q.List(r.Context(), f)
		switch {
		case errors.Is(err, activity.ErrInvalidFilter):
			WriteError(w, r, http.StatusBadRequest, CodeInvalidQuery, err.Error())
			return
		case errors.Is(err, projections.ErrNotLive):
			WriteError(w, r, http.StatusServiceUnavailable, CodeNotReady, "the activity feed is not built yet")
			return
		case err != nil:
			slog.Default().ErrorContext(r.Context(), "admin activity feed", "err", err, "request_id", RequestID(r.Context()))
			WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the activity feed could not be read")
			return
		}
		body := AdminActivityPage{Items: page.Items}
		if page.Next != 0 {
			next := strconv.FormatUint(uint64(page.Next), 10)
			body.Next = &next
		}
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, http.StatusOK, body)
	})
}

func parseActivityFilter(r *http.Request) (activity.Filter, error) {
	var f activity.Filter
	query := r.URL.Query()
	for name, vals := range query {
		if !adminActivityParams[name] {
			return f, fmt.Errorf("unknown parameter %q (known: stream_prefix, type, before, after, limit)", name)
		}
		if len(vals) > 1 {
			return f, fmt.Errorf("parameter %q given %d times", name, len(vals))
		}
	}
	f.StreamPrefix = query.Get("stream_prefix")
	f.Type = query.Get("type")
	position := func(name string) (events.Position, error) {
		v := query.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("%s must be a positive event position, got %q", name, v)
		}
		return events.Position(n), nil
	}
	var err error
	if f.Before, err = position("before"); err != nil {
		return f, err
	}
	if f.After, err = position("after"); err != nil {
		return f, err
	}
	if v := query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > activity.MaxLimit {
			return f, fmt.Errorf("limit must be 1 to %d, got %q", activity.MaxLimit, v)
		}
		f.Limit = n
	}
	return f, nil
}
