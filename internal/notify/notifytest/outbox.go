// Package notifytest provides a hand-written in-memory notify.Outbox for
// tests of the notify worker and of its users.
package notifytest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// ErrNotFound is returned when a result names a delivery the outbox lacks.
var ErrNotFound = errors.New("notifytest: no such delivery")

// Row is the stored state of one delivery.
type Row struct {
	notify.Delivery
	Delivered   bool
	DeliveredAt time.Time
	GaveUp      bool
	NextAttempt time.Time
	LastError   string
}

type key struct {
	callID string
	seq    int64
}

// MemoryOutbox is a notify.Outbox, and a notify.PendingForCalls, kept in
// memory. Its zero value is an empty outbox ready to use; it is safe for
// concurrent use.
type MemoryOutbox struct {
	mu   sync.Mutex
	rows map[key]*Row
}

// Add stores deliveries as the calls service's transaction would. A row that
// already exists is left as it is.
func (o *MemoryOutbox) Add(ds ...notify.Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rows == nil {
		o.rows = make(map[key]*Row)
	}
	for _, d := range ds {
		k := key{d.CallID, d.Seq}
		if _, ok := o.rows[k]; !ok {
			o.rows[k] = &Row{Delivery: d}
		}
	}
}

// Row returns the stored state of a delivery.
func (o *MemoryOutbox) Row(callID string, seq int64) (Row, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.rows[key{callID, seq}]
	if !ok {
		return Row{}, false
	}
	return *r, true
}

// Load reads a row back as Pending returns rows, for notify.Config.Load. It
// returns ErrNotFound if there is no such row.
func (o *MemoryOutbox) Load(ctx context.Context, callID string, seq int64) (notify.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return notify.Delivery{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.rows[key{callID, seq}]
	if !ok {
		return notify.Delivery{}, fmt.Errorf("%w: %s/%d", ErrNotFound, callID, seq)
	}
	return r.Delivery, nil
}

// Pending implements notify.Outbox.
func (o *MemoryOutbox) Pending(ctx context.Context) ([]notify.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var ds []notify.Delivery
	for _, r := range o.rows {
		if !r.Delivered && !r.GaveUp {
			ds = append(ds, r.Delivery)
		}
	}
	slices.SortFunc(ds, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.CallID, b.CallID), cmp.Compare(a.Seq, b.Seq))
	})
	return ds, nil
}

// PendingFor implements notify.PendingForCalls.
func (o *MemoryOutbox) PendingFor(ctx context.Context, callIDs []string) ([]notify.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(callIDs) == 0 {
		return nil, nil
	}
	all, err := o.Pending(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d notify.Delivery) bool { return !slices.Contains(callIDs, d.CallID) }), nil
}

// Delivered implements notify.Outbox.
func (o *MemoryOutbox) Delivered(ctx context.Context, callID string, seq int64, at time.Time, attempts int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.rows[key{callID, seq}]
	if !ok {
		return ErrNotFound
	}
	// A replay can deliver a row that was given up; it is delivered now.
	r.Delivered, r.DeliveredAt, r.Attempts, r.GaveUp = true, at, attempts, false
	r.NextAttempt = time.Time{}
	return nil
}

// Attempted implements notify.Outbox.
func (o *MemoryOutbox) Attempted(ctx context.Context, callID string, seq int64, attempts int, nextAttempt time.Time, lastError string, gaveUp bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.rows[key{callID, seq}]
	if !ok {
		return ErrNotFound
	}
	r.Attempts, r.NextAttempt, r.LastError, r.GaveUp = attempts, nextAttempt, lastError, gaveUp
	return nil
}

// Record implements notify.Outbox.
func (o *MemoryOutbox) Record(ctx context.Context, results []notify.Result) error {
	var errs []error
	for _, r := range results {
		var err error
		if r.Delivered {
			err = o.Delivered(ctx, r.CallID, r.Seq, r.At, r.Attempts)
		} else {
			err = o.Attempted(ctx, r.CallID, r.Seq, r.Attempts, r.At, r.LastError, r.GaveUp)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", r.CallID, r.Seq, err))
		}
	}
	return errors.Join(errs...)
}
