// Package reactor is the common frame of Hanse's reactors over received
// activities: projectors without tables that read federation.activity_received
// events in order and turn them into commands. It decodes each event,
// hands the activity to the reactor, logs and skips the activities the
// reactor refuses, and stops the batch (naming the position) on any other
// error, so the projections runner reports it and retries later. Decode
// and Skip are the checks and refusals every reactor shares: an activity
// that does not decode, is not its verified actor's, or comes from a local
// actor is skipped.
package reactor
