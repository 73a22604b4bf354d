//go:build !unix

package sqlite

import "os"

// lockFile opens path; advisory locking is only implemented on Unix.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
