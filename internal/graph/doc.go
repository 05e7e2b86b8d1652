// Package graph is Switchboard's HTTP face of the Microsoft Graph calls API:
// one route table under /v1.0 and /beta (with the legacy /app/calls alias and
// case-insensitive path segments), request decoding (gzip, size limits,
// precise 400s), OData query options, and the Graph error envelope.
//
// It translates between HTTP and the calls service and owns no state of its
// own. Exactly one table (errors.go) maps domain errors to Graph errors; a
// handler never writes an error body by hand. It must not import a store or
// touch SQL; the wire types live in the leaf package graph/model.
package graph
