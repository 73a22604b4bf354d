package projections

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"
	"time"
)

// Checksum returns a SHA-256 checksum (hex) of projection name's live
// build: every table of the build in suffix order, its column names and
// declared types, and every row in primary-key order (all columns when the
// table declares no primary key), with type-tagged values. Table prefixes
// are left out, so two builds of one version holding the same rows have the
// same checksum: a rebuild from scratch must reproduce it.
func Checksum(ctx context.Context, db *sql.DB, name string) (string, error) {
	var sum string
	err := ReadLive(ctx, db, name, func(tx *sql.Tx, t Tables) error {
		var err error
		sum, err = ChecksumTables(ctx, tx, t)
		return err
	})
	return sum, err
}

// ChecksumTables computes the checksum of the build named by t (see
// Checksum) inside an open transaction.
func ChecksumTables(ctx context.Context, tx *sql.Tx, t Tables) (string, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT pt.name, pt.suffix FROM _projection_tables pt
		JOIN _projection_builds b ON b.id = pt.build_id
		WHERE b.name = ? AND b.version = ? AND b.generation = ? AND pt.kind = 'table'
		ORDER BY pt.suffix`, t.projection, t.version, t.generation)
	if err != nil {
		return "", fmt.Errorf("projections: checksum %s: %w", t, err)
	}
	type table struct{ name, suffix string }
	var tables []table
	for rows.Next() {
		var tb table
		if err := rows.Scan(&tb.name, &tb.suffix); err != nil {
			rows.Close()
			return "", fmt.Errorf("projections: checksum %s: %w", t, err)
		}
		tables = append(tables, tb)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("projections: checksum %s: %w", t, err)
	}
	h := sha256.New()
	for _, tb := range tables {
		if err := checksumTable(ctx, tx, h, tb.name, tb.suffix); err != nil {
			return "", fmt.Errorf("projections: checksum %s table %s: %w", t, tb.name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type column struct {
	name, typ string
	pk        int
}

func checksumTable(ctx context.Context, tx *sql.Tx, h hash.Hash, name, suffix string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return err
	}
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.pk); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	writeString(h, "table")
	writeString(h, suffix)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = `"` + c.name + `"`
		writeString(h, c.name)
		writeString(h, strings.ToUpper(c.typ))
	}
	var pk []column
	for _, c := range cols {
		if c.pk > 0 {
			pk = append(pk, c)
		}
	}
	sort.Slice(pk, func(i, j int) bool { return pk[i].pk < pk[j].pk })
	order := names
	if len(pk) > 0 {
		order = make([]string, len(pk))
		for i, c := range pk {
			order[i] = `"` + c.name + `"`
		}
	}
	q := fmt.Sprintf(`SELECT %s FROM "%s" ORDER BY %s`, strings.Join(names, ", "), name, strings.Join(order, ", "))
	data, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer data.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n uint64
	for data.Next() {
		if err := data.Scan(ptrs...); err != nil {
			return err
		}
		h.Write([]byte{'R'})
		for _, v := range vals {
			if err := writeValue(h, v); err != nil {
				return err
			}
		}
		n++
	}
	if err := data.Err(); err != nil {
		return err
	}
	var buf [9]byte
	buf[0] = 'N'
	binary.BigEndian.PutUint64(buf[1:], n)
	h.Write(buf[:])
	return nil
}

func writeString(h hash.Hash, s string) {
	var buf [9]byte
	buf[0] = 'S'
	binary.BigEndian.PutUint64(buf[1:], uint64(len(s)))
	h.Write(buf[:])
	h.Write([]byte(s))
}

func writeValue(h hash.Hash, v any) error {
	var buf [9]byte
	switch x := v.(type) {
	case nil:
		h.Write([]byte{'0'})
	case int64:
		buf[0] = 'I'
		binary.BigEndian.PutUint64(buf[1:], uint64(x))
		h.Write(buf[:])
	case float64:
		buf[0] = 'F'
		binary.BigEndian.PutUint64(buf[1:], math.Float64bits(x))
		h.Write(buf[:])
	case bool:
		buf[0] = 'I'
		if x {
			buf[8] = 1
		}
		h.Write(buf[:])
	case string:
		writeString(h, x)
	case []byte:
		buf[0] = 'B'
		binary.BigEndian.PutUint64(buf[1:], uint64(len(x)))
		h.Write(buf[:])
		h.Write(x)
	case time.Time:
		writeString(h, x.UTC().Format(time.RFC3339Nano))
	default:
		return fmt.Errorf("unsupported column value %T", v)
	}
	return nil
}
