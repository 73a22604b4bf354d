package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hanse-network/hanse/internal/httpapi"
)

// This file holds the validator behind TestOpenAPIResponsesMatchTheServer
// (openapi_responses_test.go): it checks a real response — status,
// headers, Content-Type, body — against the responses
// internal/httpapi/openapi.json documents for its operation.

// openAPIBase is the URL the OpenAPI document is loaded under, so that the
// schemas of its responses compile with every "#/components/…" $ref
// resolving inside the same resource.
const openAPIBase = "https://hanse.invalid/api/openapi.json"

// responseValidator checks real responses against the responses the
// OpenAPI document (internal/httpapi/openapi.json) describes.
type responseValidator struct {
	doc       map[string]any                       // the document, for navigation
	templates []pathTemplate                       // its path templates
	ops       map[string]map[string]map[string]any // template → method → operation

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // compiled, by JSON pointer
	seen     map[string]int                // "METHOD template status" → responses checked
}

// pathTemplate is a documented path split into segments; "{…}" segments
// match any one non-empty segment.
type pathTemplate struct {
	path     string
	segments []string
	literals int
}

// newResponseValidator reads an OpenAPI 3.1 document; the schemas of its
// responses are compiled when first needed.
func newResponseValidator(doc []byte) (*responseValidator, error) {
	v := &responseValidator{ops: map[string]map[string]map[string]any{}, schemas: map[string]*jsonschema.Schema{},
		seen: map[string]int{}}
	if err := json.Unmarshal(doc, &v.doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	paths, _ := v.doc["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		v.ops[path] = map[string]map[string]any{}
		for method, op := range item {
			if op, ok := op.(map[string]any); ok && slices.Contains([]string{"get", "put", "post", "delete", "options",
				"head", "patch", "trace"}, method) {
				v.ops[path][method] = op
			}
		}
		tmpl := pathTemplate{path: path, segments: strings.Split(path, "/")}
		for _, s := range tmpl.segments {
			if !strings.HasPrefix(s, "{") {
				tmpl.literals++
			}
		}
		v.templates = append(v.templates, tmpl)
	}
	// The most literal template first: /members/me before /members/{member}.
	sort.Slice(v.templates, func(i, j int) bool {
		if v.templates[i].literals != v.templates[j].literals {
			return v.templates[i].literals > v.templates[j].literals
		}
		return v.templates[i].path < v.templates[j].path
	})

	// The whole document is one resource; response schemas are compiled
	// from JSON pointers into it.
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	v.compiler = jsonschema.NewCompiler()
	v.compiler.DefaultDraft(jsonschema.Draft2020)
	v.compiler.AssertFormat()
	if err := v.compiler.AddResource(openAPIBase, parsed); err != nil {
		return nil, err
	}
	return v, nil
}

// matches reports whether a concrete path fits the template.
func (t pathTemplate) matches(segments []string) bool {
	if len(segments) != len(t.segments) {
		return false
	}
	for i, s := range t.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if segments[i] == "" {
				return false
			}
			continue
		}
		if s != segments[i] {
			return false
		}
	}
	return true
}

// operation finds the documented operation of a method and a concrete
// path (without query): the most literal template that matches and
// documents the method.
func (v *responseValidator) operation(method, path string) (string, map[string]any, error) {
	segments := strings.Split(path, "/")
	var matched []string
	for _, t := range v.templates {
		if !t.matches(segments) {
			continue
		}
		if op, ok := v.ops[t.path][strings.ToLower(method)]; ok {
			return t.path, op, nil
		}
		matched = append(matched, t.path)
	}
	if len(matched) > 0 {
		return "", nil, fmt.Errorf("%s %s: the document has no %s operation on %s", method, path, method, strings.Join(matched, ", "))
	}
	return "", nil, fmt.Errorf("%s %s: no documented path matches", method, path)
}

// pointerToken escapes one JSON Pointer token (RFC 6901) and
// percent-encodes it for a URL fragment.
func pointerToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return url.PathEscape(s)
}

// resolve follows a local $ref ("#/components/responses/X") and returns
// the object it names with its pointer (the fragment, escaped).
func (v *responseValidator) resolve(obj map[string]any, ptr string) (map[string]any, string, error) {
	ref, ok := obj["$ref"].(string)
	if !ok {
		return obj, ptr, nil
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, "", fmt.Errorf("non-local $ref %q", ref)
	}
	var cur any = v.doc
	var esc []string
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("unresolved $ref %q", ref)
		}
		cur = m[tok]
		esc = append(esc, pointerToken(tok))
	}
	out, ok := cur.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("unresolved $ref %q", ref)
	}
	return out, "/" + strings.Join(esc, "/"), nil
}

