// Command hanse-load is Hanse's load tool: it measures a running Hanse
// server from outside its process, over loopback, and states each figure
// as a ratio to a limit of this machine measured in the same run.
//
//	hanse-load inbox     signed Create{Note} POSTs into a Group's inbox from
//	                     many keep-alive connections; accepted (verified and
//	                     durable, 202) activities/s against RSA-2048
//	                     verifications/s × GOMAXPROCS
//	hanse-load fanout    one note of a Group to N followers with N distinct
//	                     inboxes on one local receiver that verifies every
//	                     delivery; signed deliveries/s against RSA-2048
//	                     signatures/s × GOMAXPROCS
//	hanse-load timeline  people of a community (created by the admin,
//	                     signed in through OAuth with PKCE, joined) read
//	                     their home timeline from many keep-alive
//	                     connections; requests/s and latency against the
//	                     same load on GET /livez, the server's floor
//
// It owns only the load generation: the fake remote servers (actor
// documents with RSA-2048 keys, inboxes), pre-signing, the setup through
// the server's API, the timed windows and the report. It talks to
// loopback addresses only: a --target that is not loopback is refused,
// and every connection it dials is checked again, so the Hanse server
// under test must run on loopback with an admin token (the tool creates
// Groups, accounts and notes through the admin API); inbox and fanout
// also need HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8 (the server fetches
// the fake actors), timeline a post rate (HANSE_POST_RATE) of at least
// its --posts. Counts and the run time are bounded by flags.
package main
