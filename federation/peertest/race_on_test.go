//go:build race

package peertest

// raceEnabled reports that this test binary was built with -race; the hanse
// binary is then built with -race too, which reuses the packages the race
// build of `go test -race ./...` compiled already and checks Hanse itself
// for data races during real federation.
const raceEnabled = true
