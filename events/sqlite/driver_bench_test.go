//go:build driverbench && cgo

package sqlite

// The driver benchmark compares the pure-Go driver modernc.org/sqlite (the
// one Hanse uses) with cgo's github.com/mattn/go-sqlite3 through the same
// Store code. It needs cgo and a C compiler, hence the build tag:
//
//	go test -tags driverbench -run '^$' -bench Driver -benchtime 3s ./events/sqlite/

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/storetest"
	"github.com/mattn/go-sqlite3"
)

func init() {
	hook := func(readOnly bool) func(*sqlite3.SQLiteConn) error {
		return func(c *sqlite3.SQLiteConn) error {
			pragmas := []string{"PRAGMA busy_timeout = 10000"}
			if readOnly {
				pragmas = append(pragmas, "PRAGMA query_only = 1", fmt.Sprintf("PRAGMA mmap_size = %d", readMmapBytes))
			}
			for _, p := range pragmas {
				if _, err := c.Exec(p, nil); err != nil {
					return err
				}
			}
			return nil
		}
	}
	sql.Register("hanse-mattn", &sqlite3.SQLiteDriver{ConnectHook: hook(false)})
	sql.Register("hanse-mattn-ro", &sqlite3.SQLiteDriver{ConnectHook: hook(true)})
	drivers["mattn"] = driverSpec{
		name:       "hanse-mattn",
		roName:     "hanse-mattn-ro",
		freshBlobs: true, // mattn copies blobs with C.GoBytes
		dsn: func(path string, readOnly bool) string {
			return path + "?" + url.Values{"_busy_timeout": {"10000"}}.Encode()
		},
	}
}

func BenchmarkDriver(b *testing.B) {
	for _, d := range []string{"modernc", "mattn"} {
		name := d
		if d == "modernc" {
			name = ""
		}
		opts := Options{driver: name}
		b.Run(d+"/append-single", func(b *testing.B) { benchAppendSingle(b, opts) })
		b.Run(d+"/append-64", func(b *testing.B) { benchAppendConcurrent(b, opts) })
		b.Run(d+"/read-all", func(b *testing.B) { benchReadAll(b, opts) })
	}
}

// TestContractMattn runs the contract suite over the cgo driver too.
func TestContractMattn(t *testing.T) {
	h := harness()
	h.Open = func(t testing.TB) events.Store { return openTemp(t, Options{driver: "mattn"}) }
	storetest.Run(t, h)
}
