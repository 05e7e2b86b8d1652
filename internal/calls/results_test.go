package calls

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/result-codes.md")

// TestResultCodesDoc keeps docs/result-codes.md generated from Results.
func TestResultCodesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "result-codes.md")
	want := ResultCodesMarkdown()
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s is stale; run go test ./internal/calls -run TestResultCodesDoc -update-docs", path)
	}
	seen := map[*ResultInfo]bool{}
	for _, r := range Results {
		if seen[r.Info] {
			t.Errorf("%+v listed twice", *r.Info)
		}
		seen[r.Info] = true
	}
}
