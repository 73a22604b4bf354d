package projections_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportRules enforces the design brief's rules for this package tree:
// the core imports only the standard library, events, database/sql and
// prometheus; read models import only the core, events and the standard
// library (domain event types later); no non-test file imports a store
// implementation.
func TestImportRules(t *testing.T) {
	const module = "github.com/hanse-network/hanse/"
	rules := []struct {
		dir   string
		allow []string // allowed non-standard imports; "x/" allows all below x
	}{
		{".", []string{module + "events", "github.com/prometheus/client_golang/"}},
		{"streams", []string{module + "events", module + "projections", module + "internal/domain/"}},
		{"activity", []string{module + "events", module + "projections", module + "internal/domain/"}},
	}
	for _, rule := range rules {
		files, err := filepath.Glob(filepath.Join(rule.dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", rule.dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				first := strings.Split(path, "/")[0]
				if !strings.Contains(first, ".") { // standard library
					continue
				}
				ok := false
				for _, a := range rule.allow {
					// "x/" allows everything below x; otherwise an exact path.
					if path == a || strings.HasSuffix(a, "/") && strings.HasPrefix(path, a) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s, which its rule does not allow", f, path)
				}
			}
		}
	}
}
