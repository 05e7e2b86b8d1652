package model

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// A server keeps what it accepted (a call's request, its roster and
// operations) as JSON, and the nodes of a cluster may run different
// builds for a while: a newer one may store an enum value that an older
// one does not know. DecodeStored reads such a record anyway and keeps the
// value as it is, so that the older node neither fails nor loses it when it
// writes the record back. Requests are still decoded strictly.

// keepMark prefixes a string value that DecodeStored marked for an enum
// to take verbatim. It is random per process, so no request can carry it.
var keepMark = func() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("\x00keep%x:", b[:])
}()

// maxUnknownEnums bounds the distinct unknown values one record may hold.
const maxUnknownEnums = 64

// DecodeStored is json.Unmarshal for JSON this server stored, perhaps a
// newer build of it: an enum value this build does not know is kept as it
// is (a newer value, passed through unchanged) instead of failing. v must
// point to a zero value.
func DecodeStored(data []byte, v any) error {
	for i := range maxUnknownEnums {
		err := json.Unmarshal(data, v)
		var ee *EnumError
		if !errors.As(err, &ee) {
			if err == nil && i > 0 { // only a record that was marked
				unmark(reflect.ValueOf(v))
			}
			return err
		}
		marked, ok := markValue(data, ee.Value)
		if !ok {
			return err
		}
		data = marked
	}
	return errors.New("model: too many unknown enum values in a stored record")
}

// markValue prefixes every string value (not object key) equal to value
// with keepMark, and reports whether it found one.
func markValue(data []byte, value string) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct{ obj, wantKey bool }
	var stack []frame
	var out bytes.Buffer
	copied, found := 0, false
	done := func() { // a value ended: in an object, a key comes next
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
			continue
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				stack[n-1].wantKey = false
				continue
			}
			if t == value {
				end := int(dec.InputOffset())
				q := int(start) + bytes.IndexByte(data[start:end], '"')
				out.Write(data[copied:q])
				enc, _ := json.Marshal(keepMark + t)
				out.Write(enc)
				copied, found = end, true
			}
		}
		done()
	}
	out.Write(data[copied:])
	return out.Bytes(), found
}

// escapedMark is keepMark as json.Marshal writes it inside raw JSON.
var escapedMark = func() []byte {
	b, _ := json.Marshal(keepMark)
	return b[1 : len(b)-1]
}()

// unmark removes keepMark from the strings that are not enums (a plain
// string that happened to equal an unknown enum value) and from raw JSON.
func unmark(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if e := v.Elem(); e.Kind() == reflect.String && v.CanSet() {
			if s, ok := strings.CutPrefix(e.String(), keepMark); ok {
				v.Set(reflect.ValueOf(s).Convert(e.Type()))
			}
			return
		}
		unmark(v.Elem())
	case reflect.Pointer:
		if !v.IsNil() {
			unmark(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				unmark(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.CanSet() && bytes.Contains(v.Bytes(), escapedMark) {
				v.SetBytes(bytes.ReplaceAll(v.Bytes(), escapedMark, nil))
			}
			return
		}
		for i := range v.Len() {
			unmark(v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			unmark(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if s := e; s.Kind() == reflect.Interface && !s.IsNil() && s.Elem().Kind() == reflect.String || s.Kind() == reflect.String {
				if s.Kind() == reflect.Interface {
					s = s.Elem()
				}
				if t, ok := strings.CutPrefix(s.String(), keepMark); ok {
					v.SetMapIndex(k, reflect.ValueOf(t).Convert(s.Type()))
				}
				continue
			}
			if e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer || e.Kind() == reflect.Slice || e.Kind() == reflect.Map {
				unmark(e) // shared with the map: changes show through
			}
		}
	case reflect.String:
		if v.CanSet() && strings.HasPrefix(v.String(), keepMark) {
			v.SetString(strings.TrimPrefix(v.String(), keepMark))
		}
	}
}
