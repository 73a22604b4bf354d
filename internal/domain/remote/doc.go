// Package remote holds the events that record what other servers told this
// instance: every verified inbox activity, and the remote actors fetched to
// verify signatures and address deliveries. Recording them first makes the
// inbox durable (202 only after the append) and lets everything downstream
// be rebuilt from the log. It also holds the record of a remote actor's
// erasure (federation.remote_actor_erased), after which read models keep
// nothing of that person.
package remote
