package discovery

import (
	"encoding/json"
	"net/http"
)

// Error codes of the JSON error bodies, in the shape the rest of the HTTP
// API uses: {"error":{"code":"…","message":"…"}}.
const (
	CodeInvalidResource = "invalid_resource"
	CodeNotFound        = "not_found"
	CodeGone            = "gone"
	CodeNotReady        = "not_ready"
	CodeInternal        = "internal_error"
	CodeMethod          = "method_not_allowed"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v (already known to encode) with the content type ct.
func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		ct = "application/json; charset=utf-8"
		b = []byte(`{"error":{"code":"internal_error","message":"response could not be encoded"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, "application/json; charset=utf-8", errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// onlyGet answers 405 to anything but GET and HEAD and reports whether the
// request may proceed.
func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, CodeMethod, "method "+r.Method+" not allowed")
	return false
}
