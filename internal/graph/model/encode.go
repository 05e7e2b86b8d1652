package model

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// marshal encodes v like json.Marshal but without HTML escaping, so that the
// MarshalJSON methods of this package leave that choice to the caller's
// encoder (json.Marshal escapes the result again; an Encoder with
// SetEscapeHTML(false) keeps "&" in callback URIs readable).
//
// It encodes in one pass: a value of this package that has an
// EffectiveType is written inline, its "@odata.type" taken from
// EffectiveType, as its MarshalJSON would write it. Going through
// encoding/json instead calls each nested MarshalJSON and then validates
// and compacts its output at every level above, which made encoding a call
// cost several times the encoding itself.
func marshal(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 256)}
	if err := e.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type encoder struct{ buf []byte }

// typed is implemented by the types whose "@odata.type" defaults to what
// their fields imply.
type typed interface{ EffectiveType() string }

var (
	typedType         = reflect.TypeFor[typed]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	// notInline are typed types whose MarshalJSON does more than set
	// "@odata.type"; they are encoded through it.
	notInline = map[reflect.Type]bool{reflect.TypeFor[CommsNotifications](): true}
)

func (e *encoder) value(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Struct && t.Implements(typedType) && !notInline[t] {
		return e.structValue(v, true)
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		switch {
		case t.Implements(marshalerType):
			b, err := v.Interface().(json.Marshaler).MarshalJSON()
			if err != nil {
				return err
			}
			return e.compact(b)
		case t.Implements(textMarshalerType):
			return e.std(v)
		}
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem())
	case reflect.String:
		e.buf = appendString(e.buf, v.String())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Struct:
		return e.structValue(v, false)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return e.std(v) // base64, as encoding/json does
		}
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	default: // floats, maps, ...: exactly as encoding/json writes them
		return e.std(v)
	}
	return nil
}

func (e *encoder) array(v reflect.Value) error {
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// structValue writes a struct's fields; for a typed struct, "@odata.type"
// is its EffectiveType.
func (e *encoder) structValue(v reflect.Value, isTyped bool) error {
	info := structInfoOf(v.Type())
	if info.fallback {
		return e.std(v)
	}
	e.buf = append(e.buf, '{')
	first := true
	for _, f := range info.fields {
		fv := v.Field(f.index)
		var odata string
		if f.odataType && isTyped {
			odata = effectiveType(v)
		} else if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.key...)
		if f.odataType && isTyped {
			e.buf = appendString(e.buf, odata)
			continue
		}
		if err := e.value(fv); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// effectiveType calls EffectiveType without copying v when it can.
func effectiveType(v reflect.Value) string {
	if v.CanAddr() {
		return v.Addr().Interface().(typed).EffectiveType()
	}
	return v.Interface().(typed).EffectiveType()
}

// std appends v as encoding/json writes it, without HTML escaping.
func (e *encoder) std(v reflect.Value) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v.Interface()); err != nil {
		return err
	}
	e.buf = append(e.buf, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	return nil
}

// compact appends a MarshalJSON result, compacted as encoding/json does.
func (e *encoder) compact(b []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	e.buf = append(e.buf, buf.Bytes()...)
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type fieldInfo struct {
	index     int
	key       []byte // "name":
	omitEmpty bool
	odataType bool
}

type structInfo struct {
	fields []fieldInfo
	// fallback: a struct this encoder does not mirror exactly (embedded
	// fields, tag options other than omitempty), left to encoding/json.
	fallback bool
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			info.fallback = true
			break
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" {
			info.fallback = true
			break
		}
		if name == "" {
			name = sf.Name
		}
		key := appendString(nil, name)
		info.fields = append(info.fields, fieldInfo{
			index: i, key: append(key, ':'), omitEmpty: opts == "omitempty",
			odataType: name == "@odata.type" && sf.Type.Kind() == reflect.String,
		})
	}
	v, _ := structInfos.LoadOrStore(t, info)
	return v.(*structInfo)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does
// without HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
