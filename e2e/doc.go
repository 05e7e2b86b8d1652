// Package e2e holds Switchboard's end-to-end tests: they start the server
// in-process, drive it with the official Microsoft Graph Go SDK
// (msgraph-sdk-go with azidentity) and a raw net/http client, and receive
// its notifications on a real callback endpoint, the way a bot would.
//
// Every file that imports the SDK is a _test.go file of this package, so
// only `go test ./e2e/` (and go vet) pay for compiling the SDK; `go build
// ./...` does not. The package must not be imported.
//
// The phone tests (phones_test.go) call the server from real SIP phones:
// baresip (a softphone that speaks a WAV and records what it hears) and
// sipp (scripted calls, RFC 4733 and in-band DTMF), with test audio made
// by espeak-ng and sox. They run in real time against the server's SIP
// listener and media engine, each peer a child process in a temporary
// directory under `timeout -k`, killed when the test ends and its output
// printed when the test fails (sippeers_test.go). Without the programs
// they skip, unless SWITCHBOARD_SIP_PEERS=1 (scripts/test installs them
// with apt-get and sets it), which makes a missing one a failure naming
// its Debian package.
//
// With SWITCHBOARD_E2E_CLUSTER=1 (scripts/test's second run), every server
// the harness starts is two nodes on one PostgreSQL database behind a
// round-robin load balancer (clusterrun_test.go), and the clients open a
// connection per request, so about half the requests reach a node that
// does not own the call and are forwarded. The phone tests skip there;
// TestCluster, which starts its own three node processes, runs in the
// single-node run.
package e2e
