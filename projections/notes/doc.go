// Package notes is the notes read model: the local notes as the
// note.published and note.deleted events leave them, with author,
// content, language, visibility, when each was published (and deleted),
// and the log position that orders them.
//
// It stores the author's id only; documents that need the author's IRI
// join the actors read model at render time (federation/notedocs). A
// deleted note keeps its row (its content blanked) so that its IRI can
// answer 410 with a Tombstone.
package notes
