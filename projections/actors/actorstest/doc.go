// Package actorstest offers an in-memory actors.Reader for tests of code
// that reads the actors read model (discovery, actor documents, signing),
// so that each does not write its own.
package actorstest
