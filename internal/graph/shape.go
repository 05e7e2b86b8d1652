package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Limits on the shape of any JSON request body, checked before it is
// decoded, so that hostile input costs little and fails with a 400 naming
// the place. Endpoint-specific limits (targets, prompts, clientContext) are
// checked by the domain.
const (
	MaxJSONDepth    = 32
	MaxJSONString   = 16 << 10
	MaxJSONArrayLen = 256
)

type frame struct {
	array bool
	key   string // object: the current member; array: unused
	n     int    // array: elements so far
}

// checkShape walks a JSON document's tokens and refuses one that nests too
// deeply, has a string that is too long or an array with too many elements.
// Syntax errors are left to the decoder, which reports them better.
func checkShape(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []frame
	expectKey := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the decoder reports syntax errors
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			expectKey = len(stack) > 0 && !stack[len(stack)-1].array
			continue
		}
		if expectKey {
			k, _ := tok.(string)
			if len(k) > MaxJSONString {
				return badRequest(path(stack), "A property name is longer than %d bytes.", MaxJSONString)
			}
			stack[len(stack)-1].key = k
			expectKey = false
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1].array {
			top := &stack[len(stack)-1]
			top.n++
			if top.n > MaxJSONArrayLen {
				at := path(stack[:len(stack)-1])
				return badRequest(at, "Array '%s' has more than %d elements.", at, MaxJSONArrayLen)
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			if len(stack) >= MaxJSONDepth {
				return badRequest(path(stack), "The request body nests deeper than %d levels at '%s'.", MaxJSONDepth, path(stack))
			}
			stack = append(stack, frame{array: v == '['})
			expectKey = v == '{'
			continue
		case string:
			if len(v) > MaxJSONString {
				return badRequest(path(stack), "Property '%s' is longer than %d bytes.", path(stack), MaxJSONString)
			}
		}
		expectKey = len(stack) > 0 && !stack[len(stack)-1].array
	}
}

// path renders the location of the current value, like "targets[2].identity".
func path(stack []frame) string {
	var b strings.Builder
	for i, f := range stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(max(f.n-1, 0)) + "]")
			continue
		}
		if f.key == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	return b.String()
}