// schemaAt compiles (once) the schema at a JSON pointer into the document.
func (v *responseValidator) schemaAt(ptr string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.schemas[ptr]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(openAPIBase + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	v.schemas[ptr] = s
	return s, nil
}

// conditionalHeaders are documented headers a response carries only
// sometimes, as their descriptions say (Link not on an empty page,
// Set-Cookie only while the client has no CSRF cookie yet).
var conditionalHeaders = map[string]bool{"Link": true, "Set-Cookie": true}

// checkHeaders checks the headers a response documents: each must be
// present (but the conditional ones) and match its schema.
func (v *responseValidator) checkHeaders(resp map[string]any, ptr string, header http.Header) error {
	documented, _ := resp["headers"].(map[string]any)
	var errs []error
	for _, name := range keys(documented) {
		obj, _ := documented[name].(map[string]any)
		h, hptr, err := v.resolve(obj, ptr+"/headers/"+pointerToken(name))
		if err != nil {
			return err
		}
		value := header.Get(name)
		if value == "" {
			if !conditionalHeaders[name] {
				errs = append(errs, fmt.Errorf("documented header %s missing", name))
			}
			continue
		}
		schema, _ := h["schema"].(map[string]any)
		if schema == nil {
			continue
		}
		var inst any = value
		if schema["type"] == "integer" {
			inst = json.Number(value)
			if _, err := strconv.ParseInt(value, 10, 64); err != nil {
				errs = append(errs, fmt.Errorf("header %s: %q is not an integer", name, value))
				continue
			}
		}
		sch, err := v.schemaAt(hptr + "/schema")
		if err != nil {
			return err
		}
		if err := sch.Validate(inst); err != nil {
			errs = append(errs, fmt.Errorf("header %s: %q does not match its schema: %v", name, value, err))
		}
	}
	return errors.Join(errs...)
}

// isJSON reports whether a media type is JSON (application/json, *+json).
func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// check validates one response: the operation must be documented, the
// status documented (exactly, as a range like "4XX", or as "default"),
// the Content-Type one the response documents, and a JSON body valid
// against the documented schema. Every 4xx/5xx JSON body must moreover be
// an Error or, on the OAuth endpoints, an OAuthError.
func (v *responseValidator) check(method, path string, status int, header http.Header, body []byte) error {
	contentType := header.Get("Content-Type")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	lookup := method
	if method == http.MethodHead {
		lookup = http.MethodGet // every GET route answers HEAD too (see the document's introduction)
	}
	tmpl, op, err := v.operation(lookup, path)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s %s (%s) → %d", method, path, tmpl, status)
	responses, _ := op["responses"].(map[string]any)
	key := strconv.Itoa(status)
	if _, ok := responses[key]; !ok {
		key = key[:1] + "XX"
		if _, ok := responses[key]; !ok {
			key = "default"
		}
	}
	raw, ok := responses[key].(map[string]any)
	if !ok {
		documented := slices.Sorted(func(yield func(string) bool) {
			for k := range responses {
				if !yield(k) {
					return
				}
			}
		})
		return fmt.Errorf("%s: status not documented (documented: %s); body %s", where, strings.Join(documented, ", "), clip(body))
	}
	v.mu.Lock()
	v.seen[fmt.Sprintf("%s %s %d", method, tmpl, status)]++
	v.mu.Unlock()

	ptr := "/paths/" + pointerToken(tmpl) + "/" + strings.ToLower(lookup) + "/responses/" + pointerToken(key)
	resp, ptr, err := v.resolve(raw, ptr)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	headerErr := v.checkHeaders(resp, ptr, header)
	if headerErr != nil {
		headerErr = fmt.Errorf("%s: %w", where, headerErr)
	}
	if method == http.MethodHead {
		if len(body) > 0 {
			return errors.Join(headerErr, fmt.Errorf("%s: a body in the answer to HEAD", where))
		}
		return headerErr
	}
	return errors.Join(headerErr, v.checkBody(where, ptr, resp, status, contentType, body))
}

// checkBody checks the Content-Type and the body of a response against
// the documented response resp (at pointer ptr).
func (v *responseValidator) checkBody(where, ptr string, resp map[string]any, status int, contentType string, body []byte) error {
	var err error
	content, _ := resp["content"].(map[string]any)
	mediaType := ""
	if contentType != "" {
		if mediaType, _, err = mime.ParseMediaType(contentType); err != nil {
			return fmt.Errorf("%s: malformed Content-Type %q", where, contentType)
		}
	}
	if len(content) == 0 {
		// No content described (304, 206, …): only a JSON body would be an
		// undocumented answer.
		if isJSON(mediaType) && len(bytes.TrimSpace(body)) > 0 {
			return fmt.Errorf("%s: the response documents no content, got %s %s", where, contentType, clip(body))
		}
		return nil
	}
	if len(body) == 0 {
		return fmt.Errorf("%s: empty body, documented content %v", where, keys(content))
	}
	entryKey := ""
	for _, k := range []string{mediaType, strings.Split(mediaType, "/")[0] + "/*", "*/*"} {
		if _, ok := content[k]; ok && mediaType != "" {
			entryKey = k
			break
		}
	}
	if entryKey == "" {
		return fmt.Errorf("%s: Content-Type %q not documented (documented: %v)", where, contentType, keys(content))
	}
	if !isJSON(mediaType) {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: body is not JSON: %v: %s", where, err, clip(body))
	}
	entry, _ := content[entryKey].(map[string]any)
	if _, ok := entry["schema"]; ok {
		sch, err := v.schemaAt(ptr + "/content/" + pointerToken(entryKey) + "/schema")
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := sch.Validate(inst); err != nil {
			return fmt.Errorf("%s: body does not match the documented schema: %v\nbody: %s", where, err, clip(body))
		}
		var plain any
		_ = json.Unmarshal(body, &plain)
		var extra []string
		v.undeclared([]any{entry["schema"]}, plain, "", &extra)
		if len(extra) > 0 {
			return fmt.Errorf("%s: members the documented schema does not describe: %s\nbody: %s", where,
				strings.Join(extra, ", "), clip(body))
		}
	}
	if status >= 400 {
		var errs []error
		for _, name := range []string{"Error", "OAuthError"} {
			sch, err := v.schemaAt("/components/schemas/" + name)
			if err != nil {
				return err
			}
			if err := sch.Validate(inst); err == nil {
				return nil
			} else {
				errs = append(errs, err)
			}
		}
		return fmt.Errorf("%s: error body is neither an Error nor an OAuthError: %v\nbody: %s", where, errors.Join(errs...), clip(body))
	}
	return nil
}

// checkError validates a JSON body against the Error schema, for answers
// of the router itself (unknown paths, methods) that no operation
// documents.
func (v *responseValidator) checkError(contentType string, body []byte) error {
	if mt, _, _ := mime.ParseMediaType(contentType); !isJSON(mt) {
		return fmt.Errorf("error answer is %q, not JSON", contentType)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("error body is not JSON: %v: %s", err, clip(body))
	}
	sch, err := v.schemaAt("/components/schemas/Error")
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("error body is not an Error: %v\nbody: %s", err, clip(body))
	}
	return nil
}

