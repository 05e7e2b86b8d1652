package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/cluster"
)

const contentTypeJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// agsDiagnostic is sent as x-ms-ags-diagnostic, which Graph's best-practice
// docs tell clients to log with request-id.
const agsDiagnostic = `{"ServerInfo":{"DataCenter":"Switchboard","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"switchboard"}}`

// agsDiagnosticValue and contentTypeValue are shared header values: nothing
// changes a header's values in place, and net/http copies them when it
// writes the header.
var (
	agsDiagnosticValue = []string{agsDiagnostic}
	contentTypeValue   = []string{contentTypeJSON}
)

type ctxKey int

const idsKey ctxKey = iota

type ids struct {
	requestID       string
	clientRequestID string
}

func requestIDs(r *http.Request) ids {
	if v, ok := r.Context().Value(idsKey).(ids); ok {
		return v
	}
	return ids{}
}

// WithRequestIDs gives every response the request-id and client-request-id
// headers (the client's id echoed, or the request id when it sent none) and
// makes them available to error envelopes.
func WithRequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := ids{requestID: forwardedRequestID(r), clientRequestID: r.Header.Get("client-request-id")}
		if v.requestID == "" {
			v.requestID = newRequestID()
		}
		if v.clientRequestID == "" || len(v.clientRequestID) > 128 {
			v.clientRequestID = v.requestID
		}
		// Set in canonical form directly: every response pays for these,
		// and Header.Set would canonicalise and allocate each one.
		h := w.Header()
		vals := []string{v.requestID, v.clientRequestID}
		h["Request-Id"] = vals[0:1:1]
		h["Client-Request-Id"] = vals[1:2:2]
		h["X-Ms-Ags-Diagnostic"] = agsDiagnosticValue
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), idsKey, v)))
	})
}

// forwardedRequestID is the request id another node gave a request it
// forwarded here, when it has the form of one; "" otherwise. (A forged
// forward is refused later, by the API; its id only names it in logs.)
func forwardedRequestID(r *http.Request) string {
	if r.Header.Get(cluster.HeaderBy) == "" {
		return ""
	}
	id := r.Header.Get(cluster.HeaderRequestID)
	if len(id) != 36 {
		return ""
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return ""
		}
	}
	return id
}

// WithRecovery turns a panic in a handler into a logged 500 Graph error, so
// one bad request never takes the server down.
// A nil log means slog.Default().
func WithRecovery(log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("graph: panic in handler", "path", r.URL.Path, "request_id", requestIDs(r).requestID, "panic", fmt.Sprint(p))
				writeError(w, r, log, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// newRequestID returns a random version 4 UUID, as Graph's request ids are.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// literals are the fixed path segments of the Graph routes. NormalizePath
// lower-cases them wherever they occur, so that routes match in any case
// while ids keep theirs.
var literals = func() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{
		"v1.0", "beta", "communications", "app", "calls", "participants", "operations",
		"audioRoutingGroups", "contentSharingSessions", "logTeleconferenceDeviceQuality", "invite",
		"answer", "reject", "redirect", "transfer", "keepAlive", "playPrompt", "recordResponse",
		"cancelMediaProcessing", "subscribeToTone", "sendDtmfTones", "mute", "unmute",
		"changeScreenSharingRole", "updateRecordingStatus", "addLargeGalleryView",
		"startHoldMusic", "stopHoldMusic", "$count",
	} {
		m[strings.ToLower(s)] = strings.ToLower(s)
	}
	return m
}()

// NormalizePath rewrites a Graph request path to the route table's form:
// known segments in lower case, the "microsoft.graph." namespace prefix of
// actions removed, and the deprecated /app/calls alias mapped to
// /communications/calls.
func NormalizePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		l := strings.ToLower(s)
		if strings.HasPrefix(l, "microsoft.graph.") && i > 0 {
			l = l[len("microsoft.graph."):]
		}
		if lit, ok := literals[l]; ok {
			segs[i] = lit
		}
	}
	// /{version}/app/calls/... -> /{version}/communications/calls/...
	if len(segs) >= 4 && segs[2] == "app" && segs[3] == "calls" {
		segs[2] = "communications"
	}
	return strings.Join(segs, "/")
}
