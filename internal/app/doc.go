// Package app builds and owns a whole Switchboard server: configuration,
// the store, the token service, the calls service, the notification worker
// and the HTTP and HTTPS listeners. New validates the configuration, Start
// brings everything up in dependency order, Ready is closed when the
// listeners accept connections, and Shutdown stops everything in reverse
// order, waiting for every goroutine it started. Tests run the same App
// in-process on port 0.
package app
