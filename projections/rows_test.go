package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/hanse-network/hanse/projections"
)

func TestQueryAll(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (3), (1), (2)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	scanInt := func(sc projections.RowScanner) (int, error) {
		var n int
		err := sc.Scan(&n)
		return n, err
	}
	got, err := projections.QueryAll(ctx, tx, scanInt, `SELECT n FROM t WHERE n > ? ORDER BY n`, 1)
	if err != nil || !reflect.DeepEqual(got, []int{2, 3}) {
		t.Fatalf("QueryAll = %v, %v; want [2 3]", got, err)
	}
	if none, err := projections.QueryAll(ctx, tx, scanInt, `SELECT n FROM t WHERE n > 9`); err != nil || none != nil {
		t.Fatalf("no rows = %#v, %v; want nil", none, err)
	}
	boom := errors.New("boom")
	if _, err := projections.QueryAll(ctx, tx, func(projections.RowScanner) (int, error) { return 0, boom }, `SELECT n FROM t`); !errors.Is(err, boom) {
		t.Fatalf("scan error = %v", err)
	}
	if _, err := projections.QueryAll(ctx, tx, scanInt, `SELECT nope FROM t`); err == nil {
		t.Fatal("a bad query gave no error")
	}
}
