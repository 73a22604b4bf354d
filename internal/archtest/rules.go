package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Package is what the checker needs to know about one package, as reported
// by "go list -json".
type Package struct {
	// ImportPath is the full import path.
	ImportPath string
	// Imports are the packages imported by non-test files.
	Imports []string
	// Standard marks standard-library packages.
	Standard bool
	// GoFiles are the non-test Go files (names only).
	GoFiles []string
}

// Rule restricts the imports of the module's packages matching From.
// Patterns are paths relative to the module root; "x/..." matches x and
// everything below it.
type Rule struct {
	// Name explains the rule in violation messages.
	Name string
	// From selects the importing packages.
	From []string
	// Except exempts importing packages from the rule.
	Except []string
	// Restrict limits the importers to the standard library plus Allow.
	Restrict bool
	// Allow lists the non-standard imports a Restrict rule permits
	// (module-relative patterns, or full paths for other modules).
	Allow []string
	// Deny lists imports that are forbidden (same pattern forms as Allow).
	Deny []string
	// ExceptTestHelpers exempts packages whose last path element ends in
	// "test" (shared test helpers such as events/storetest).
	ExceptTestHelpers bool
}

// Violation is one forbidden import.
type Violation struct {
	Rule     string
	Importer string // module-relative path of the importing package
	Import   string // the offending import path
}

// String names the importer, the import and the rule.
func (v Violation) String() string {
	return fmt.Sprintf("%s imports %s: breaks rule %q", v.Importer, v.Import, v.Rule)
}

// Rules are the design brief's dependency rules (section 2). The checker
// only sees packages that exist; rules for packages still to come cost
// nothing.
var Rules = []Rule{
	{
		Name:     "events imports only the standard library",
		From:     []string{"events"},
		Restrict: true,
	},
	{
		Name:              "events/sqlite imports only events and its SQLite driver",
		From:              []string{"events/sqlite/..."},
		ExceptTestHelpers: true,
		Restrict:          true,
		Allow:             []string{"events", "events/sqlite/...", "modernc.org/sqlite/...", "github.com/mattn/go-sqlite3/..."},
	},
	{
		Name:              "events/esdb imports only events and the EventStoreDB client (with gRPC/protobuf)",
		From:              []string{"events/esdb/..."},
		ExceptTestHelpers: true,
		Restrict:          true,
		Allow: []string{"events", "events/esdb/...", "github.com/EventStore/EventStore-Client-Go/v4/...",
			"google.golang.org/grpc/...", "google.golang.org/protobuf/...", "google.golang.org/genproto/...",
			"github.com/google/uuid"},
	},
	{
		Name:     "events/storetest imports only events",
		From:     []string{"events/storetest/..."},
		Restrict: true,
		Allow:    []string{"events", "events/storetest/..."},
	},
	{
		Name:     "internal/domain imports only events (and other domain packages)",
		From:     []string{"internal/domain/..."},
		Restrict: true,
		Allow:    []string{"events", "internal/domain/..."},
	},
	{
		Name: "internal/app never imports projections",
		From: []string{"internal/app/..."},
		Deny: []string{"projections/..."},
	},
	{
		Name: "projections never import internal/app",
		From: []string{"projections/..."},
		Deny: []string{"internal/app/..."},
	},
	{
		Name:     "the projections core imports only events, database/sql and prometheus",
		From:     []string{"projections"},
		Restrict: true,
		Allow:    []string{"events", "github.com/prometheus/..."},
	},
	{
		Name:              "a read model imports only the projections core, events and domain event types",
		From:              []string{"projections/..."},
		Except:            []string{"projections"},
		ExceptTestHelpers: true,
		Restrict:          true,
		Allow:             []string{"projections/...", "events", "internal/domain/..."},
	},
	{
		Name:              "federation imports only domain types, app, projection queries and its protocol libraries",
		From:              []string{"federation/..."},
		ExceptTestHelpers: true,
		Restrict:          true,
		Allow: []string{"federation/...", "events", "internal/domain/...", "internal/app/...", "projections/...",
			"github.com/go-fed/...", "github.com/go-ap/...", "github.com/yaronf/httpsign/...",
			"github.com/dunglas/httpsfv/...", "golang.org/x/net/...", "golang.org/x/crypto/...",
			"github.com/microcosm-cc/bluemonday/..."},
	},
	{
		Name:     "internal/httpapi imports only app, projection queries, federation, events and its HTTP libraries",
		From:     []string{"internal/httpapi/..."},
		Restrict: true,
		Allow: []string{"internal/httpapi/...", "internal/app/...", "projections/...", "federation/...", "events",
			"internal/domain/...", "github.com/go-chi/...", "github.com/prometheus/..."},
	},
	{
		Name: "dependencies point inward: domain, app and projections never import federation",
		From: []string{"internal/domain/...", "internal/app/...", "projections/...", "events/..."},
		Deny: []string{"federation/..."},
	},
	{
		Name:              "only cmd picks a store implementation",
		From:              []string{"..."},
		Except:            []string{"cmd/...", "events/sqlite/...", "events/esdb/..."},
		ExceptTestHelpers: true,
		Deny:              []string{"events/sqlite/...", "events/esdb/..."},
	},
	{
		Name: "nothing imports cmd",
		From: []string{"..."},
		Deny: []string{"cmd/..."},
	},
	{
		Name:   "only cmd imports internal/httpapi",
		From:   []string{"..."},
		Except: []string{"cmd/...", "internal/httpapi/..."},
		Deny:   []string{"internal/httpapi/..."},
	},
}

// match reports whether path (module-relative for module packages, full
// otherwise) matches pattern.
func match(pattern, path string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, path) })
}

func isTestHelper(rel string) bool {
	last := rel[strings.LastIndex(rel, "/")+1:]
	return strings.HasSuffix(last, "test")
}

// Check applies rules to the packages of module among pkgs (pkgs may also
// hold dependencies, which tell which imports are standard) and returns
// every violation, sorted.
func Check(module string, pkgs []Package, rules []Rule) []Violation {
	standard := map[string]bool{"C": true, "unsafe": true}
	for _, p := range pkgs {
		if p.Standard {
			standard[p.ImportPath] = true
		}
	}
	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		if r, ok := strings.CutPrefix(path, module+"/"); ok {
			return r, true
		}
		return path, false
	}
	var out []Violation
	for _, p := range pkgs {
		from, own := rel(p.ImportPath)
		if !own {
			continue
		}
		for _, r := range rules {
			if !matchAny(r.From, from) || matchAny(r.Except, from) || r.ExceptTestHelpers && isTestHelper(from) {
				continue
			}
			for _, imp := range p.Imports {
				target, _ := rel(imp)
				bad := matchAny(r.Deny, target)
				if r.Restrict && !standard[imp] && !matchAny(r.Allow, target) {
					bad = true
				}
				if bad {
					out = append(out, Violation{Rule: r.Name, Importer: from, Import: imp})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Importer != b.Importer {
			return a.Importer < b.Importer
		}
		if a.Import != b.Import {
			return a.Import < b.Import
		}
		return a.Rule < b.Rule
	})
	return out
}

// MissingDocs lists the module's packages (module-relative) without a doc.go.
func MissingDocs(module string, pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		if p.ImportPath != module && !strings.HasPrefix(p.ImportPath, module+"/") {
			continue
		}
		if !slices.Contains(p.GoFiles, "doc.go") {
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/"))
		}
	}
	sort.Strings(out)
	return out
}
