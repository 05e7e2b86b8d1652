package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
)

// Error is a Graph error that a handler returns: an HTTP status, a Graph
// error code and a message that says what is wrong and where.
type Error struct {
	Status     int
	Code       string
	Message    string
	Target     string        // the offending property or query option, when there is one
	RetryAfter time.Duration // sent as Retry-After on 429 and 503; 0 means 1 s
	inner      *innerError   // extra innerError members (the throttling body has some)
}

func (e *Error) Error() string { return fmt.Sprintf("graph: %d %s: %s", e.Status, e.Code, e.Message) }

func badRequest(target, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf(format, args...), Target: target}
}

var (
	errNotFoundPath = &Error{Status: http.StatusNotFound, Code: "itemNotFound", Message: "The requested resource does not exist."}
)

// errorTable is the one mapping from domain errors to Graph errors. The
// first entry whose sentinel matches (errors.Is) wins; the message comes from
// the error itself unless the entry fixes one.
var errorTable = []struct {
	match   error
	status  int
	code    string
	message string // fixed message; empty: the error's own text
}{
	{calls.ErrNotFound, http.StatusNotFound, "itemNotFound", "The call does not exist or has ended."},
	{calls.ErrCallEnded, http.StatusNotFound, "itemNotFound", "The call has ended."},
	{calls.ErrNoSuchItem, http.StatusNotFound, "itemNotFound", "The requested item does not exist in this call."},
	{calls.ErrConflict, http.StatusConflict, "Conflict", ""},
	{calls.ErrInvalid, http.StatusBadRequest, "BadRequest", ""},
	{calls.ErrInvalidState, http.StatusConflict, "Conflict", ""},
	{calls.ErrForbidden, http.StatusForbidden, "Forbidden", ""},
	{calls.ErrLimit, http.StatusForbidden, "quotaLimitReached", ""},
	{calls.ErrNotImplemented, http.StatusNotImplemented, "notImplemented", ""},
	{calls.ErrUnavailable, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Retry after the interval in Retry-After."},
	{calls.ErrElsewhere, http.StatusServiceUnavailable, "serviceNotAvailable", "The call is moving between nodes. Retry after the interval in Retry-After."},
	{auth.ErrMissingToken, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."},
	{auth.ErrInvalidToken, http.StatusUnauthorized, "InvalidAuthenticationToken", ""},
}

// toGraph turns any error a handler returns into a Graph error.
func toGraph(err error) (*Error, bool) {
	var ge *Error
	if errors.As(err, &ge) {
		return ge, true
	}
	for _, row := range errorTable {
		if !errors.Is(err, row.match) {
			continue
		}
		msg := row.message
		if msg == "" {
			msg = cleanMessage(err)
		}
		out := &Error{Status: row.status, Code: row.code, Message: msg}
		var ve *calls.ValidationError
		if errors.As(err, &ve) {
			out.Target = ve.Field
		}
		return out, true
	}
	return &Error{Status: http.StatusInternalServerError, Code: "generalException", Message: "An internal error occurred; the request-id identifies it in the server log."}, false
}

// cleanMessage drops the package prefix ("calls: ") of a domain error so the
// message reads as Graph's do.
func cleanMessage(err error) string {
	var ve *calls.ValidationError
	if errors.As(err, &ve) {
		if ve.Field == "" {
			return ve.Reason
		}
		return fmt.Sprintf("Invalid request: '%s' %s.", ve.Field, ve.Reason)
	}
	var pe *calls.PermissionError
	if errors.As(err, &pe) {
		return fmt.Sprintf("The application does not have the permission for %s. It needs one of these application permissions: %v.", pe.Action, pe.Needed)
	}
	return err.Error()
}

type errorBody struct {
	Error errorMain `json:"error"`
}

type errorMain struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	Target     string     `json:"target,omitempty"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Code            string `json:"code,omitempty"`
	Date            string `json:"date"`
	Message         string `json:"message,omitempty"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
	Status          string `json:"status,omitempty"`
}

// throttled is Graph's throttling error (reference §5.5), body and all.
func throttled(retry time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "Please retry again later.",
		RetryAfter: retry, inner: &innerError{Code: "429", Message: "Please retry after", Status: "429"}}
}

// shedding is the 503 sent when the server has too much in flight.
func shedding() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
		Message: "The server is busy; retry after the interval in Retry-After.", RetryAfter: time.Second}
}

// writeError writes err as a Graph error envelope.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	ge, known := toGraph(err)
	ids := requestIDs(r)
	if !known {
		log.Error("graph: internal error", "method", r.Method, "path", r.URL.Path, "request_id", ids.requestID, "err", err)
	}
	if ge.Status == http.StatusServiceUnavailable || ge.Status == http.StatusTooManyRequests {
		secs := int(math.Ceil(ge.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	inner := innerError{}
	if ge.inner != nil {
		inner = *ge.inner
	}
	inner.Date, inner.RequestID, inner.ClientRequestID = time.Now().UTC().Format(time.RFC3339), ids.requestID, ids.clientRequestID
	body := errorBody{Error: errorMain{Code: ge.Code, Message: ge.Message, Target: ge.Target, InnerError: inner}}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(ge.Status)
	w.Write(b)
}
