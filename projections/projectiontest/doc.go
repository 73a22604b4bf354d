// Package projectiontest owns the set-up shared by the read-model tests: an
// embedded SQLite event store in a test's temporary directory, appending
// events to it, started runners that are closed at the end of the test,
// bounded waits for a projection to reach a position, and the check that
// rebuilding a projection twice keeps its checksum.
//
// It is a test helper: only _test.go files import it.
package projectiontest
