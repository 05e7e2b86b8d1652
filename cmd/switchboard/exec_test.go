package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execChildEnv makes this test binary act as the command that exec runs
// (TestExecChild), instead of running the tests.
const execChildEnv = "SWITCHBOARD_TEST_EXEC_CHILD"

// TestExecChild is the command exec runs in TestExec: it reaches the
// server with what the environment gives it (a token over HTTPS, trusting
// the development CA from SWITCHBOARD_CA) and exits with the status it was
// told to, or 10 when something is missing.
func TestExecChild(t *testing.T) {
	if os.Getenv(execChildEnv) == "" {
		t.Skip("the command of TestExec")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(10)
	}
	ca, err := os.ReadFile(os.Getenv("SWITCHBOARD_CA"))
	if err != nil {
		fail("SWITCHBOARD_CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	res, err := client.PostForm(os.Getenv("SWITCHBOARD_HTTPS_URL")+"/"+os.Getenv("AZURE_TENANT_ID")+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {os.Getenv("AZURE_CLIENT_ID")},
		"client_secret": {os.Getenv("AZURE_CLIENT_SECRET")}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil || res.StatusCode != 200 {
		fail("a token over HTTPS from the environment's server and credentials: %v %v", res, err)
	}
	if res, err := http.Get(os.Getenv("SWITCHBOARD_URL") + "/switchboard/v1/health"); err != nil || res.StatusCode != 200 {
		fail("SWITCHBOARD_URL's health: %v %v", res, err)
	}
	if os.Getenv("SSL_CERT_FILE") != "" {
		if b, err := os.ReadFile(os.Getenv("SSL_CERT_FILE")); err != nil || !strings.Contains(string(b), strings.TrimSpace(string(ca))) {
			fail("SSL_CERT_FILE does not hold the development CA: %v", err)
		}
	}
	fmt.Println("child reached", os.Getenv("SWITCHBOARD_URL"))
	os.Exit(map[string]int{"ok": 0, "three": 3}[os.Getenv(execChildEnv)])
}

// switchboard exec runs a command against a throwaway development server,
// with the variables to reach it, and exits with the command's status;
// --keep-data keeps the data directory.
func TestExec(t *testing.T) {
	child := func(status string) []string {
		t.Setenv(execChildEnv, status)
		return []string{os.Args[0], "-test.run=^TestExecChild$"}
	}
	out, errOut, err := sb(t, append([]string{"exec", "--"}, child("ok")...)...)
	if err != nil || !strings.Contains(out, "child reached http://127.0.0.1:") {
		t.Fatalf("exec: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	kept := filepath.Join(t.TempDir(), "kept")
	_, errOut, err = sb(t, append([]string{"exec", "--keep-data", kept, "--"}, child("three")...)...)
	if status, ok := err.(exitStatus); !ok || status.code != 3 {
		t.Fatalf("exec of a command that exits 3: %v\n%s", err, errOut)
	}
	if _, err := os.Stat(filepath.Join(kept, "dev-ca.pem")); err != nil {
		t.Errorf("--keep-data did not keep the data directory: %v", err)
	}
	if _, _, err := sb(t, "exec"); err == nil || !strings.Contains(err.Error(), "no command") {
		t.Errorf("exec without a command: %v", err)
	}
}

// switchboard env prints the same variables as shell exports.
func TestEnv(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustSB(t, "env", "--url", "http://127.0.0.1:9", "--data", dir)
	for _, want := range []string{"export SWITCHBOARD_URL='http://127.0.0.1:9'", "export AZURE_CLIENT_SECRET=", "export NODE_EXTRA_CA_CERTS='" + filepath.Join(dir, "dev-ca.pem") + "'"} {
		if !strings.Contains(out, want) {
			t.Errorf("env printed:\n%s\nwant %s", out, want)
		}
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote: %s", got)
	}
}
