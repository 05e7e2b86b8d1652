package graph

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// DefaultMaxBody is the largest request body accepted, compressed or not.
const DefaultMaxBody = 1 << 20

// readBody returns the request body, gunzipped when Content-Encoding says
// so (the Go SDK compresses by default), at most limit bytes after
// decompression.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType",
				Message: fmt.Sprintf("Content-Type %q is not supported; send application/json.", ct)}
		}
	}
	return readContent(w, r, limit)
}

// readContent reads the body whatever its Content-Type, as readBody does.
func readContent(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		// msgraph-sdk-go's retry handler resends a compressed request's
		// original, uncompressed body under the same Content-Encoding
		// (after a 429 or 503): a body that does not start as gzip does
		// is read as it is (docs/compatibility.md).
		br := bufio.NewReader(src)
		if magic, err := br.Peek(2); err == nil && (magic[0] != 0x1f || magic[1] != 0x8b) {
			src = br
			break
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			if isTooLarge(err) {
				return nil, tooLarge(limit)
			}
			return nil, badRequest("", "The request body is not valid gzip: %v.", err)
		}
		defer zr.Close()
		src = io.LimitReader(zr, limit+1)
	default:
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType",
			Message: fmt.Sprintf("Content-Encoding %q is not supported; send gzip or identity.", enc)}
	}
	b, err := io.ReadAll(src)
	switch {
	case isTooLarge(err) || int64(len(b)) > limit:
		return nil, tooLarge(limit)
	case err != nil:
		return nil, badRequest("", "The request body could not be read: %v.", err)
	}
	return b, nil
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge",
		Message: fmt.Sprintf("The request body is larger than the limit of %d bytes.", limit)}
}

// decodeJSON decodes a JSON object into v, turning every decoding problem
// into a 400 that says where it is. Unknown properties are ignored.
func decodeJSON(b []byte, v any, required bool) error {
	if len(bytes.TrimSpace(b)) == 0 {
		if required {
			return badRequest("", "A request body is required.")
		}
		return nil
	}
	if t := bytes.TrimSpace(b); t[0] != '{' {
		return badRequest("", "The request body must be a JSON object.")
	}
	if err := checkShape(b); err != nil {
		return err
	}
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ee *model.EnumError
	switch {
	case errors.As(err, &ee):
		return badRequest(ee.Enum, "Invalid value %q for %s. Allowed values: %s.", ee.Value, ee.Enum, strings.Join(ee.Allowed, ", "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return badRequest(field, "Property '%s' has the wrong type: expected %s, got a JSON %s.", field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return badRequest("", "The request body is not valid JSON: %v (at byte %d).", se, se.Offset)
	default:
		return badRequest("", "The request body could not be decoded: %v.", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	default:
		return "object"
	}
}
