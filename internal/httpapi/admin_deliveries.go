package httpapi

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/hanse-network/hanse/federation/delivery"
)

// AdminDeliveriesPath is where the outbound deliveries are listed.
const AdminDeliveriesPath = "/api/admin/deliveries"

// AdminDeliveriesPage is the JSON body of GET /api/admin/deliveries: the
// deliveries (id order) and the hosts whose circuit breaker is not closed.
// Next is the after= cursor of the following page, null at the end.
type AdminDeliveriesPage struct {
	Items []delivery.Delivery `json:"items"`
	Hosts []delivery.Host     `json:"hosts"`
	Next  *string             `json:"next"`
}

var adminDeliveriesParams = map[string]bool{"state": true, "host": true, "after": true, "limit": true}

// AdminDeliveriesHandler serves
//
//	GET /api/admin/deliveries?state=pending|delivered|failed&host=&after=&limit=
//
// from the delivery table of the read-model database db (its reader
// pool), at most 1000 items per page (default 100); the same filters as
// "hanse federation deliveries". Bad parameters get a 400 JSON error. Mount
// it under AdminPrefix, which requires the admin token.
func AdminDeliveriesHandler(db *sql.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			WriteError(w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+r.Method+" not allowed")
			return
		}
		f, err := parseDeliveriesFilter(r)
		if err != nil {
			WriteError(w, r, http.StatusBadRequest, CodeInvalidQuery, err.Error())
			return
		}
		items, err := delivery.List(r.Context(), db, f)
		var hosts []delivery.Host
		if err == nil {
			hosts, err = delivery.Hosts(r.Context(), db)
		}
		switch {
		case errors.Is(err, delivery.ErrInvalidFilter):
			WriteError(w, r, http.StatusBadRequest, CodeInvalidQuery, err.Error())
			return
		case err != nil:
			slog.Default().ErrorContext(r.Context(), "admin deliveries", "err", err, "request_id", RequestID(r.Context()))
			WriteError(w, r, http.StatusInternalServerError, CodeInternal, "internal error")
			return
		}
		page := AdminDeliveriesPage{Items: append([]delivery.Delivery{}, items...), Hosts: append([]delivery.Host{}, hosts...)}
		if limit := effectiveLimit(f.Limit); len(items) == limit {
			next := strconv.FormatInt(items[len(items)-1].ID, 10)
			page.Next = &next
		}
		WriteJSON(w, http.StatusOK, page)
	})
}

func effectiveLimit(l int) int {
	if l <= 0 {
		return 100
	}
	return min(l, 1000)
}

func parseDeliveriesFilter(r *http.Request) (delivery.Filter, error) {
	q := r.URL.Query()
	var f delivery.Filter
	for k, vs := range q {
		if !adminDeliveriesParams[k] {
			return f, fmt.Errorf("unknown parameter %q", k)
		}
		if len(vs) != 1 {
			return f, fmt.Errorf("parameter %q given %d times", k, len(vs))
		}
	}
	f.State, f.Host = delivery.State(q.Get("state")), q.Get("host")
	if f.State != "" && !delivery.ValidState(f.State) {
		return f, fmt.Errorf("state %q: want pending, delivered or failed", f.State)
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, fmt.Errorf("after %q: want a delivery id", v)
		}
		f.AfterID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Errorf("limit %q: want 1-1000", v)
		}
		f.Limit = n
	}
	return f, nil
}
