package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Error codes used by this package. Features define their own, in the same
// snake_case style.
const (
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInternal         = "internal_error"
	CodeBodyTooLarge     = "body_too_large"
	CodeBadRequest       = "bad_request"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeNotReady         = "not_ready"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
)

// ErrorBody is the JSON shape of every error response:
//
//	{"error":{"code":"…","message":"…"},"request_id":"…"}
type ErrorBody struct {
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"request_id,omitempty"`
}

// ErrorDetail is the error member of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the invalid input field of a validation error;
	// Reason says what is wrong with it.
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// CodeValidation is the code of a request whose field is invalid (422).
const CodeValidation = "validation_failed"

// WriteValidationError writes 422 validation_failed naming the invalid
// field and the reason:
//
//	{"error":{"code":"validation_failed","message":"name: must not be empty","field":"name","reason":"must not be empty"}}
func WriteValidationError(w http.ResponseWriter, r *http.Request, field, reason string) {
	WriteJSON(w, http.StatusUnprocessableEntity, ErrorBody{
		Error:     ErrorDetail{Code: CodeValidation, Message: field + ": " + reason, Field: field, Reason: reason},
		RequestID: RequestID(r.Context()),
	})
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only values that cannot be encoded get here: a programming error.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal_error","message":"response could not be encoded"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteError writes the shared JSON error body with the request's id.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	WriteJSON(w, status, ErrorBody{
		Error:     ErrorDetail{Code: code, Message: message},
		RequestID: RequestID(r.Context()),
	})
}

// ReadJSON decodes the request body, a single JSON value, into v. On
// failure it writes the matching error response (413 beyond the body cap,
// 415 for a non-JSON content type, 400 for malformed JSON or unknown
// fields) and returns false; the handler then just returns.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			WriteError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "request body must be JSON")
			return false
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		switch _, terr := dec.Token(); {
		case terr == io.EOF:
		case terr != nil:
			err = terr
		default:
			err = errors.New("body holds more than one JSON value")
		}
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
		return false
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("empty body")
	}
	WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid JSON body: "+err.Error())
	return false
}