// flatten resolves $refs and expands allOf, oneOf and anyOf: the schemas
// whose keywords apply to one instance location.
func (v *responseValidator) flatten(schemas []any) []map[string]any {
	var out []map[string]any
	var add func(s any, depth int)
	add = func(s any, depth int) {
		m, ok := s.(map[string]any)
		if !ok || depth > 32 {
			return
		}
		if _, ok := m["$ref"]; ok {
			target, _, err := v.resolve(m, "")
			if err != nil {
				return
			}
			add(target, depth+1)
		}
		out = append(out, m)
		for _, k := range []string{"allOf", "oneOf", "anyOf"} {
			list, _ := m[k].([]any)
			for _, e := range list {
				add(e, depth+1)
			}
		}
	}
	for _, s := range schemas {
		add(s, 0)
	}
	return out
}

// undeclared lists the members of a body that its schemas do not name:
// a member of an object whose schemas list "properties" but neither the
// member nor additionalProperties. The schemas are open (they allow
// such members), so this finds what the server sends but the document
// does not describe.
func (v *responseValidator) undeclared(schemas []any, inst any, at string, out *[]string) {
	flat := v.flatten(schemas)
	switch x := inst.(type) {
	case map[string]any:
		open, listed := false, false
		props := map[string][]any{}
		for _, s := range flat {
			if ap, ok := s["additionalProperties"]; ok && ap != false {
				open = true
			}
			if p, ok := s["properties"].(map[string]any); ok {
				listed = true
				for name, sub := range p {
					props[name] = append(props[name], sub)
				}
			}
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range x {
				if !yield(k) {
					return
				}
			}
		}) {
			if subs := props[name]; len(subs) > 0 {
				v.undeclared(subs, x[name], at+"/"+name, out)
			} else if listed && !open {
				*out = append(*out, at+"/"+name)
			}
		}
	case []any:
		var items []any
		for _, s := range flat {
			if it, ok := s["items"]; ok {
				items = append(items, it)
			}
		}
		for i, e := range x {
			v.undeclared(items, e, at+"/"+strconv.Itoa(i), out)
		}
	}
}

