package notes_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/notes"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 123456789, time.UTC) }

// given is one event on the stream of note id.
type given struct {
	id      string
	payload any
}

func pub(id, author string, v note.Visibility) given {
	return given{id, note.Published{NoteID: id, AuthorID: author, Content: "Hallo " + id, Language: "de", Visibility: v}}
}

func del(id string) given { return given{id, note.Deleted{}} }

// project appends evs (event i occurs at at(i)) and an unrelated event to a
// fresh store, runs the notes projection to the head and returns its
// reader, the runner and the positions.
func project(t *testing.T, evs []given) (notes.Reader, *projections.Runner, []events.Position) {
	t.Helper()
	env := projectiontest.Open(t)
	note.Register(env.Registry)
	var positions []events.Position
	for i, e := range evs {
		positions = append(positions, env.Record(note.Stream(e.id), e.payload, events.Metadata{OccurredAt: at(i)}))
	}
	env.AppendUnrelated()
	r := env.Start(notes.New())
	return notes.NewReader(r.DB()), r, positions
}

func ids(ns []notes.Note) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

var outboxVisibilities = []note.Visibility{note.Public, note.Unlisted}

func TestNotesGivenEventsThenReader(t *testing.T) {
	cases := []struct {
		name   string
		given  []given
		outbox []string // a1's public and unlisted notes, newest first
		all    []string // a1's notes of every visibility
		count  int
	}{
		{name: "nothing", outbox: []string{}, all: []string{}},
		{name: "each visibility",
			given: []given{pub("n1", "a1", note.Public), pub("n2", "a1", note.Unlisted), pub("n3", "a1", note.Followers),
				pub("n4", "a1", note.Direct), pub("n5", "a2", note.Public)},
			outbox: []string{"n2", "n1"}, all: []string{"n4", "n3", "n2", "n1"}, count: 5},
		{name: "deleted notes drop out",
			given:  []given{pub("n1", "a1", note.Public), pub("n2", "a1", note.Public), del("n1"), pub("n3", "a1", note.Direct), del("n3")},
			outbox: []string{"n2"}, all: []string{"n2"}, count: 1},
	}
	ctx := context.Background()
	all := []note.Visibility{note.Public, note.Unlisted, note.Followers, note.Direct}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _, _ := project(t, tc.given)
			for _, c := range []struct {
				vis  []note.Visibility
				want []string
			}{{outboxVisibilities, tc.outbox}, {all, tc.all}} {
				p, err := q.ByAuthor(ctx, "a1", c.vis, "", 10)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(p.Items); !reflect.DeepEqual(got, c.want) || p.Total != len(c.want) || p.Next != "" {
					t.Fatalf("ByAuthor(%v) = %v total %d next %q, want %v", c.vis, got, p.Total, p.Next, c.want)
				}
			}
			if n, err := q.Count(ctx); err != nil || n != tc.count {
				t.Fatalf("Count = %d, %v; want %d", n, err, tc.count)
			}
		})
	}
}

func TestNotesByID(t *testing.T) {
	q, _, pos := project(t, []given{pub("n1", "a1", note.Public), del("n1"), pub("n2", "a1", note.Followers)})
	ctx := context.Background()
	got, err := q.ByID(ctx, "n2")
	want := notes.Note{ID: "n2", AuthorID: "a1", Content: "Hallo n2", Language: "de", Visibility: note.Followers,
		Published: at(2), Position: pos[2]}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ByID(n2) = %+v, %v; want %+v", got, err, want)
	}
	gone, err := q.ByID(ctx, "n1")
	if err != nil || !gone.DeletedAt.Equal(at(1)) || gone.Content != "" || !gone.Published.Equal(at(0)) {
		t.Fatalf("ByID(n1) = %+v, %v; want deleted at %v with no content", gone, err, at(1))
	}
	if _, err := q.ByID(ctx, "nope"); !errors.Is(err, notes.ErrNotFound) {
		t.Fatalf("ByID(nope) err = %v, want ErrNotFound", err)
	}
}

func TestNotesPagingAndRebuild(t *testing.T) {
	var evs []given
	for i := range 30 {
		v := []note.Visibility{note.Public, note.Unlisted, note.Followers, note.Direct}[i%4]
		evs = append(evs, pub(fmt.Sprintf("n%02d", i), "a1", v))
		if i%7 == 0 {
			evs = append(evs, del(fmt.Sprintf("n%02d", i)))
		}
	}
	q, r, _ := project(t, evs)
	ctx := context.Background()
	// Public and unlisted: i%4 in {0,1}, minus deleted i%7==0 (0, 28, 21).
	var want []string
	for i := 29; i >= 0; i-- {
		if i%4 <= 1 && i%7 != 0 {
			want = append(want, fmt.Sprintf("n%02d", i))
		}
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := q.ByAuthor(ctx, "a1", outboxVisibilities, cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) {
			t.Fatalf("Total = %d, want %d", p.Total, len(want))
		}
		got = append(got, ids(p.Items)...)
		if p.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		cursor = p.Next
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	for _, bad := range []string{"x", "-1", "0", "007"} {
		if _, err := q.ByAuthor(ctx, "a1", outboxVisibilities, bad, 4); !errors.Is(err, notes.ErrBadCursor) {
			t.Fatalf("cursor %q: err = %v, want ErrBadCursor", bad, err)
		}
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, notes.Name, nil)
}
