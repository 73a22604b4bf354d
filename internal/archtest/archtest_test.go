package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goList runs "go list -e -deps -json ./..." at the module root and returns
// the module path and every package (the module's and its dependencies).
func goList(t *testing.T) (module string, root string, pkgs []Package) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}\n{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("go list -m: unexpected output %q", out)
	}
	module, root = lines[0], lines[1]
	cmd := exec.Command("go", "list", "-e", "-deps", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Package
			Error *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil && strings.HasPrefix(p.ImportPath, module) {
			// A package that does not build is reported by its own tests;
			// its imports are still checked as far as go list knows them.
			t.Logf("package %s has errors: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p.Package)
	}
	return module, root, pkgs
}

func TestImportRules(t *testing.T) {
	module, _, pkgs := goList(t)
	// Guard against a vacuous pass: the packages the rules are about must
	// have been seen.
	for _, want := range []string{"events", "cmd/hanse", "internal/httpapi"} {
		if !slices.ContainsFunc(pkgs, func(p Package) bool { return p.ImportPath == module+"/"+want }) {
			t.Fatalf("go list did not report %s/%s", module, want)
		}
	}
	for _, v := range Check(module, pkgs, Rules) {
		t.Error(v)
	}
}

func TestEveryPackageHasDocGo(t *testing.T) {
	module, _, pkgs := goList(t)
	for _, p := range MissingDocs(module, pkgs) {
		t.Errorf("package %s has no doc.go saying what it owns", p)
	}
}

// TestCheckerFindsViolations feeds the checker a fake module with one
// offence per rule and checks each is reported with the offending import.
func TestCheckerFindsViolations(t *testing.T) {
	const m = "example.org/hanse"
	std := []Package{{ImportPath: "fmt", Standard: true}, {ImportPath: "database/sql", Standard: true}}
	tests := []struct {
		name    string
		pkg     Package
		want    []string // "importer imports import" of each expected violation
		wantMsg string   // substring of the first violation's message
	}{
		{
			name:    "events imports a third-party module",
			pkg:     Package{ImportPath: m + "/events", Imports: []string{"fmt", "github.com/google/uuid"}},
			want:    []string{"events imports github.com/google/uuid"},
			wantMsg: `events imports github.com/google/uuid: breaks rule "events imports only the standard library"`,
		},
		{
			name: "events imports a module package",
			pkg:  Package{ImportPath: m + "/events", Imports: []string{m + "/internal/config"}},
			want: []string{"events imports " + m + "/internal/config"},
		},
		{
			name: "sqlite store imports the router",
			pkg:  Package{ImportPath: m + "/events/sqlite", Imports: []string{m + "/events", "modernc.org/sqlite", "github.com/go-chi/chi/v5"}},
			want: []string{"events/sqlite imports github.com/go-chi/chi/v5"},
		},
		{
			name: "esdb store imports the sqlite store",
			pkg:  Package{ImportPath: m + "/events/esdb", Imports: []string{m + "/events", "google.golang.org/grpc", m + "/events/sqlite"}},
			want: []string{"events/esdb imports " + m + "/events/sqlite"},
		},
		{
			name: "domain imports the app",
			pkg:  Package{ImportPath: m + "/internal/domain/community", Imports: []string{m + "/events", m + "/internal/domain/shared", m + "/internal/app"}},
			want: []string{"internal/domain/community imports " + m + "/internal/app"},
		},
		{
			name: "app imports a read model",
			pkg:  Package{ImportPath: m + "/internal/app", Imports: []string{m + "/projections/feeds"}},
			want: []string{"internal/app imports " + m + "/projections/feeds"},
		},
		{
			name: "read model imports the app",
			pkg:  Package{ImportPath: m + "/projections/feeds", Imports: []string{m + "/projections", m + "/internal/app/commands"}},
			want: []string{"projections/feeds imports " + m + "/internal/app/commands"},
		},
		{
			name:    "projections core imports a driver",
			pkg:     Package{ImportPath: m + "/projections", Imports: []string{"database/sql", m + "/events", "github.com/prometheus/client_golang/prometheus", "modernc.org/sqlite"}},
			want:    []string{"projections imports modernc.org/sqlite"},
			wantMsg: "projections core",
		},
		{
			name: "app picks a store",
			pkg:  Package{ImportPath: m + "/internal/app", Imports: []string{m + "/events/esdb"}},
			want: []string{"internal/app imports " + m + "/events/esdb"},
		},
		{
			name: "federation imports cmd and httpapi",
			pkg:  Package{ImportPath: m + "/federation/inbox", Imports: []string{m + "/cmd/hanse", m + "/internal/httpapi"}},
			want: []string{"federation/inbox imports " + m + "/cmd/hanse", "federation/inbox imports " + m + "/internal/httpapi"},
		},
		{
			name: "app imports federation",
			pkg:  Package{ImportPath: m + "/internal/app", Imports: []string{m + "/federation/outbound"}},
			want: []string{"internal/app imports " + m + "/federation/outbound"},
		},
		{
			name: "cmd may import anything",
			pkg:  Package{ImportPath: m + "/cmd/hanse", Imports: []string{m + "/events/sqlite", m + "/events/esdb", m + "/internal/httpapi", m + "/projections"}},
		},
		{
			name: "read model imports federation and a store",
			pkg:  Package{ImportPath: m + "/projections/feeds", Imports: []string{m + "/projections", m + "/federation/as2", "modernc.org/sqlite"}},
			want: []string{"projections/feeds imports " + m + "/federation/as2", "projections/feeds imports modernc.org/sqlite"},
		},
		{
			name:    "federation imports a read-model database driver",
			pkg:     Package{ImportPath: m + "/federation/delivery", Imports: []string{m + "/events", m + "/federation/httpsig", "modernc.org/sqlite"}},
			want:    []string{"federation/delivery imports modernc.org/sqlite"},
			wantMsg: "federation imports only",
		},
		{
			name:    "httpapi imports a store driver",
			pkg:     Package{ImportPath: m + "/internal/httpapi", Imports: []string{m + "/projections/activity", "github.com/go-chi/chi/v5", "modernc.org/sqlite"}},
			want:    []string{"internal/httpapi imports modernc.org/sqlite"},
			wantMsg: "internal/httpapi imports only",
		},
		{
			name: "a test helper may open a store",
			pkg:  Package{ImportPath: m + "/projections/projectiontest", Imports: []string{m + "/events/sqlite"}},
		},
		{
			name: "packages of another module are ignored",
			pkg:  Package{ImportPath: "example.com/other/events", Imports: []string{"github.com/google/uuid"}},
		},
		{
			name: "clean store package",
			pkg:  Package{ImportPath: m + "/events/sqlite", Imports: []string{"fmt", "database/sql", m + "/events", "modernc.org/sqlite"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(m, append(slices.Clone(std), tt.pkg), Rules)
			var short []string
			for _, v := range got {
				short = append(short, v.Importer+" imports "+v.Import)
			}
			short = slices.Compact(short) // one import may break several rules
			if !slices.Equal(short, tt.want) {
				t.Fatalf("violations %v, want %v", got, tt.want)
			}
			if tt.wantMsg != "" && !strings.Contains(got[0].String(), tt.wantMsg) {
				t.Fatalf("message %q lacks %q", got[0].String(), tt.wantMsg)
			}
		})
	}
}

func TestMissingDocs(t *testing.T) {
	const m = "example.org/hanse"
	pkgs := []Package{
		{ImportPath: m + "/events", GoFiles: []string{"doc.go", "store.go"}},
		{ImportPath: m + "/internal/app", GoFiles: []string{"post.go"}},
		{ImportPath: "fmt", Standard: true, GoFiles: []string{"print.go"}},
	}
	if got := MissingDocs(m, pkgs); !slices.Equal(got, []string{"internal/app"}) {
		t.Fatalf("MissingDocs = %v, want [internal/app]", got)
	}
}
