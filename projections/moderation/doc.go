// Package moderation is the read model of instance moderation, built from
// the moderation.* events: the domain blocks, the allow-list and its mode,
// the reports received from other servers (open or resolved), and the
// blocks of local actors by remote actors. Its Reader answers the policy
// question the federation code asks for every host (Reader.Policy: allow,
// silence or reject, honouring subdomains and the allow-list-only mode
// exactly as moderation.Rules.Decide does) with one indexed lookup of the
// host's candidate rule domains, and lists what the admin API shows.
package moderation
