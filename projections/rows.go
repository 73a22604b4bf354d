package projections

import (
	"context"
	"database/sql"
)

// RowScanner is what a read model's scan function reads a row from
// (*sql.Row and *sql.Rows both are one).
type RowScanner = interface{ Scan(...any) error }

// QueryAll runs query in tx and returns every row scanned with scan, in
// order (nil when there is none): the read models' list queries.
func QueryAll[T any](ctx context.Context, tx *sql.Tx, scan func(RowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
