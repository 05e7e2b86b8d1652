package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func TestSIPConfigFromYAML(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"accounts, contacts and trunks", `
sip:
  listen: 127.0.0.1:0
  rtpPorts: 20000-20100
  accounts:
    - username: alice
      user: 7a000000-0000-4000-8000-00000000a11c
      password: secret
  contacts:
    - phone: "+15550100"
      uri: sip:echo@127.0.0.1:5070
  trunks:
    - name: carrier
      address: 127.0.0.1:5080
      numbers: ["+1555*"]
      allowFrom: [127.0.0.1/32]
`, ""},
		{"an account without a username", `
sip:
  accounts:
    - user: u1
      password: secret
`, "sip.accounts[0].username"},
		{"a backwards port range", `
sip:
  rtpPorts: 20100-20000
`, "sip.rtpPorts"},
		{"a listener that is not an address", `
sip:
  listen: phones.example:5060
`, "sip.listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "switchboard.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := app.Defaults()
			err := cfg.LoadFile(path)
			if err == nil {
				err = cfg.Validate()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid configuration refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v; want one naming %s", err, tc.wantErr)
			}
		})
	}
}
