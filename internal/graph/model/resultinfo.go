package model

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
)

// ResultInfo is the outcome of a call or operation (Graph resultInfo), for
// example code 200, subcode 5001, "The conversation has ended.".
//
// Code and Subcode always encode as JSON numbers under "code" and "subcode".
// Decoding also accepts numeric strings ("code": "200") and the key "subCode",
// both of which appear in the docs' examples; when "subcode" and "subCode" are
// both present, "subcode" wins.
type ResultInfo struct {
	ODataType string  `json:"@odata.type,omitempty"`
	Code      int32   `json:"code"`
	Subcode   int32   `json:"subcode"`
	Message   *string `json:"message,omitempty"`
}

// EffectiveType returns ODataType, or TypeResultInfo when it is empty.
func (r ResultInfo) EffectiveType() string {
	if r.ODataType != "" {
		return r.ODataType
	}
	return TypeResultInfo
}

// MarshalJSON encodes the result with its EffectiveType as "@odata.type".
func (r ResultInfo) MarshalJSON() ([]byte, error) {
	type alias ResultInfo
	a := alias(r)
	a.ODataType = r.EffectiveType()
	return marshal(a)
}

// resultInfoWire is the tolerant decoding shape of ResultInfo.
type resultInfoWire struct {
	ODataType string        `json:"@odata.type"`
	Code      lenientInt32  `json:"code"`
	Subcode   *lenientInt32 `json:"subcode"`
	SubCode   *lenientInt32 `json:"subCode"`
	Message   *string       `json:"message"`
}

// UnmarshalJSON decodes a resultInfo object; see ResultInfo for the accepted
// forms. A non-object is a *json.UnmarshalTypeError.
func (r *ResultInfo) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[ResultInfo]()}
	}
	var w resultInfoWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = ResultInfo{ODataType: w.ODataType, Code: int32(w.Code), Message: w.Message}
	switch {
	case w.Subcode != nil:
		r.Subcode = int32(*w.Subcode)
	case w.SubCode != nil:
		r.Subcode = int32(*w.SubCode)
	}
	return nil
}

// lenientInt32 decodes an Int32 given as a JSON number or a numeric string.
type lenientInt32 int32

// UnmarshalJSON accepts null (leaving the value unchanged), an integer number
// or a string holding one; anything else is a *json.UnmarshalTypeError.
func (n *lenientInt32) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	text := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &text); err != nil {
			return err
		}
	} else if len(data) == 0 || !(data[0] == '-' || data[0] >= '0' && data[0] <= '9') {
		return &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[int32]()}
	}
	v, err := strconv.ParseInt(text, 10, 32)
	if err != nil {
		value := "number " + text
		if data[0] == '"' {
			value = "string"
		}
		return &json.UnmarshalTypeError{Value: value, Type: reflect.TypeFor[int32]()}
	}
	*n = lenientInt32(v)
	return nil
}
