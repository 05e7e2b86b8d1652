// Package baseline is the bare net/http server that Switchboard's GET
// throughput is compared with: the same URL shape and Content-Type and a
// call body of the same size, kept pre-serialised in a map, with no
// authentication, logging, middleware or JSON encoding. It measures what
// net/http on this machine can do, so "GET ≥ 0.7× baseline" means
// "Switchboard spends no more than the HTTP stack itself on a GET".
//
// It must not import Switchboard's internal packages, and uses the standard
// library only.
package baseline
