// Package notedocs serves local notes to the fediverse: GET {actor
// IRI}/notes/{id} answers the AS2 Note (exactly the object outbound
// delivers inside Create, rendered by outbound.NoteObject) or, for
// browsers, an HTML page; GET {note IRI}/activity answers that Create. A
// deleted note answers 410 (a Tombstone); direct and followers-only notes
// answer 404 like unknown ones, since requests are not authenticated. It
// also provides the outbox collection (Handler.Outbox, an actorpub.Page):
// the Create activities of the actor's public and unlisted notes, newest
// first. Notes come from the notes read model, their authors from the
// actors read model.
package notedocs
