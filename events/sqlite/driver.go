package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
)

// driverSpec tells how to open a database with one database/sql driver.
type driverSpec struct {
	name   string // for the writer connection
	roName string // for read connections; "" means name
	dsn    func(path string, readOnly bool) string
	// freshBlobs: the driver's Rows.Next returns BLOB values in newly
	// allocated slices that the caller may keep (TestDriverBlobsAreFresh).
	freshBlobs bool
}

// readMmapBytes is how much of the database file read connections map into
// memory: reads then copy from the page cache instead of making a pread
// system call per page. The writer does not use mmap.
const readMmapBytes = 1 << 30

// moderncDriver is the default: pure Go, no cgo.
var moderncDriver = driverSpec{
	name:       "sqlite",
	freshBlobs: true,
	dsn: func(path string, readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		if readOnly {
			q.Add("_pragma", "query_only(1)")
			q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", readMmapBytes))
		}
		return path + "?" + q.Encode()
	},
}

// drivers lists the drivers Open can use; the driver benchmark adds cgo's
// github.com/mattn/go-sqlite3 when built with its tag.
var drivers = map[string]driverSpec{"": moderncDriver, "sqlite": moderncDriver}

func lookupDriver(name string) (driverSpec, error) {
	d, ok := drivers[name]
	if d.roName == "" {
		d.roName = d.name
	}
	if !ok || !slices.Contains(sql.Drivers(), d.name) || !slices.Contains(sql.Drivers(), d.roName) {
		return driverSpec{}, fmt.Errorf("sqlite: driver %q is not available", name)
	}
	return d, nil
}
