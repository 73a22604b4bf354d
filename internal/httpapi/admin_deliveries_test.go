package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/internal/httpapi"
	"github.com/hanse-network/hanse/projections"
)

func TestAdminDeliveries(t *testing.T) {
	ctx := context.Background()
	db, err := projections.OpenDB(ctx, filepath.Join(t.TempDir(), "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := delivery.EnsureSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := delivery.Insert(ctx, tx, delivery.Record{ActivityID: "https://h.example/a", ActivityType: "Create",
				Inbox: fmt.Sprintf("https://r%d.example/inbox", i%2), ActorID: "a1", Body: []byte("{}"), CreatedAt: time.Now()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	h := httpapi.AdminDeliveriesHandler(db.Reader())
	tests := []struct {
		query     string
		status    int
		wantItems int
		wantNext  bool
	}{
		{"", 200, 2, false}, // (activity, inbox) is unique: 2 rows
		{"?state=pending&host=r1.example", 200, 1, false},
		{"?state=delivered", 200, 0, false},
		{"?limit=1", 200, 1, true},
		{"?after=1", 200, 1, false},
		{"?state=lost", 400, 0, false},
		{"?limit=0", 400, 0, false},
		{"?color=red", 400, 0, false},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, httpapi.AdminDeliveriesPath+tt.query, nil))
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.query, rec.Code, tt.status, rec.Body)
			continue
		}
		if tt.status != 200 {
			continue
		}
		var page httpapi.AdminDeliveriesPage
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != tt.wantItems || (page.Next != nil) != tt.wantNext {
			t.Errorf("%s: %d items, next %v", tt.query, len(page.Items), page.Next)
		}
	}
}
