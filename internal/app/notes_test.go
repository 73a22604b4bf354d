package app_test

import (
	"errors"
	"testing"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/note"
)

func TestNotesPublishAndDelete(t *testing.T) {
	e := newEnv(t)
	res, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindPerson, Username: "alice", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindPerson, Username: "bob", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	notes := app.NewNotes(e.store, e.reg, "hanse.example")
	id, pos, err := notes.Publish(e.ctx, res.ActorID, "Hallo Welt", "de", note.Public, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if pos <= res.Position {
		t.Fatalf("position %d not after the actor's %d", pos, res.Position)
	}
	payloads, envs := e.read(note.Stream(id))
	want := note.Published{NoteID: id, AuthorID: res.ActorID, Content: "Hallo Welt", Language: "de", Visibility: note.Public}
	if len(payloads) != 1 || payloads[0] != want || envs[0].Metadata.Actor != "admin" {
		t.Fatalf("stream = %+v", payloads)
	}

	cases := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"unknown author", func() error {
			_, _, err := notes.Publish(e.ctx, "nobody", "x", "", note.Public, "admin")
			return err
		}, app.ErrActorNotFound},
		{"invalid visibility", func() error {
			_, _, err := notes.Publish(e.ctx, res.ActorID, "x", "", "secret", "admin")
			var ve *app.ValidationError
			if errors.As(err, &ve) && ve.Field == "visibility" {
				return nil
			}
			return err
		}, nil},
		{"delete by another actor", func() error {
			_, err := notes.Delete(e.ctx, id, bob.ActorID, "admin")
			return err
		}, app.ErrNotAuthor},
		{"delete unknown note", func() error {
			_, err := notes.Delete(e.ctx, "00000000-0000-0000-0000-000000000000", "", "admin")
			return err
		}, app.ErrNoteNotFound},
	}
	for _, c := range cases {
		if err := c.call(); !errors.Is(err, c.wantErr) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.wantErr)
		}
	}

	dpos, err := notes.Delete(e.ctx, id, "", "admin")
	if err != nil || dpos <= pos {
		t.Fatalf("Delete = %d, %v", dpos, err)
	}
	if _, err := notes.Delete(e.ctx, id, res.ActorID, "admin"); !errors.Is(err, app.ErrNoteDeleted) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := e.a.Delete(e.ctx, res.ActorID, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := notes.Publish(e.ctx, res.ActorID, "x", "", note.Public, "admin"); !errors.Is(err, app.ErrActorDeleted) {
		t.Fatalf("publish by deleted actor: %v", err)
	}
}
