//go:build !race

package peertest

// raceEnabled reports that this test binary was built without -race.
const raceEnabled = false
