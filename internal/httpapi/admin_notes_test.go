package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/note"
)

// fakeNotes answers the note commands from a table keyed by author or note.
type fakeNotes struct {
	published []string // "author|content|language|visibility"
	errs      map[string]error
}

func (f *fakeNotes) Publish(_ context.Context, authorID, content, language string, v note.Visibility, _ string) (string, events.Position, error) {
	if err := f.errs[authorID]; err != nil {
		return "", 0, err
	}
	f.published = append(f.published, strings.Join([]string{authorID, content, language, string(v)}, "|"))
	return "n1", 42, nil
}

func (f *fakeNotes) Delete(_ context.Context, noteID, _, _ string) (events.Position, error) {
	if err := f.errs[noteID]; err != nil {
		return 0, err
	}
	return 43, nil
}

func TestAdminNoteRoutes(t *testing.T) {
	cmds := &fakeNotes{errs: map[string]error{
		"ghost":   fmt.Errorf("%w: ghost", app.ErrActorNotFound),
		"gone":    fmt.Errorf("%w: gone", app.ErrActorDeleted),
		"invalid": &app.ValidationError{Field: "content", Reason: "must not be empty"},
		"deleted": fmt.Errorf("%w: deleted", app.ErrNoteDeleted),
		"missing": fmt.Errorf("%w: missing", app.ErrNoteNotFound),
		"boom":    fmt.Errorf("disk on fire"),
	}}
	env := newTestServer(t, Deps{AdminToken: testAdminToken, Admin: AdminNoteRoutes(cmds)})
	auth := map[string]string{"Authorization": "Bearer " + testAdminToken, "Content-Type": "application/json"}
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string
	}{
		{"publish, public by default", "POST", "/api/admin/actors/a1/notes", `{"content":"Hive day","language":"de"}`, 201, `"position":42`},
		{"publish followers-only", "POST", "/api/admin/actors/a1/notes", `{"content":"x","visibility":"Followers"}`, 201, `"id":"n1"`},
		{"unknown field", "POST", "/api/admin/actors/a1/notes", `{"content":"x","colour":"red"}`, 400, `"code":"bad_request"`},
		{"not JSON", "POST", "/api/admin/actors/a1/notes", `content=x`, 400, `"code"`},
		{"unknown author", "POST", "/api/admin/actors/ghost/notes", `{"content":"x"}`, 404, `"code":"not_found"`},
		{"deleted author", "POST", "/api/admin/actors/gone/notes", `{"content":"x"}`, 410, `"code":"gone"`},
		{"invalid content", "POST", "/api/admin/actors/invalid/notes", `{"content":""}`, 422, `"field":"content"`},
		{"store failure", "POST", "/api/admin/actors/boom/notes", `{"content":"x"}`, 500, `"code":"internal_error"`},
		{"delete", "DELETE", "/api/admin/notes/n1", ``, 200, `"position":43`},
		{"delete twice", "DELETE", "/api/admin/notes/deleted", ``, 410, `"code":"note_deleted"`},
		{"delete unknown", "DELETE", "/api/admin/notes/missing", ``, 404, `"code":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.do(t, tt.method, tt.path, strings.NewReader(tt.body), auth)
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantBody) {
				t.Fatalf("%s %s = %d %s; want %d with %q", tt.method, tt.path, res.status, res.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	want := []string{"a1|Hive day|de|public", "a1|x||followers"}
	if fmt.Sprint(cmds.published) != fmt.Sprint(want) {
		t.Errorf("published %v, want %v", cmds.published, want)
	}
	if res := env.do(t, "POST", "/api/admin/actors/a1/notes", strings.NewReader(`{"content":"x"}`), map[string]string{"Content-Type": "application/json"}); res.status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", res.status)
	}
}
