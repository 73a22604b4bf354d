// Package discovery serves the endpoints through which other servers find
// this instance and its actors: WebFinger (RFC 7033) for acct: and actor
// URL resources, host-meta (RFC 6415, XML and JSON) pointing at WebFinger,
// and NodeInfo 2.0 and 2.1 with the well-known links document. It reads the
// actors read model (projections/actors) and builds every URL with
// federation/urls; it writes nothing.
//
// NodeInfo usage figures: users.total is the number of local Person actors
// not deleted; activeMonth and activeHalfyear report the same number until
// Hanse records sign-ins, and localPosts counts the notes written here (Options.LocalPosts).
// Registrations are closed (actors are created by administrators).
package discovery
