package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// OpenAPIPath is where the API description is served.
const OpenAPIPath = "/api/openapi.json"

// openAPIDocument is the OpenAPI 3.1 description of every route under
// /api, /oauth and /.well-known/oauth-authorization-server. A test in
// cmd/hanse compares it with the routes the server really mounts, and
// validates it against the OpenAPI 3.1 schema.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the embedded OpenAPI document.
func OpenAPIDocument() []byte { return openAPIDocument }

// openAPIHandler serves the document.
func openAPIHandler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
}

// Operation is one documented or mounted method and path, e.g.
// "POST /api/hanse/v1/posts".
type Operation struct {
	Method string
	Path   string
}

// String renders "METHOD path".
func (o Operation) String() string { return o.Method + " " + o.Path }

// DocumentedOperations lists the operations of an OpenAPI document,
// sorted.
func DocumentedOperations(doc []byte) ([]Operation, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var out []Operation
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				out = append(out, Operation{Method: strings.ToUpper(method), Path: path})
			}
		}
	}
	SortOperations(out)
	return out, nil
}

// SortOperations sorts by path, then method.
func SortOperations(ops []Operation) {
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
}

// DocumentedPrefixes are the path prefixes the OpenAPI document must
// cover completely.
var DocumentedPrefixes = []string{"/api/", "/oauth/", "/.well-known/oauth-authorization-server"}

// IsDocumentedPath reports whether a mounted route must appear in the
// OpenAPI document.
func IsDocumentedPath(path string) bool {
	for _, p := range DocumentedPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
