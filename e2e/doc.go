// Package e2e holds Switchboard's end-to-end tests: they start the server
// in-process, drive it with the official Microsoft Graph Go SDK
// (msgraph-sdk-go with azidentity) and a raw net/http client, and receive
// its notifications on a real callback endpoint, the way a bot would.
//
// Every file that imports the SDK is a _test.go file of this package, so
// only `go test ./e2e/` (and go vet) pay for compiling the SDK; `go build
// ./...` does not. The package must not be imported.
package e2e
