package delivery_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/projections"
)

// BenchmarkInsert records one activity (a 1,500-byte body) for 20,000
// personal inboxes on 20,000 hosts in one transaction, as the outbound
// projector does for a community announce without shared inboxes.
func BenchmarkInsert(b *testing.B) {
	const inboxes = 20_000
	ctx := context.Background()
	db, err := projections.OpenDB(ctx, filepath.Join(b.TempDir(), "projections.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := delivery.EnsureSchema(ctx, db); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1500)
	for i := range body {
		body[i] = 'x'
	}
	to := make([]delivery.Recipient, inboxes)
	for i := range to {
		to[i] = delivery.Recipient{Inbox: fmt.Sprintf("https://m%d.example/users/u%d/inbox", i, i)}
	}
	b.ResetTimer()
	for n := range b.N {
		a := delivery.Activity{ID: fmt.Sprintf("https://hanse.example/communities/lernen/announces/p%d/create", n),
			Type: "Announce", ActorID: "0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Body: body, EventPosition: uint64(n),
			CreatedAt: t0}
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			added, err := delivery.InsertActivity(ctx, tx, a, to)
			if err == nil && added != inboxes {
				err = fmt.Errorf("added %d deliveries, want %d", added, inboxes)
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*inboxes)/1e3, "µs/delivery")
}
