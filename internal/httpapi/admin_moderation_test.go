package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/moderation"
)

// moderationServer serves the moderation routes over a real store and
// read model, reads waiting for Hanse-Min-Position.
func moderationServer(t *testing.T) (*httptest.Server, *app.Moderation) {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	runner, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, moderation.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	cmds := app.NewModeration(store, events.NewRegistry(), afActors{}, "127.0.0.1:8080")
	srv := httptest.NewServer(NewRouter(Deps{AdminToken: adminTestToken,
		Admin: AdminModerationRoutes(cmds, moderation.NewReader(runner.DB()), AwaitPosition(runner, moderation.Name, 0))}))
	t.Cleanup(srv.Close)
	return srv, cmds
}

// readAfter GETs path once the read model has reached pos.
func readAfter(t *testing.T, srv *httptest.Server, path string, pos events.Position, v any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminTestToken)
	req.Header.Set(MinPositionHeader, fmt.Sprint(pos))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp
}

func TestAdminModerationRoutes(t *testing.T) {
	srv, cmds := moderationServer(t)
	ctx := context.Background()
	_, reportID, err := cmds.ReceiveReport(ctx, app.ReceivedFlag{ActivityID: "https://remote.example/flags/1", Actor: "https://remote.example/actor",
		Targets: []string{afOpen}, Content: "spam", ReceivedAt: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	const js = "application/json"
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
		changed                  bool
		domain                   string
	}{
		{name: "block", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"Spam.Example","severity":"reject","public_comment":"spam","private_comment":"ticket 9"}`,
			status: 201, changed: true, domain: "spam.example"},
		{name: "block again", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"spam.example","severity":"reject","public_comment":"spam","private_comment":"ticket 9"}`,
			status: 200, domain: "spam.example"},
		{name: "silence an IDN", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"bücher.example","severity":"silence"}`,
			status: 201, changed: true, domain: "xn--bcher-kva.example"},
		{name: "block ourselves", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"127.0.0.1","severity":"reject"}`, status: 422, code: CodeOwnDomain},
		{name: "bad severity", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"x.example","severity":"suspend"}`, status: 400, code: CodeBadRequest},
		{name: "bad domain", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"x example","severity":"reject"}`, status: 400, code: CodeBadRequest},
		{name: "missing severity", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"x.example"}`, status: 400, code: CodeBadRequest},
		{name: "unknown field", method: "POST", path: AdminDomainBlocksPath, body: `{"domain":"x.example","severity":"reject","sevrity":1}`, status: 400, code: CodeBadRequest},
		{name: "unblock unknown", method: "DELETE", path: AdminDomainBlocksPath, body: `{"domain":"other.example"}`, status: 404, code: CodeNotFound},
		{name: "unblock by query", method: "DELETE", path: AdminDomainBlocksPath + "?domain=B%C3%BCcher.example", status: 200, changed: true, domain: "xn--bcher-kva.example"},
		{name: "allow", method: "POST", path: AdminAllowedDomainsPath, body: `{"domain":"friend.example"}`, status: 201, changed: true, domain: "friend.example"},
		{name: "allow again", method: "POST", path: AdminAllowedDomainsPath, body: `{"domain":"friend.example"}`, status: 200, domain: "friend.example"},
		{name: "allow nothing", method: "POST", path: AdminAllowedDomainsPath, body: `{}`, status: 400, code: CodeBadRequest},
		{name: "disallow unknown", method: "DELETE", path: AdminAllowedDomainsPath, body: `{"domain":"x.example"}`, status: 404, code: CodeNotFound},
		{name: "allow-list mode on", method: "PUT", path: AdminAllowlistModePath, body: `{"enabled":true}`, status: 200, changed: true},
		{name: "allow-list mode on again", method: "PUT", path: AdminAllowlistModePath, body: `{"enabled":true}`, status: 200},
		{name: "allow-list mode without value", method: "PUT", path: AdminAllowlistModePath, body: `{}`, status: 400, code: CodeBadRequest},
		{name: "resolve unknown report", method: "POST", path: AdminReportsPath + "/nope/resolve", body: `{}`, status: 404, code: CodeNotFound},
		{name: "resolve", method: "POST", path: AdminReportsPath + "/" + reportID + "/resolve", body: `{"note":"warned them"}`, status: 200, changed: true},
		{name: "resolve again, no body", method: "POST", path: AdminReportsPath + "/" + reportID + "/resolve", status: 200},
	}
	var last events.Position
	for _, tc := range cases {
		resp, body := adminDo(t, tc.method, srv.URL+tc.path, js, tc.body, adminTestToken)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if tc.code != "" {
			var e ErrorBody
			if json.Unmarshal(body, &e) != nil || e.Error.Code != tc.code || e.RequestID == "" {
				t.Fatalf("%s: error body %s, want code %s", tc.name, body, tc.code)
			}
			continue
		}
		var w ModerationWriteResponse
		if err := json.Unmarshal(body, &w); err != nil || w.Changed != tc.changed || w.Domain != tc.domain || w.Position == 0 {
			t.Fatalf("%s: %s", tc.name, body)
		}
		last = max(last, w.Position)
	}

	// Reads reflect every write (read-your-writes).
	var blocks DomainBlocksResponse
	if resp := readAfter(t, srv, AdminDomainBlocksPath, last, &blocks); resp.StatusCode != 200 || len(blocks.Items) != 1 ||
		blocks.Items[0] != (DomainBlockItem{Domain: "spam.example", Severity: "reject", PublicComment: "spam", PrivateComment: "ticket 9",
			BlockedAt: blocks.Items[0].BlockedAt, Position: blocks.Items[0].Position}) || blocks.Items[0].Position == 0 {
		t.Fatalf("blocks %d %+v", resp.StatusCode, blocks)
	}
	var allowed AllowedDomainsResponse
	if resp := readAfter(t, srv, AdminAllowedDomainsPath, last, &allowed); resp.StatusCode != 200 || !allowed.AllowlistMode ||
		len(allowed.Items) != 1 || allowed.Items[0].Domain != "friend.example" {
		t.Fatalf("allowed %d %+v", resp.StatusCode, allowed)
	}
	var mode AllowlistModeResponse
	if resp := readAfter(t, srv, AdminAllowlistModePath, last, &mode); resp.StatusCode != 200 || !mode.Enabled {
		t.Fatalf("mode %d %+v", resp.StatusCode, mode)
	}
	var open, all ReportsResponse
	if resp := readAfter(t, srv, AdminReportsPath, last, &open); resp.StatusCode != 200 || len(open.Items) != 0 {
		t.Fatalf("open reports %d %+v", resp.StatusCode, open)
	}
	if resp := readAfter(t, srv, AdminReportsPath+"?state=all&limit=10", last, &all); resp.StatusCode != 200 || len(all.Items) != 1 {
		t.Fatalf("all reports %d %+v", resp.StatusCode, all)
	}
	rep := all.Items[0]
	if rep.ID != reportID || !rep.Resolved || rep.Note != "warned them" || rep.ResolvedBy != adminActorBy || rep.ResolvedAt == nil ||
		strings.Join(rep.Targets, ",") != afOpen || rep.Content != "spam" || rep.Reporter != "https://remote.example/actor" {
		t.Fatalf("report %+v", rep)
	}
	var one ReportItem
	if resp := readAfter(t, srv, AdminReportsPath+"/"+reportID, last, &one); resp.StatusCode != 200 || one.ID != reportID {
		t.Fatalf("one report %d %+v", resp.StatusCode, one)
	}
	for path, status := range map[string]int{AdminReportsPath + "/nope": 404, AdminReportsPath + "?state=closed": 400,
		AdminReportsPath + "?limit=0": 400, AdminReportsPath + "?cursor=x": 400} {
		if resp := readAfter(t, srv, path, 0, nil); resp.StatusCode != status {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, status)
		}
	}
	// Without the token, nothing.
	if resp, _ := adminDo(t, "GET", srv.URL+AdminDomainBlocksPath, "", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %d", resp.StatusCode)
	}
}
