package console

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// BrowserCall is a call the page places from the browser: as Identity, to
// the application ApplicationID of the session's tenant, with the
// browser's WebRTC offer (every candidate in it).
type BrowserCall struct {
	ApplicationID string            `json:"applicationId"`
	Identity      model.IdentitySet `json:"identity"`
	CallbackURI   string            `json:"callbackUri"`
	Offer         string            `json:"offer"`
}

// BrowserJoin is a meeting the page joins from the browser: by its join
// id and passcode, as Identity, with the browser's offer.
type BrowserJoin struct {
	JoinMeetingID string            `json:"joinMeetingId"`
	Passcode      string            `json:"passcode"`
	Identity      model.IdentitySet `json:"identity"`
	Offer         string            `json:"offer"`
}

// BrowserPlaced is the call placed (or the meeting joined), and the
// server's answer.
type BrowserPlaced struct {
	CallID         string `json:"callId,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	ParticipantID  string `json:"participantId"`
	Answer         string `json:"answer"`
}

// Browser places calls from the browser (WebRTC), joins meetings, takes
// an identity whose calls ring in the page, mutes and hangs up.
type Browser interface {
	Call(r *http.Request, tenantID string, c BrowserCall) (BrowserPlaced, error)
	Join(r *http.Request, tenantID string, j BrowserJoin) (BrowserPlaced, error)
	// TakeIdentity makes calls to user ring through notify (a value sent
	// to the page as a "ring" event) until release is called.
	TakeIdentity(tenantID, user string, notify func(v any)) (release func())
	// AnswerRing answers a call ringing the browser with its offer, and
	// returns the answer; DeclineRing declines it.
	AnswerRing(r *http.Request, participantID, offer string) (string, error)
	DeclineRing(participantID string) bool
	SetMuted(participantID string, muted bool) bool
	HangUp(participantID string) bool
}

// maxOffer bounds a browser's session description.
const maxOffer = 64 << 10

// browserCalls remembers which session placed which browser participant
// (only that session hangs it up), and the identity each session took.
type browserCalls struct {
	mu        sync.Mutex
	owner     map[string]string // participant id -> session id
	reachable map[string]func() // session id -> release of its identity
}

func (b *browserCalls) own(pid, sessionID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owner == nil {
		b.owner = map[string]string{}
	}
	b.owner[pid] = sessionID
}

func (b *browserCalls) owns(pid, sessionID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.owner[pid] == sessionID
}

// setReachable records the release of the identity a session took (nil:
// none), releasing the one it held before.
func (b *browserCalls) setReachable(sessionID string, release func()) {
	b.mu.Lock()
	if b.reachable == nil {
		b.reachable = map[string]func(){}
	}
	old := b.reachable[sessionID]
	if release == nil {
		delete(b.reachable, sessionID)
	} else {
		b.reachable[sessionID] = release
	}
	b.mu.Unlock()
	if old != nil {
		old()
	}
}

// serveBrowser: POST /console/webrtc/call and /console/webrtc/hangUp.
func (h *Handler) serveBrowser(w http.ResponseWriter, r *http.Request, action string) {
	s := h.session(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "signInRequired", "The console session has ended; sign in again.")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST.")
		return
	}
	if !s.checkCSRF(r) {
		writeError(w, http.StatusForbidden, "Forbidden", "Calling from the browser needs the session's CSRF token (X-CSRF-Token).")
		return
	}
	if h.cfg.Browser == nil {
		writeError(w, http.StatusNotImplemented, "notImplemented", "This server does not take calls from browsers.")
		return
	}
	switch action {
	case "call", "join":
		if !s.admin() {
			writeError(w, http.StatusForbidden, "Forbidden", "Calling from the browser is simulation control: it needs Switchboard.Admin.")
			return
		}
		var placed BrowserPlaced
		var err error
		body := http.MaxBytesReader(w, r.Body, maxOffer)
		if action == "call" {
			var c BrowserCall
			if json.NewDecoder(body).Decode(&c) != nil || c.Offer == "" || c.ApplicationID == "" {
				writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with applicationId, identity and the browser's offer.")
				return
			}
			placed, err = h.cfg.Browser.Call(r, s.principal.TenantID, c)
		} else {
			var j BrowserJoin
			if json.NewDecoder(body).Decode(&j) != nil || j.Offer == "" || j.JoinMeetingID == "" {
				writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with joinMeetingId, passcode, identity and the browser's offer.")
				return
			}
			placed, err = h.cfg.Browser.Join(r, s.principal.TenantID, j)
		}
		if err != nil {
			graph.WriteError(w, r, h.cfg.Logger, err)
			return
		}
		h.browsers.own(placed.ParticipantID, s.id)
		writeJSON(w, http.StatusCreated, placed)
	case "reachable":
		if !s.admin() {
			writeError(w, http.StatusForbidden, "Forbidden", "Taking an identity is simulation control: it needs Switchboard.Admin.")
			return
		}
		var req struct {
			UserID string `json:"userId"` // "" gives the identity up
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with userId (empty to stop).")
			return
		}
		if req.UserID == "" {
			h.browsers.setReachable(s.id, nil)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		sid := s.id
		release := h.cfg.Browser.TakeIdentity(s.principal.TenantID, req.UserID, func(v any) {
			if h.cfg.Events != nil {
				h.cfg.Events.sendTo(sid, "ring", v)
			}
		})
		h.browsers.setReachable(s.id, release)
		w.WriteHeader(http.StatusNoContent)
	case "answer":
		var req struct {
			ParticipantID string `json:"participantId"`
			Offer         string `json:"offer"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxOffer)).Decode(&req); err != nil || req.Offer == "" {
			writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with participantId and the browser's offer.")
			return
		}
		answer, err := h.cfg.Browser.AnswerRing(r, req.ParticipantID, req.Offer)
		if err != nil {
			graph.WriteError(w, r, h.cfg.Logger, err)
			return
		}
		h.browsers.own(req.ParticipantID, s.id)
		writeJSON(w, http.StatusOK, map[string]string{"answer": answer})
	case "decline":
		var req struct {
			ParticipantID string `json:"participantId"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil || !h.cfg.Browser.DeclineRing(req.ParticipantID) {
			writeError(w, http.StatusNotFound, "itemNotFound", "No call rings this browser with that participant.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "mute":
		var req struct {
			ParticipantID string `json:"participantId"`
			Muted         bool   `json:"muted"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with participantId and muted.")
			return
		}
		if !h.browsers.owns(req.ParticipantID, s.id) || !h.cfg.Browser.SetMuted(req.ParticipantID, req.Muted) {
			writeError(w, http.StatusNotFound, "itemNotFound", "This browser has no call with that participant.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "hangUp":
		var req struct {
			ParticipantID string `json:"participantId"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON with participantId.")
			return
		}
		h.browsers.mu.Lock()
		mine := h.browsers.owner[req.ParticipantID] == s.id
		delete(h.browsers.owner, req.ParticipantID)
		h.browsers.mu.Unlock()
		if !mine || !h.cfg.Browser.HangUp(req.ParticipantID) {
			writeError(w, http.StatusNotFound, "itemNotFound", "This browser has no call with that participant.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "BadRequest", "There is no console endpoint at '"+r.URL.Path+"'.")
	}
}
