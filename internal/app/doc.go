// Package app is reserved for Hanse's application layer: command handlers
// (one file each) that load an aggregate's stream, decide with the domain
// package, and append the resulting events with the expected revision, plus
// reactors (policies) that turn events into commands, each with its own
// checkpoint.
//
// It may import events and internal/domain. It never imports projections
// (and projections never import it), federation, internal/httpapi or cmd;
// internal/archtest enforces this (see docs/architecture.md).
package app
