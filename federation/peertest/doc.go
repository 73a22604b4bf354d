// Package peertest owns Hanse's interoperability tests against third-party
// ActivityPub implementations running as real processes on loopback.
//
// The first peer is a small server built with the npm package
// @fedify/fedify (pinned in fedify/package.json and fedify/package-lock.json;
// fedify/peer.mjs serves one Person, "peer", and a control API for the
// test). The test builds the hanse binary, runs it with `serve` and the
// test-only private-network allowance, installs the peer's node_modules with
// `npm ci` when they are missing, and checks that the peer follows a Hanse
// Group and is accepted, receives the Group's notes, and is followed back by
// a Hanse Person, every step over real HTTP with real HTTP signatures.
//
// Without node and npm on PATH the test is skipped, or fails when the CI
// environment variable is set. The package has no non-test code.
package peertest
