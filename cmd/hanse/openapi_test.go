package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/internal/httpapi"
)

// mountedOperations walks the router "hanse serve" builds and returns the
// operations under the documented prefixes.
func mountedOperations(t *testing.T) []httpapi.Operation {
	t.Helper()
	cfg, err := config.ParseServe([]string{"--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--admin-token", strings.Repeat("a", 32)}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := buildServices(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := svc.close(slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Error(err)
		}
	}()
	routes, ok := svc.handler.(chi.Routes)
	if !ok {
		t.Fatalf("the server's handler is a %T, not a chi router", svc.handler)
	}
	seen := map[httpapi.Operation]bool{}
	var ops []httpapi.Operation
	err = chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		if method == http.MethodOptions {
			return nil // CORS preflight answers, described in the document's introduction
		}
		op := httpapi.Operation{Method: method, Path: route}
		if httpapi.IsDocumentedPath(route) && !seen[op] {
			seen[op] = true
			ops = append(ops, op)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	httpapi.SortOperations(ops)
	return ops
}

// TestOpenAPIDocumentsEveryRoute: every route under /api, /oauth and the
// OAuth metadata is in /api/openapi.json, and every documented operation is
// mounted — the document cannot drift from the router.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	documented, err := httpapi.DocumentedOperations(httpapi.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	mounted := mountedOperations(t)
	for _, op := range mounted {
		if !slices.Contains(documented, op) {
			t.Errorf("mounted but not documented in internal/httpapi/openapi.json: %s", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(mounted, op) {
			t.Errorf("documented but not mounted: %s", op)
		}
	}
}

// TestOpenAPIDocumentIsValid validates the document against the OpenAPI
// 3.1 schema and checks what the schema cannot: unique operation ids, a
// summary and at least one response per operation, and that every $ref
// resolves.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("../../internal/httpapi/testdata/oas-3.1/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.OpenAPIDocument()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}

	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &d); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, item := range d.Paths {
		for method, raw := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			var op struct {
				OperationID string                     `json:"operationId"`
				Summary     string                     `json:"summary"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			where := strings.ToUpper(method) + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s: needs operationId, summary and responses", where)
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, op.OperationID, other)
			}
			ids[op.OperationID] = where
		}
	}
	// Every local $ref points at something that exists.
	for _, ref := range findRefs(httpapi.OpenAPIDocument()) {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 || d.Components[parts[0]][parts[1]] == nil {
			t.Errorf("unresolved $ref %q", ref)
		}
	}
}

func findRefs(doc []byte) []string {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var v any
	_ = json.Unmarshal(doc, &v)
	walk(v)
	return refs
}

// TestOpenAPIServed: the document is served as JSON without credentials.
func TestOpenAPIServed(t *testing.T) {
	srv := httptest.NewServer(httpapi.NewRouter(httpapi.Deps{}))
	defer srv.Close()
	res, err := http.Get(srv.URL + httpapi.OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", httpapi.OpenAPIPath, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, httpapi.OpenAPIDocument()) {
		t.Error("served document differs from the embedded one")
	}
}
