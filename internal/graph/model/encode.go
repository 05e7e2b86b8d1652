package model

import (
	"bytes"
	"encoding/json"
)

// marshal encodes v like json.Marshal but without HTML escaping, so that the
// MarshalJSON methods of this package leave that choice to the caller's
// encoder (json.Marshal escapes the result again; an Encoder with
// SetEscapeHTML(false) keeps "&" in callback URIs readable).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// jsonKind names the JSON type of a value the way *json.UnmarshalTypeError does.
func jsonKind(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	switch data[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
