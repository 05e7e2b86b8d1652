package extapi

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every route the extension API serves is in its OpenAPI description, with
// the same method, so that the document users read stays true.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi/switchboard-extension.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	documented := make(map[string]bool)
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+param.ReplaceAllString(p, "{}")] = true
		}
	}
	for _, r := range Routes() {
		method, path, _ := strings.Cut(r, " ")
		if !documented[method+" "+param.ReplaceAllString(path, "{}")] {
			t.Errorf("%s is served but not in docs/openapi/switchboard-extension.yaml", r)
		}
	}
}
