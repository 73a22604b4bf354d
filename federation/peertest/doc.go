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
// TestCommunityAcrossInstancesAndFedify follows one community across two
// Hanse instances and the peer: a facilitator, created by the admin API
// and signed in through the real OAuth flow (authorization code with
// PKCE S256), opens a community on instance A; the peer and a person on
// instance B follow its Group; the peer posts into the community, A
// accepts the post and the Group announces it to B and to the peer
// (FEP-1b12); the facilitator removes the post and the removal reaches A's
// community timeline, B's home timeline and the peer.
//
// Without node and npm on PATH the test is skipped, or fails when the CI
// environment variable is set. The package has no non-test code.
package peertest
