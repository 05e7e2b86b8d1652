package model

import (
	"encoding/json"
	"testing"
)

// Requests stay strict: only DecodeStored keeps an unknown value, and the
// mark it uses cannot be sent, since it is random per process.
func TestStoredEnumsOnlyThroughDecodeStored(t *testing.T) {
	var strict []Modality
	if err := json.Unmarshal([]byte(`["hologram"]`), &strict); err == nil {
		t.Fatal("a request's unknown modality decoded")
	}
	if err := json.Unmarshal([]byte(`["\u0000keep000000000000000000000000:hologram"]`), &strict); err == nil {
		t.Fatal("a guessed keep mark let an unknown modality through")
	}
	var stored struct {
		Modalities []Modality        `json:"modalities"`
		Name       string            `json:"name"`
		Extra      map[string]string `json:"extra"`
		Raw        json.RawMessage   `json:"raw"`
		Roles      map[string]any    `json:"roles"`
	}
	in := `{"modalities":["hologram","audio"],"name":"hologram","extra":{"hologram":"hologram"},"raw":["hologram"],"roles":{"x":"hologram"}}`
	if err := DecodeStored([]byte(in), &stored); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(stored)
	if string(out) != in {
		t.Fatalf("stored record written back as\n%s\nwant\n%s", out, in)
	}
}
