package calls

import (
	"errors"
	"fmt"
)

// Sentinel errors of the domain. The HTTP layer maps each to one Graph error
// envelope; match them with errors.Is.
var (
	// ErrNotFound: no such call for this application, or it has ended.
	ErrNotFound = errors.New("calls: call not found")
	// ErrNoSuchItem: the call exists but the participant, operation, audio
	// routing group or content sharing session asked for does not.
	ErrNoSuchItem = errors.New("calls: item not found in this call")
	// ErrConflict: the item already exists, or the request clashes with one in progress.
	ErrConflict = errors.New("calls: conflict")
	// ErrCallEnded: the call has already ended.
	ErrCallEnded = errors.New("calls: call has ended")
	// ErrInvalidState: the command is not allowed in the call's current state.
	ErrInvalidState = errors.New("calls: command not allowed in this state")
	// ErrInvalid: the request is malformed; a *ValidationError says where.
	ErrInvalid = errors.New("calls: invalid request")
	// ErrForbidden: the application lacks a permission; a *PermissionError names it.
	ErrForbidden = errors.New("calls: permission missing")
	// ErrUnavailable: the service is shutting down or its store failed.
	ErrUnavailable = errors.New("calls: service unavailable")
	// ErrNotImplemented: the server lacks what the command needs (media).
	ErrNotImplemented = errors.New("calls: not available")
	// ErrLimit: a configured quota is reached; a *LimitError says which.
	ErrLimit = errors.New("calls: limit reached")
)

// ValidationError says which property of a request is wrong and why. It
// matches ErrInvalid.
type ValidationError struct {
	Field  string // JSON path of the property, such as "targets[0].identity"
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "calls: invalid request: " + e.Reason
	}
	return fmt.Sprintf("calls: invalid request: %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// PermissionError names the application permission (app role) that a command
// needs. It matches ErrForbidden.
type PermissionError struct {
	Needed []string // any one of these roles grants the command
	Action string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("calls: %s requires one of the application permissions %v", e.Action, e.Needed)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *PermissionError) Is(target error) bool { return target == ErrForbidden }

// LimitError says which quota a command would exceed. It matches ErrLimit.
type LimitError struct {
	What  string
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("calls: the application already has %d %s, its limit", e.Limit, e.What)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }
