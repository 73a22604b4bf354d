// Package follow is the domain of follow relationships between a local
// actor and a remote one, in either direction: a remote person following a
// local learning community (inbound), or a local actor following a remote
// one (outbound). One stream per pair; the events are the relationship's
// whole history.
package follow
