// Package idempotency declares the port behind the Idempotency-Key support
// of Switchboard's HTTP APIs: what is remembered of a request made with a
// key, and the Store that remembers it. The HTTP side (hashing requests,
// capturing and replaying responses) is graph.WithIdempotency; the stores
// implement Store.
//
// It imports only the standard library; it must not import net/http, a
// store or internal/graph.
package idempotency

import (
	"context"
	"errors"
	"time"
)

// ErrNotHeld is returned by CompleteIdempotency and ReleaseIdempotency when
// the reservation they name is gone: it expired, or another request took
// the key over after the reservation went stale.
var ErrNotHeld = errors.New("idempotency: reservation not held")

// ErrQuota is returned by ReserveIdempotency when the scope already holds
// its quota of records and every one of them is a reservation still in
// flight, so none can make room.
var ErrQuota = errors.New("idempotency: quota of keys in flight reached")

// Response is the response remembered for a key, to be sent again to every
// retry of the request.
type Response struct {
	Status int
	// Header holds the headers worth replaying, by canonical name.
	Header map[string][]string
	Body   []byte
}

// Record is what a Store holds for one key of one scope.
type Record struct {
	// Scope is whose key it is (a tenant and application); keys of
	// different scopes are independent.
	Scope, Key string
	// RequestHash identifies the request (method, path and decoded body);
	// a retry must carry the same.
	RequestHash []byte
	// Token identifies the reservation of the request that owns the key, so
	// that a request whose reservation was taken over cannot complete it.
	Token string
	// Response is nil while the request that owns the key is in flight.
	Response *Response
	// CreatedAt is when the key was reserved; ExpiresAt is when the record
	// stops counting and may be deleted.
	CreatedAt, ExpiresAt time.Time
}

// Store remembers idempotency records. Implementations must be safe for
// concurrent use, and ReserveIdempotency must be atomic: of two concurrent
// reservations of one key, exactly one succeeds, on every node that shares
// the store.
type Store interface {
	// ReserveIdempotency stores rec, with no Response, as the reservation of
	// (rec.Scope, rec.Key) and reports true, unless a record for that key
	// counts: one that has not expired at now and either has a Response or
	// was reserved at or after staleBefore. Then it stores nothing and
	// returns that record and false. The store may delete records expired
	// at now whenever it likes, this call included.
	//
	// A quota above zero bounds the records one scope holds. When storing
	// rec would add a record to a scope that holds quota records already,
	// the store first deletes as many of that scope's records as needed,
	// oldest (by CreatedAt) first, among those that are not reservations
	// in flight (completed, expired, or reserved before staleBefore); other
	// scopes' records are never touched. If that cannot make room it stores
	// nothing and returns an error wrapping ErrQuota.
	ReserveIdempotency(ctx context.Context, rec Record, now, staleBefore time.Time, quota int) (existing Record, reserved bool, err error)
	// CompleteIdempotency stores the response of the reservation token of
	// (scope, key). It returns an error wrapping ErrNotHeld if the key is no
	// longer reserved with token.
	CompleteIdempotency(ctx context.Context, scope, key, token string, resp Response) error
	// ReleaseIdempotency deletes the reservation token of (scope, key), so
	// that the next request with the key runs afresh. It returns an error
	// wrapping ErrNotHeld if the key is no longer reserved with token.
	ReleaseIdempotency(ctx context.Context, scope, key, token string) error
}
