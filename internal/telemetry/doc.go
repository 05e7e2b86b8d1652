// Package telemetry owns what Switchboard tells operators about itself at
// run time: the Prometheus metrics served on /metrics (their names, labels,
// buckets and help text, in one place), the HTTP middleware that counts
// requests by route template, and the net/http/pprof handlers of the
// profiling listener.
//
// It learns about the rest of the server only through plain values and
// functions: the counters are bumped through methods that take strings and
// numbers (CallCreated, DeliveryResult, StoreBatch ...), and the gauges are
// read at scrape time from the functions in Sources. internal/app wires them
// to the calls service, the notification worker, the store and the media
// engine. The package must not import any other internal package (a test
// enforces it), so that the domain never depends on how it is observed and
// the metrics never reach into the domain's internals.
//
// A nil *Metrics is valid and records nothing, so callers need no checks
// when metrics are off.
package telemetry
