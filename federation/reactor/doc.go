// Package reactor is the common frame of Hanse's reactors over received
// activities: projectors without tables that read federation.activity_received
// events in order and turn them into commands. It decodes each event,
// hands the activity to the reactor, logs and skips the activities the
// reactor refuses, and stops the batch (naming the position) on any other
// error, so the projections runner reports it and retries later.
package reactor
