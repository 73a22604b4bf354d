// Package delivery owns the durable outbound deliveries: the
// federation_deliveries table (one row per activity and inbox, created by
// the outbound projector), the per-host circuit-breaker table, read
// functions for the CLI and the admin API, and Workers, which sign and
// POST due deliveries with per-host and global concurrency limits,
// exponential backoff with jitter (Sidekiq's schedule, as Mastodon: 16
// retries over about 2.1 days, see Backoff), Retry-After, and a circuit
// breaker per host. Updates go through projections.DB.Write, reads through
// DB.Reader.
package delivery
