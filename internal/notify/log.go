package notify

import (
	"fmt"
	"strings"
	"time"
)

// Status is where an outbox row stands. The zero value is StatusUnknown.
type Status int

// Statuses of an outbox row.
const (
	StatusUnknown Status = iota
	// StatusPending: not yet acknowledged, and still being tried.
	StatusPending
	// StatusDelivered: the bot acknowledged it with a 2xx.
	StatusDelivered
	// StatusGaveUp: every attempt failed, or the URL was refused.
	StatusGaveUp
)

var statusNames = [...]string{StatusUnknown: "unknown", StatusPending: "pending", StatusDelivered: "delivered", StatusGaveUp: "gaveUp"}

// String returns the status as the notification log and the stores spell
// it: "pending", "delivered", "gaveUp", or "unknown".
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return statusNames[StatusUnknown]
	}
	return statusNames[s]
}

// ParseStatus is the inverse of String for the known statuses; it ignores
// case. Anything else is an error and StatusUnknown.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if i != int(StatusUnknown) && strings.EqualFold(n, s) {
			return Status(i), nil
		}
	}
	return StatusUnknown, fmt.Errorf("notify: unknown delivery status %q", s)
}

// Entry is one outbox row with its delivery state, as the notification log
// shows it. Delivery.Attempts counts every attempt made, replays included.
type Entry struct {
	Delivery
	Status Status
	// LastError is the error of the latest failed attempt; empty if none
	// failed.
	LastError string
	// DeliveredAt is when the bot acknowledged it; zero unless delivered.
	DeliveredAt time.Time
	// NextAttemptAt is when a pending row is tried next; zero if it is not
	// waiting out a backoff.
	NextAttemptAt time.Time
}
