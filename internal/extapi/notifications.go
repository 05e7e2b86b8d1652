package extapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

const (
	// defaultTop and maxTop bound a page of the notification log.
	defaultTop = 100
	maxTop     = 1000
	// maxReplay bounds the notifications one replay request sends again;
	// the response says where it stopped.
	maxReplay = 10000
	// replayPage is how many rows a replay reads from the store, and hands
	// to the Replayer, at a time, so that a request holds one page of
	// bodies rather than maxReplay of them.
	replayPage = 1000
	// replayRetryAfter is the Retry-After of a replay refused because too
	// many are queued: about what a healthy bot takes to drain a page.
	replayRetryAfter = 10 * time.Second
	// maxReplayBody bounds a replay request's body.
	maxReplayBody = 4 << 10
)

// notification is one entry of the notification log on the wire.
type notification struct {
	Sequence            int64           `json:"sequence"`
	ChangeType          *string         `json:"changeType"`
	ResourceURL         *string         `json:"resourceUrl"`
	Status              string          `json:"status"`
	Attempts            int             `json:"attempts"`
	LastError           *string         `json:"lastError"`
	CreatedDateTime     *string         `json:"createdDateTime"`
	DeliveredDateTime   *string         `json:"deliveredDateTime"`
	NextAttemptDateTime *string         `json:"nextAttemptDateTime"`
	CallbackURI         string          `json:"callbackUri"`
	Body                json.RawMessage `json:"body"`
}

type notificationPage struct {
	Value    []notification `json:"value"`
	NextLink string         `json:"@odata.nextLink,omitempty"`
}

// GET /switchboard/v1/calls/{id}/notifications?fromSequence=N&$top=M
func (a *api) listNotifications(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	from, top, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	callID := r.PathValue("id")
	if err := a.authorizeCall(r.Context(), p, callID); err != nil {
		return err
	}
	entries, err := a.cfg.Store.Notifications(r.Context(), callID, from, top+1)
	if err != nil {
		return err
	}
	page := notificationPage{Value: make([]notification, 0, min(len(entries), top))}
	for i, e := range entries {
		if i == top {
			page.NextLink = fmt.Sprintf("%s%s?fromSequence=%d&$top=%d", baseURL(r), r.URL.EscapedPath(), e.Seq, top)
			break
		}
		page.Value = append(page.Value, toWire(e))
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseListQuery reads fromSequence (default 0: from the first) and $top
// (default 100, at most 1000). Anything else in the query is a 400 naming
// it, since silently ignoring an option would return the wrong page.
func parseListQuery(raw string) (from int64, top int, err error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return 0, 0, graph.BadRequest("", fmt.Sprintf("The query string is malformed: %v.", err))
	}
	top = defaultTop
	for key, vs := range vals {
		if len(vs) != 1 {
			return 0, 0, graph.BadRequest(key, fmt.Sprintf("Query option '%s' is given more than once.", key))
		}
		switch key {
		case "fromSequence":
			from, err = strconv.ParseInt(vs[0], 10, 64)
			if err != nil || from < 0 {
				return 0, 0, graph.BadRequest(key, fmt.Sprintf("Query option 'fromSequence' must be a non-negative integer, got %q.", vs[0]))
			}
		case "$top":
			top, err = strconv.Atoi(vs[0])
			if err != nil || top < 1 || top > maxTop {
				return 0, 0, graph.BadRequest(key, fmt.Sprintf("Query option '$top' must be an integer from 1 to %d, got %q.", maxTop, vs[0]))
			}
		default:
			return 0, 0, graph.BadRequest(key, fmt.Sprintf("Query option '%s' is not supported here; use fromSequence and $top.", key))
		}
	}
	return from, top, nil
}

// toWire turns an outbox row into a log entry. The change type and
// resource URL come from the envelope's first (Switchboard sends one)
// notification; they are null if the body does not have them.
func toWire(e notify.Entry) notification {
	n := notification{
		Sequence:            e.Seq,
		Status:              e.Status.String(),
		Attempts:            e.Attempts,
		CreatedDateTime:     timeString(e.CreatedAt),
		DeliveredDateTime:   timeString(e.DeliveredAt),
		NextAttemptDateTime: timeString(e.NextAttemptAt),
		CallbackURI:         e.URL,
	}
	if e.LastError != "" {
		n.LastError = &e.LastError
	}
	var env struct {
		Value []struct {
			ChangeType  *string `json:"changeType"`
			ResourceURL *string `json:"resourceUrl"`
		} `json:"value"`
	}
	if json.Valid(e.Body) {
		n.Body = json.RawMessage(bytes.Clone(e.Body))
		if json.Unmarshal(e.Body, &env) == nil && len(env.Value) > 0 {
			n.ChangeType, n.ResourceURL = env.Value[0].ChangeType, env.Value[0].ResourceURL
		}
	} else {
		// Never expected: the calls service writes JSON. Show what is there
		// rather than fail the whole page.
		n.Body, _ = json.Marshal(string(e.Body))
	}
	return n
}

func timeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

type replayRequest struct {
	FromSequence *int64 `json:"fromSequence"`
}

type replayResponse struct {
	FromSequence int64 `json:"fromSequence"`
	// ToSequence is the last sequence number handled; null when the call
	// has no notification from FromSequence on.
	ToSequence *int64 `json:"toSequence"`
	// Count is the notifications queued to be sent again.
	Count int `json:"count"`
	// More is true when the replay stopped before the call's last
	// notification, at maxReplay notifications or at the replay limit; ask
	// again from ToSequence+1 for the rest.
	More bool `json:"more"`
}

// POST /switchboard/v1/calls/{id}/notifications/replay {"fromSequence": N}
//
// The rows are read and handed to the Replayer a page at a time. When the
// Replayer's limit refuses the first page the answer is 429 with
// Retry-After; when it refuses a later one, the pages before it stay
// queued and the answer says where to go on from (more).
func (a *api) replayNotifications(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	from, err := readReplayRequest(w, r)
	if err != nil {
		return err
	}
	callID := r.PathValue("id")
	if err := a.authorizeCall(r.Context(), p, callID); err != nil {
		return err
	}
	res := replayResponse{FromSequence: from}
	next, looked := from, 0
	for looked < maxReplay {
		limit := min(replayPage, maxReplay-looked)
		entries, err := a.cfg.Store.Notifications(r.Context(), callID, next, limit)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			break
		}
		ds := make([]notify.Delivery, len(entries))
		for i, e := range entries {
			ds[i] = e.Delivery
		}
		n, err := a.cfg.Replayer.Replay(ds...)
		if errors.Is(err, notify.ErrReplayLimit) {
			a.log.Info("extapi: notification replay refused", "call_id", callID, "tenant", p.TenantID, "app", p.AppID,
				"from_sequence", next, "error", err.Error())
			if res.ToSequence == nil {
				return &graph.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests", RetryAfter: replayRetryAfter,
					Message: fmt.Sprintf("Too many notifications are queued for replay (%s); ask again after the interval in Retry-After, once they have been sent.",
						strings.TrimPrefix(err.Error(), notify.ErrReplayLimit.Error()+": "))}
			}
			res.More = true
			break
		}
		if err != nil {
			return err
		}
		res.Count += n
		last := entries[len(entries)-1].Seq
		res.ToSequence = &last
		looked, next = looked+len(entries), last+1
		if len(entries) < limit {
			break
		}
	}
	if looked == maxReplay && !res.More {
		rest, err := a.cfg.Store.Notifications(r.Context(), callID, next, 1)
		if err != nil {
			return err
		}
		res.More = len(rest) > 0
	}
	a.log.Info("extapi: notifications replayed", "call_id", callID, "tenant", p.TenantID, "app", p.AppID,
		"from_sequence", from, "count", res.Count, "more", res.More)
	return writeJSON(w, http.StatusAccepted, res)
}

// readReplayRequest decodes the replay body: a JSON object with
// fromSequence, a non-negative integer, and nothing else.
func readReplayRequest(w http.ResponseWriter, r *http.Request) (int64, error) {
	body, err := graph.ReadBody(w, r, maxReplayBody)
	if err != nil {
		return 0, err
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil || props == nil {
		return 0, graph.BadRequest("", `The request body must be a JSON object such as {"fromSequence": 1}.`)
	}
	for k := range props {
		switch k {
		case "fromSequence":
		case "callbackUri":
			return 0, graph.BadRequest(k, "Property 'callbackUri' is not supported: notifications are replayed to the callback URL they were first sent to.")
		default:
			return 0, graph.BadRequest(k, fmt.Sprintf("Property '%s' is not known; the body takes fromSequence only.", k))
		}
	}
	var req replayRequest
	if err := json.Unmarshal(body, &req); err != nil || req.FromSequence == nil || *req.FromSequence < 0 {
		return 0, graph.BadRequest("fromSequence", "Property 'fromSequence' is required and must be a non-negative integer.")
	}
	return *req.FromSequence, nil
}

// baseURL is scheme://host of the request, for absolute links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}
