// Package actor is the domain of ActivityPub actors hosted by this
// instance: people (Person), learning communities (Group), institutions
// (Organization) and the instance itself (Application). It owns the
// actor's events, the rules that decide them, and the state folded from
// them. It is pure: no I/O, no clock, no randomness — ids, times and key
// material are passed in by the application layer.
package actor
