package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository root relative to this package's directory.
const repoRoot = "../.."

// testCommand extracts the "go test" lines between the README's
// test-command markers, as .ci/run does.
func testCommand(readme string) []string {
	var cmds []string
	inside := false
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.Contains(line, "<!-- test-command -->"):
			inside = true
		case strings.Contains(line, "<!-- /test-command -->"):
			inside = false
		case inside && strings.HasPrefix(line, "go test "):
			cmds = append(cmds, line)
		}
	}
	return cmds
}

func TestReadmeAndCIAgree(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := testCommand(string(readme))
	if len(cmds) != 1 {
		t.Fatalf("README.md holds %d go test lines between the test-command markers, want exactly 1: %q", len(cmds), cmds)
	}
	if !strings.Contains(string(readme), "go run ./cmd/hanse serve") {
		t.Error("README quick start lacks `go run ./cmd/hanse serve`")
	}

	ciPath := filepath.Join(repoRoot, ".ci", "run")
	info, err := os.Stat(ciPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf(".ci/run is not executable (mode %v)", info.Mode())
	}
	ci, err := os.ReadFile(ciPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set -euo pipefail", "<!-- test-command -->", "gofmt -l .", "go vet ./...", "go mod download"} {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run lacks %q", want)
		}
	}
}

func TestTestCommandExtraction(t *testing.T) {
	tests := []struct {
		name, readme string
		want         int
	}{
		{name: "one", readme: "x\n<!-- test-command -->\n```sh\ngo test ./...\n```\n<!-- /test-command -->\ngo test outside\n", want: 1},
		{name: "none", readme: "go test ./...\n", want: 0},
		{name: "two", readme: "<!-- test-command -->\ngo test ./a\ngo test ./b\n<!-- /test-command -->\n", want: 2},
	}
	for _, tt := range tests {
		if got := testCommand(tt.readme); len(got) != tt.want {
			t.Errorf("%s: %q", tt.name, got)
		}
	}
}

// TestNoMachineSpecificPaths keeps absolute paths of one machine out of the
// documentation and scripts.
func TestNoMachineSpecificPaths(t *testing.T) {
	bad := regexp.MustCompile(`(^|[\s("'=])/(work|home|root|Users|tmp)/`)
	files := []string{"README.md", ".ci/run"}
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	for _, d := range docs {
		rel, _ := filepath.Rel(repoRoot, d)
		files = append(files, rel)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if bad.MatchString(line) {
				t.Errorf("%s:%d: machine-specific path: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
