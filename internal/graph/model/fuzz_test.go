package model

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// addExampleSeeds adds the example files matching glob to the fuzz corpus.
func addExampleSeeds(f *testing.F, glob string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, glob))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkStable decodes data into a T and, when that succeeds, requires that
// encoding works and that decoding and encoding again reproduces the same
// bytes: the first encoding is canonical.
func checkStable[T any](t *testing.T, data []byte) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return
	}
	first, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode after successful decode: %v", err)
	}
	var again T
	if err := json.Unmarshal(first, &again); err != nil {
		t.Fatalf("decode of own encoding failed: %v\n%s", err, first)
	}
	second, err := json.Marshal(again)
	if err != nil {
		t.Fatalf("second encode: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("encoding not stable:\nfirst  %s\nsecond %s", first, second)
	}
}

func FuzzDecodeCall(f *testing.F) {
	addExampleSeeds(f, "application-post-calls.*.json")
	addExampleSeeds(f, "call-get.*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable[Call](t, data)
	})
}

func FuzzDecodeCommsOperation(f *testing.F) {
	addExampleSeeds(f, "call-*.response.json")
	addExampleSeeds(f, "participant-*.response.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable[CommsOperation](t, data)
	})
}
