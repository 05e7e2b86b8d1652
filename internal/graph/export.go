package graph

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
)

// This file exports the Graph error envelope and request decoding to the
// other HTTP APIs on the listener (internal/extapi), so that every error
// Switchboard sends has one shape and one mapping table.

// WriteError writes err as a Graph error envelope: an *Error as it is, a
// domain error through the one error table, anything else as a logged 500.
// A nil log means slog.Default().
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if log == nil {
		log = slog.Default()
	}
	writeError(w, r, log, err)
}

// NewError returns a Graph error with the HTTP status, the Graph error code
// and a message that says what is wrong.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest returns a 400 BadRequest Graph error about target (a property
// or query option; empty for none).
func BadRequest(target, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: message, Target: target}
}

// ReadBody returns the request body as the Graph API reads it: a JSON
// Content-Type (or none), gunzipped when Content-Encoding says so, at most
// limit bytes after decompression (limit <= 0 means DefaultMaxBody). Its
// errors are Graph errors (400, 413, 415).
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	return readBody(w, r, limit)
}

// ReadContent returns a request body that is not JSON, such as a file:
// its Content-Type, when there is one, must be one of mediaTypes (415
// otherwise); the rest is as ReadBody.
func ReadContent(w http.ResponseWriter, r *http.Request, limit int64, mediaTypes ...string) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(mediaTypes, mt) {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType",
				Message: fmt.Sprintf("Content-Type %q is not supported; send %s.", ct, mediaTypes[0])}
		}
	}
	return readContent(w, r, limit)
}

// DecodeJSON decodes a JSON object body into v as the Graph API does: shape
// limits first, then precise 400s for malformed JSON, wrong types and bad
// enum values. An empty body is an error.
func DecodeJSON(body []byte, v any) error {
	return decodeJSON(body, v, true)
}
