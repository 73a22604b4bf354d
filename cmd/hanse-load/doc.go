// Command hanse-load is the federation load tool: it measures a running
// Hanse server from outside its process, over loopback, and states each
// figure as a ratio to the RSA-2048 limit of this machine measured in the
// same run.
//
//	hanse-load inbox   signed Create{Note} POSTs into a Group's inbox from
//	                   many keep-alive connections; accepted (verified and
//	                   durable, 202) activities/s against RSA-2048
//	                   verifications/s × GOMAXPROCS
//	hanse-load fanout  one note of a Group to N followers with N distinct
//	                   inboxes on one local receiver that verifies every
//	                   delivery; signed deliveries/s against RSA-2048
//	                   signatures/s × GOMAXPROCS
//
// It owns only the load generation: the fake remote servers (actor
// documents with RSA-2048 keys, inboxes), pre-signing, the timed windows
// and the report. It talks to loopback addresses only: a --target that is
// not loopback is refused, and every connection it dials is checked
// again, so the Hanse server under test must run on loopback with
// HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8 (it fetches the fake actors)
// and an admin token (the tool creates a Group and publishes a note
// through the admin API). Counts and the run time are bounded by flags.
package main
