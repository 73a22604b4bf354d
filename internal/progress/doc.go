// Package progress owns the rendering of progress for long-running CLI
// jobs (projection rebuilds, event imports): a redrawn bar with done/total,
// rate and ETA on a terminal, and plain periodic lines otherwise (logs,
// pipes, CI). It does no I/O besides writing to the given writer.
package progress