// covered lists the operations and statuses checked, for the test log.
func (v *responseValidator) covered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.seen))
	for k, n := range v.seen {
		out = append(out, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// loadResponseValidator builds the validator of the embedded document.
func loadResponseValidator(t *testing.T) *responseValidator {
	t.Helper()
	v, err := newResponseValidator(httpapi.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestResponseValidator: the validator accepts what the document
// describes and refuses the rest — so that the end-to-end check below can
// fail.
func TestResponseValidator(t *testing.T) {
	v := loadResponseValidator(t)
	const jsonCT = "application/json; charset=utf-8"
	tests := []struct {
		name, method, path string
		status             int
		contentType, body  string
		wantErr            string // "" means valid
	}{
		{"documented write answer", "POST", "/api/hanse/v1/posts", 201, jsonCT, `{"id":"p1","position":7}`, ""},
		{"documented error", "POST", "/api/hanse/v1/posts", 404, jsonCT,
			`{"error":{"code":"not_found","message":"no such community"},"request_id":"r"}`, ""},
		{"template with parameters", "GET", "/api/hanse/v1/communities/c1/members", 200, jsonCT, `{"items":[]}`, ""},
		{"literal segment wins", "DELETE", "/api/hanse/v1/communities/c1/members/me", 200, jsonCT, `{"position":3}`, ""},
		{"query string ignored", "GET", "/api/hanse/v1/timelines/public?limit=2", 200, jsonCT, `{"items":[]}`, ""},
		{"OAuth error", "POST", "/oauth/token", 400, jsonCT, `{"error":"invalid_grant","error_description":"x"}`, ""},
		{"HTML page", "GET", "/oauth/authorize", 200, "text/html; charset=utf-8", `<!doctype html>`, ""},
		{"file without described content", "GET", "/api/hanse/v1/media/m1", 304, "", ``, ""},
		{"HEAD as GET without the body", "HEAD", "/api/hanse/v1/timelines/public", 200, jsonCT, ``, ""},
		{"HEAD with a body", "HEAD", "/api/hanse/v1/timelines/public", 200, jsonCT, `{"items":[]}`, "HEAD"},

		{"missing required field", "POST", "/api/hanse/v1/posts", 201, jsonCT, `{"id":"p1"}`, "documented schema"},
		{"wrong type", "POST", "/api/hanse/v1/posts", 201, jsonCT, `{"id":1,"position":7}`, "documented schema"},
		{"undocumented status", "POST", "/api/hanse/v1/posts", 418, jsonCT, `{}`, "status not documented"},
		{"undocumented error code", "POST", "/api/hanse/v1/posts", 404, jsonCT,
			`{"error":{"code":"gone","message":"x"}}`, "documented schema"},
		{"undocumented code of a shared response", "POST", "/api/hanse/v1/communities", 400, jsonCT,
			`{"error":{"code":"invalid","message":"x"}}`, "documented schema"},
		{"error body of the wrong shape", "POST", "/api/hanse/v1/posts", 404, jsonCT, `{"error":"not_found"}`, "documented schema"},
		{"Error instead of OAuthError", "POST", "/oauth/token", 400, jsonCT,
			`{"error":{"code":"bad_request","message":"x"}}`, "documented schema"},
		{"undocumented path", "GET", "/api/hanse/v1/nothing", 200, jsonCT, `{}`, "no documented path"},
		{"undocumented method", "PUT", "/api/hanse/v1/posts", 200, jsonCT, `{}`, "no PUT operation"},
		{"undocumented content type", "POST", "/api/hanse/v1/posts", 201, "text/plain", `ok`, "not documented"},
		{"not JSON", "POST", "/api/hanse/v1/posts", 201, jsonCT, `{"id":`, "not JSON"},
		{"empty body", "GET", "/api/hanse/v1/timelines/public", 200, jsonCT, ``, "empty body"},
		{"bad date-time", "GET", "/api/hanse/v1/communities/c1/members", 200, jsonCT,
			`{"items":[{"member":"a","state":"member","since":"yesterday"}]}`, "documented schema"},
		{"undescribed member", "POST", "/api/hanse/v1/posts", 201, jsonCT, `{"id":"p1","position":7,"secret":1}`,
			"does not describe: /secret"},
		{"undescribed nested member", "GET", "/api/hanse/v1/communities/c1/members", 200, jsonCT,
			`{"items":[{"member":"a","state":"member","since":"2024-05-01T10:00:00Z","email":"a@example.org"}]}`,
			"does not describe: /items/0/email"},
		{"undescribed member beside allOf", "POST", "/api/v1/apps", 200, jsonCT, `{"id":"c","name":"n","website":null,
			"scopes":["read"],"redirect_uri":"u","redirect_uris":["u"],"vapid_key":"","client_id":"c","client_secret":"s",
			"client_secret_expires_at":0,"owner":"x"}`, "does not describe: /owner"},
		{"maps stay open", "GET", "/api/hanse/v1/posts/p1", 200, jsonCT, `{"id":"p1","kind":"Note","author":{},
			"visibility":"public","languages":["de"],"content_map":{"de":"x","fr":"y"},"hashtags":[],"mentions":[],
			"attachments":[],"sensitive":false,"likes_count":0,"replies_count":0,"boosts_count":0,
			"created_at":"2024-05-01T10:00:00Z","pinned":false,"locked":false}`, ""},
		{"JSON where none is documented", "GET", "/api/hanse/v1/media/m1", 304, jsonCT, `{}`, "documents no content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := documentedHeaders()
			if tc.contentType != "" {
				header.Set("Content-Type", tc.contentType)
			}
			err := v.check(tc.method, tc.path, tc.status, header, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("want an error containing %q, got none", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("want an error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

// documentedHeaders are well-formed values of the headers the document
// lists on responses.
func documentedHeaders() http.Header {
	return http.Header{"X-Request-Id": {"3f9c0d4be1a2c6f07a5d8e19"}, "Location": {"https://example.org/api/hanse/v1/posts/p1"},
		"Www-Authenticate": {`Bearer realm="hanse"`}, "Retry-After": {"1"}, "Cache-Control": {"no-store"}}
}

// TestResponseValidatorHeaders: documented headers must be present
// (unless conditional) and match their schemas.
func TestResponseValidatorHeaders(t *testing.T) {
	v := loadResponseValidator(t)
	body := []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`)
	tests := []struct {
		name    string
		edit    func(http.Header)
		wantErr string
	}{
		{"all there", func(http.Header) {}, ""},
		{"request id missing", func(h http.Header) { h.Del("X-Request-Id") }, "documented header X-Request-Id missing"},
		{"Retry-After missing", func(h http.Header) { h.Del("Retry-After") }, "documented header Retry-After missing"},
		{"Retry-After not a number", func(h http.Header) { h.Set("Retry-After", "soon") }, "not an integer"},
		{"Retry-After negative", func(h http.Header) { h.Set("Retry-After", "-1") }, "does not match its schema"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := documentedHeaders()
			h.Set("Content-Type", "application/json")
			tc.edit(h)
			err := v.check("POST", "/api/hanse/v1/posts", http.StatusTooManyRequests, h, body)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("want an error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
	// A Location must be a URI reference.
	h := documentedHeaders()
	h.Set("Content-Type", "application/json")
	h.Set("Location", "http://[::1")
	if err := v.check("POST", "/api/hanse/v1/posts", http.StatusCreated, h, []byte(`{"id":"p1","position":1}`)); err == nil ||
		!strings.Contains(err.Error(), "header Location") {
		t.Errorf("malformed Location: %v", err)
	}
}

// contractClient sends requests to a running server and validates every
// response against the OpenAPI document. Reads send the newest position
// any write answered as Hanse-Min-Position (read your writes).
