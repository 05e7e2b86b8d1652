package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// Event is what /console/events sends when a commit changed a call: the
// page reloads what shows it.
type Event struct {
	CallID         string `json:"callId"`
	ConversationID string `json:"conversationId"`
	TenantID       string `json:"tenantId"`
	AppID          string `json:"applicationId"`
	State          string `json:"state"`
}

// Hub hands the calls domain's commits to the event streams of the
// signed-in browsers. It implements calls.ConversationObserver; a stream
// too slow to take an event loses it and is told to reload everything.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// NewHub returns a Hub with no subscribers.
func NewHub() *Hub { return &Hub{subs: make(map[*subscriber]struct{})} }

type subscriber struct {
	s      *session
	events chan message
	missed bool // an event did not fit: the page must reload all
}

// message is one server-sent event: its name and its JSON data.
type message struct {
	name string
	data []byte
}

// subscriberQueue is how many events a stream may fall behind.
const subscriberQueue = 256

// ConversationChanged implements calls.ConversationObserver. It does not
// block.
func (h *Hub) ConversationChanged(conv *calls.Conversation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	for _, l := range conv.Legs {
		var m message // encoded once, for whoever sees the call
		for sub := range h.subs {
			if !sub.s.sees(l.TenantID, l.AppID) {
				continue
			}
			if m.data == nil {
				b, _ := json.Marshal(Event{CallID: l.ID, ConversationID: conv.ID, TenantID: l.TenantID, AppID: l.AppID, State: l.State.String()})
				m = message{"call", b}
			}
			select {
			case sub.events <- m:
			default:
				sub.missed = true
			}
		}
	}
}

// Speaking is what /console/events sends when someone starts or stops
// speaking in a conversation: the page marks them in the roster.
type Speaking struct {
	ConversationID string `json:"conversationId"`
	ParticipantID  string `json:"participantId"`
	Speaking       bool   `json:"speaking"`
}

// SpeakingChanged implements calls.SpeakerObserver: the sessions that see
// one of the conversation's calls get a "speaking" event. It does not
// block.
func (h *Hub) SpeakingChanged(conv *calls.Conversation, participantID string, speaking bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var m message
	for sub := range h.subs {
		if !slices.ContainsFunc(conv.Legs, func(l *calls.Call) bool { return sub.s.sees(l.TenantID, l.AppID) }) {
			continue
		}
		if m.data == nil {
			b, _ := json.Marshal(Speaking{ConversationID: conv.ID, ParticipantID: participantID, Speaking: speaking})
			m = message{"speaking", b}
		}
		select {
		case sub.events <- m:
		default:
			sub.missed = true
		}
	}
}

// sendTo gives one session's streams an event of its own (a call ringing
// in the browser). It does not block.
func (h *Hub) sendTo(sessionID, name string, v any) {
	b, _ := json.Marshal(v)
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if sub.s.id != sessionID {
			continue
		}
		select {
		case sub.events <- message{name, b}:
		default:
			sub.missed = true
		}
	}
}

func (h *Hub) subscribe(s *session) *subscriber {
	sub := &subscriber{s: s, events: make(chan message, subscriberQueue)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *Hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// takeMissed reports, and clears, that sub lost events.
func (h *Hub) takeMissed(sub *subscriber) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := sub.missed
	sub.missed = false
	return m
}

// keepAlive is how often an idle stream gets a comment, so that proxies
// keep it open.
const keepAlive = 25 * time.Second

// serveEvents streams the session's calls' changes as server-sent events:
// "call" events (an Event), and "reload" when some were lost.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "signInRequired", "The console session has ended; sign in again.")
		return
	}
	if h.cfg.Events == nil {
		writeError(w, http.StatusNotImplemented, "notImplemented", "This server streams no events.")
		return
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	sub := h.cfg.Events.subscribe(s) // before the response starts: an event after it is not lost
	defer h.cfg.Events.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	until := time.NewTimer(s.expires.Sub(h.cfg.Clock.Now()))
	defer until.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-until.C:
			fmt.Fprint(w, "event: signedOut\ndata: {}\n\n")
			rc.Flush()
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case m := <-sub.events:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.name, m.data)
		}
		if h.cfg.Events.takeMissed(sub) {
			fmt.Fprint(w, "event: reload\ndata: {}\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
