package note_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/note"
)

var (
	alice   = actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1}
	liveA   = mustFold(alice)
	deadA   = mustFold(alice, actor.Deleted{})
	pubNote = note.Published{NoteID: "n1", AuthorID: "a1", Content: "Hallo", Language: "de", Visibility: note.Public}
)

func mustFold(ps ...any) actor.State {
	s, err := actor.Fold(ps...)
	if err != nil {
		panic(err)
	}
	return s
}

func in(mod func(*note.NewNote)) note.NewNote {
	n := note.NewNote{ID: "n1", Content: "Hallo", Language: "de", Visibility: note.Public}
	if mod != nil {
		mod(&n)
	}
	return n
}

func TestPublish(t *testing.T) {
	var fe *note.FieldError
	tests := []struct {
		name      string
		given     []any
		author    actor.State
		in        note.NewNote
		want      any
		wantErr   error
		wantField string
	}{
		{name: "public note", author: liveA, in: in(nil), want: pubNote},
		{name: "no language, unlisted", author: liveA,
			in:   in(func(n *note.NewNote) { n.Language, n.Visibility = "", note.Unlisted }),
			want: note.Published{NoteID: "n1", AuthorID: "a1", Content: "Hallo", Visibility: note.Unlisted}},
		{name: "5000 characters", author: liveA, in: in(func(n *note.NewNote) { n.Content = strings.Repeat("ä", 5000) }),
			want: note.Published{NoteID: "n1", AuthorID: "a1", Content: strings.Repeat("ä", 5000), Language: "de", Visibility: note.Public}},
		{name: "region subtag", author: liveA, in: in(func(n *note.NewNote) { n.Language = "pt-BR" }),
			want: note.Published{NoteID: "n1", AuthorID: "a1", Content: "Hallo", Language: "pt-BR", Visibility: note.Public}},
		{name: "already published", given: []any{pubNote}, author: liveA, in: in(nil), wantErr: note.ErrAlreadyExists},
		{name: "unknown author", author: actor.State{}, in: in(nil), wantErr: note.ErrAuthorNotLive},
		{name: "deleted author", author: deadA, in: in(nil), wantErr: note.ErrAuthorNotLive},
		{name: "empty content", author: liveA, in: in(func(n *note.NewNote) { n.Content = " \n " }), wantField: "content"},
		{name: "5001 characters", author: liveA, in: in(func(n *note.NewNote) { n.Content = strings.Repeat("a", 5001) }), wantField: "content"},
		{name: "control character", author: liveA, in: in(func(n *note.NewNote) { n.Content = "a\x00b" }), wantField: "content"},
		{name: "invalid UTF-8", author: liveA, in: in(func(n *note.NewNote) { n.Content = "a\xffb" }), wantField: "content"},
		{name: "bad language", author: liveA, in: in(func(n *note.NewNote) { n.Language = "de_DE" }), wantField: "language"},
		{name: "bad visibility", author: liveA, in: in(func(n *note.NewNote) { n.Visibility = "friends" }), wantField: "visibility"},
		{name: "no id", author: liveA, in: in(func(n *note.NewNote) { n.ID = "" }), wantField: "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := note.Fold(tt.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := note.Publish(s, tt.in, tt.author)
			switch {
			case tt.wantField != "":
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %s", err, tt.wantField)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		given   []any
		by      string
		wantErr error
	}{
		{name: "author deletes", given: []any{pubNote}, by: "a1"},
		{name: "other actor", given: []any{pubNote}, by: "a2", wantErr: note.ErrNotAuthor},
		{name: "unknown note", by: "a1", wantErr: note.ErrNotFound},
		{name: "twice", given: []any{pubNote, note.Deleted{}}, by: "a1", wantErr: note.ErrDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := note.Fold(tt.given...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = note.Delete(s, tt.by)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestFoldRejectsCorruptStreams(t *testing.T) {
	for _, ps := range [][]any{{note.Deleted{}}, {pubNote, pubNote}, {"x"}} {
		if _, err := note.Fold(ps...); err == nil {
			t.Errorf("Fold(%v) succeeded", ps)
		}
	}
}
