//go:build unix

package projections

import (
	"errors"
	"os"
	"syscall"
)

// processGone reports whether no process with this pid exists on this
// machine, so that a lease it held can be taken over at once.
func processGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH) && pid != os.Getpid()
}
