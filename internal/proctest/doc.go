// Package proctest runs Hanse as a real separate process for tests that
// must talk to it as another program would (the interoperability test
// with a third-party peer, the load tool's test): it builds the hanse
// binary once per test binary, starts "hanse serve" on a free loopback
// port, waits until it is ready and stops it with SIGTERM at the end.
package proctest
