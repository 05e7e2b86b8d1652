package extapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/faults"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// Simulation is what the simulation control endpoints drive.
type Simulation struct {
	Calls     *calls.Service
	Directory *sim.Directory
	// Webhook returns an application's registered incoming-call webhook
	// ("" when it has none), or an error matching auth.ErrAppNotFound when
	// tenantID has no application appID. It is required: every incoming
	// call's target is checked with it, since the server signs the call's
	// callback tokens for that application and tenant.
	Webhook func(ctx context.Context, tenantID, appID string) (string, error)
	// Voice returns the voice of a simulated participant of a call (nil
	// when it has none: not in the call's audio yet, or gone).
	Voice func(callID, participantID string) *media.SimPerson
	// LocalFiles lets identities say local WAV files (development mode):
	// otherwise the server would read any file it can for whoever holds
	// Switchboard.Admin.
	LocalFiles bool
	// Clock, with --clock virtual, is the clock that simulation/clock
	// moves; nil on the real clock.
	Clock Clock
	// Faults, in development mode, is the fault rules simulation/faults
	// manages; nil otherwise.
	Faults *faults.Set
}

// simRoutes are the simulation control endpoints; all need the
// Switchboard.Admin role, and reach the caller's tenant only (calls of
// other tenants are 404 itemNotFound, as if missing; naming another tenant
// is 403), or Switchboard.Operator, which reaches every tenant. Simulated
// identities (listIdentities, setIdentity) are server-wide.
func (a *api) simRoutes() []route {
	p := Prefix + "/simulation"
	return []route{
		{"POST", p + "/incomingCalls", a.admin(a.placeIncoming)},
		{"GET", p + "/calls/{id}", a.admin(a.showCall)},
		{"POST", p + "/calls/{id}/participants/{pid}/pressTones", a.admin(a.pressTones)},
		{"POST", p + "/calls/{id}/participants/{pid}/say", a.admin(a.say)},
		{"GET", p + "/calls/{id}/participants/{pid}/heard", a.admin(a.heard)},
		{"POST", p + "/calls/{id}/participants/{pid}/{action}", a.admin(a.act)},
		{"POST", p + "/meetings/join", a.admin(a.joinMeeting)},
		{"GET", p + "/identities", a.admin(a.listIdentities)},
		{"PUT", p + "/identities/{id}", a.admin(a.setIdentity)},
		{"GET", p + "/clock", a.admin(a.getClock)},
		{"POST", p + "/clock", a.admin(a.advanceClock)},
		{"GET", p + "/faults", a.admin(a.listFaults)},
		{"PUT", p + "/faults/{id}", a.admin(a.putFault)},
		{"DELETE", p + "/faults/{id}", a.admin(a.deleteFault)},
	}
}

// admin authenticates and requires the Switchboard.Admin (or
// Switchboard.Operator) role, and that the server was built with
// simulation control.
func (a *api) admin(h handlerFunc) http.Handler {
	return a.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if !isAdmin(p) {
			return graph.NewError(http.StatusForbidden, "Forbidden", "Simulation control needs the application permission Switchboard.Admin.")
		}
		if a.cfg.Sim == nil {
			return graph.NewError(http.StatusNotImplemented, "notImplemented", "Simulation control is not enabled on this server.")
		}
		return h(w, r, p)
	})
}

type incomingRequest struct {
	To struct {
		ApplicationID string `json:"applicationId"`
		TenantID      string `json:"tenantId"`
	} `json:"to"`
	From        model.IdentitySet  `json:"from"`
	CallbackURI string             `json:"callbackUri"`
	Modalities  []model.Modality   `json:"modalities"`
	ChatInfo    *model.ChatInfo    `json:"chatInfo"`
	MeetingInfo *model.MeetingInfo `json:"meetingInfo"`
	Behaviour   struct {
		HangUpAfter      string `json:"hangUpAfter"`
		MuteAfter        string `json:"muteAfter"`
		ShareScreenAfter string `json:"shareScreenAfter"`
	} `json:"behaviour"`
}

// POST /switchboard/v1/simulation/incomingCalls: a simulated person or phone
// calls an application.
func (a *api) placeIncoming(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req incomingRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.To.ApplicationID == "" {
		return graph.BadRequest("to.applicationId", "'to.applicationId' is required: the client id of the application to call.")
	}
	if req.To.TenantID == "" {
		req.To.TenantID = p.TenantID
	}
	if !inTenant(p, req.To.TenantID) {
		return errOtherTenant("to.tenantId")
	}
	var b calls.Behaviour
	for _, f := range []struct {
		name, v string
		dst     *time.Duration
	}{{"behaviour.hangUpAfter", req.Behaviour.HangUpAfter, &b.HangUpAfter}, {"behaviour.muteAfter", req.Behaviour.MuteAfter, &b.MuteAfter}, {"behaviour.shareScreenAfter", req.Behaviour.ShareScreenAfter, &b.ShareAfter}} {
		if f.v == "" {
			continue
		}
		d, err := time.ParseDuration(f.v)
		if err != nil || d < 0 {
			return graph.BadRequest(f.name, fmt.Sprintf("'%s' must be a duration such as 30s.", f.name))
		}
		*f.dst = d
	}
	// The target must be a registered application of that tenant, whatever
	// the callbackUri: the server signs the call's callback tokens for it.
	if a.cfg.Sim.Webhook == nil {
		return graph.NewError(http.StatusNotImplemented, "notImplemented", "Incoming calls are not available on this server: it cannot look applications up.")
	}
	hook, err := a.cfg.Sim.Webhook(r.Context(), req.To.TenantID, req.To.ApplicationID)
	if errors.Is(err, auth.ErrAppNotFound) {
		return graph.BadRequest("to.applicationId", fmt.Sprintf("No application '%s' in tenant '%s'.", req.To.ApplicationID, req.To.TenantID))
	}
	if err != nil {
		return err
	}
	if req.CallbackURI == "" {
		req.CallbackURI = hook
	}
	if req.CallbackURI == "" {
		return graph.BadRequest("callbackUri", "The application has no registered incoming-call webhook; give 'callbackUri'.")
	}
	leg, err := a.cfg.Sim.Calls.PlaceIncoming(r.Context(), calls.IncomingCall{
		TenantID: req.To.TenantID, AppID: req.To.ApplicationID, CallbackURI: req.CallbackURI,
		From: req.From, Modalities: req.Modalities, Behaviour: b, ChatInfo: req.ChatInfo, MeetingInfo: req.MeetingInfo,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"callId": leg.ID, "callerParticipantId": leg.Spec.Source.ParticipantID})
}

type legView struct {
	ID            string `json:"id"`
	ApplicationID string `json:"applicationId"`
	TenantID      string `json:"tenantId"`
	State         string `json:"state"`
	ParticipantID string `json:"myParticipantId"`
}

type participantView struct {
	ID       string             `json:"id"`
	Identity *model.IdentitySet `json:"identity,omitempty"`
	State    string             `json:"state"`
	CallID   string             `json:"callId,omitempty"`
	Muted    bool               `json:"muted"`
	OnHold   bool               `json:"onHold"`
	Sharing  bool               `json:"sharing"`
}

// errOtherTenant answers a request that names a tenant the caller may not
// act in.
func errOtherTenant(field string) error {
	e := graph.NewError(http.StatusForbidden, "Forbidden",
		"Switchboard.Admin acts in its own tenant only; acting in another tenant needs Switchboard.Operator, which only the server's configuration grants.")
	e.Target = field
	return e
}

// conversation returns the conversation of the live call named by the
// path's {id}, if p may act in its tenant; another tenant's call is
// errCallNotFound, like a missing one.
func (a *api) conversation(r *http.Request, p auth.Principal) (*calls.Conversation, error) {
	conv, err := a.cfg.Sim.Calls.Conversation(r.PathValue("id"))
	if errors.Is(err, calls.ErrNotFound) || (err == nil && !inTenant(p, conv.TenantID)) {
		return nil, errCallNotFound
	}
	return conv, err
}

// GET /switchboard/v1/simulation/calls/{id}: the conversation of a call,
// whichever application of the tenant owns it: every leg and every roster
// entry, invited ones too.
func (a *api) showCall(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	conv, err := a.conversation(r, p)
	if err != nil {
		return err
	}
	out := struct {
		ConversationID string            `json:"conversationId"`
		Kind           string            `json:"kind"`
		Legs           []legView         `json:"legs"`
		Roster         []participantView `json:"roster"`
	}{ConversationID: conv.ID, Kind: string(conv.Kind)}
	for _, l := range conv.Legs {
		out.Legs = append(out.Legs, legView{ID: l.ID, ApplicationID: l.AppID, TenantID: l.TenantID, State: l.State.String(), ParticipantID: l.ParticipantID})
	}
	out.Roster = rosterView(conv)
	return writeJSON(w, http.StatusOK, out)
}

// rosterView is the conversation's roster as the extension API shows it.
func rosterView(conv *calls.Conversation) []participantView {
	out := make([]participantView, 0, len(conv.Roster))
	for _, p := range conv.Roster {
		out = append(out, participantView{ID: p.ID, Identity: p.Info.Identity, State: string(p.State), CallID: p.CallID, Muted: p.Muted, OnHold: p.OnHold, Sharing: p.Sharing})
	}
	return out
}

// POST /switchboard/v1/simulation/calls/{id}/participants/{pid}/{action}
func (a *api) act(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	action, ok := calls.ParseSimAction(r.PathValue("action"))
	if !ok {
		return graph.BadRequest("action", fmt.Sprintf("Unknown action '%s'; use answer, reject, hangUp, mute, unmute, shareScreen or stopSharing.", r.PathValue("action")))
	}
	if _, err := a.conversation(r, p); err != nil {
		return err
	}
	if err := a.cfg.Sim.Calls.Simulate(r.Context(), r.PathValue("id"), r.PathValue("pid"), action); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type joinRequest struct {
	TenantID    string             `json:"tenantId"`
	ChatInfo    *model.ChatInfo    `json:"chatInfo"`
	MeetingInfo *model.MeetingInfo `json:"meetingInfo"`
	Identity    model.IdentitySet  `json:"identity"`
}

// POST /switchboard/v1/simulation/meetings/join: a simulated person joins
// a live meeting, named as a create-call request names it.
func (a *api) joinMeeting(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	body, err := graph.ReadBody(w, r, 0)
	if err != nil {
		return err
	}
	var req joinRequest
	if err := graph.DecodeJSON(body, &req); err != nil {
		return err
	}
	if req.TenantID == "" {
		req.TenantID = p.TenantID
	}
	if !inTenant(p, req.TenantID) {
		return errOtherTenant("tenantId")
	}
	pid, err := a.cfg.Sim.Calls.JoinMeeting(r.Context(), req.TenantID, model.Call{ChatInfo: req.ChatInfo, MeetingInfo: req.MeetingInfo}, req.Identity)
	var elsewhere *calls.ElsewhereError
	if errors.As(err, &elsewhere) && a.cfg.Forwarding.WithBody(w, r, body, elsewhere.Node, "meeting") {
		return nil // joined on the node that holds the meeting
	}
	if errors.Is(err, calls.ErrNotFound) {
		return graph.NewError(http.StatusNotFound, "itemNotFound", "No live meeting of that tenant has these coordinates; an application must join it first.")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"participantId": pid})
}

// GET /switchboard/v1/simulation/identities
func (a *api) listIdentities(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	return writeJSON(w, http.StatusOK, map[string]any{"value": a.cfg.Sim.Directory.Rules()})
}

// PUT /switchboard/v1/simulation/identities/{id}: set how an identity
// behaves from now on (the same fields as the YAML simulation.identities).
func (a *api) setIdentity(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	body, err := graph.ReadBody(w, r, 0)
	if err != nil {
		return err
	}
	var rule sim.Rule
	if err := graph.DecodeJSON(body, &rule); err != nil {
		return err
	}
	rule.ID = r.PathValue("id")
	if err := a.checkLocalFiles(rule); err != nil {
		return err
	}
	if err := a.cfg.Sim.Directory.Set(rule); err != nil {
		return graph.BadRequest("", strings.TrimPrefix(err.Error(), "sim: "))
	}
	// Each node keeps the rules in memory: every live node gets the rule.
	if err := a.cfg.Forwarding.Broadcast(r, body); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}

// checkLocalFiles refuses a rule that says local WAV files unless the
// server allows them.
func (a *api) checkLocalFiles(rule sim.Rule) error {
	if a.cfg.Sim.LocalFiles {
		return nil
	}
	for i, st := range rule.Say {
		if st.WAV != "" {
			field := fmt.Sprintf("say[%d].wav", i)
			return graph.BadRequest(field, fmt.Sprintf("'%s': local WAV files are allowed only in development mode.", field))
		}
	}
	return nil
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := graph.ReadBody(w, r, 0)
	if err != nil {
		return err
	}
	return graph.DecodeJSON(body, v)
}

// voice returns the voice of the path's participant {pid} in call {id},
// if p may act in the call's tenant.
func (a *api) voice(r *http.Request, p auth.Principal) (*media.SimPerson, error) {
	if a.cfg.Sim.Voice == nil {
		return nil, graph.NewError(http.StatusNotImplemented, "notImplemented", "Simulated voices are not available on this server.")
	}
	if _, err := a.conversation(r, p); err != nil {
		return nil, err
	}
	v := a.cfg.Sim.Voice(r.PathValue("id"), r.PathValue("pid"))
	if v == nil {
		return nil, graph.NewError(http.StatusNotFound, "itemNotFound", "No simulated participant with a voice has this id in this call (a voice exists once the person is in the call's audio: joined, with a bot's leg established).")
	}
	return v, nil
}

// POST .../participants/{pid}/pressTones {"keys":"123#","outOfBand":false}:
// the participant presses DTMF keys now, in-band (as audio) or out of band.
func (a *api) pressTones(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Keys      string `json:"keys"`
		OutOfBand bool   `json:"outOfBand"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	v, err := a.voice(r, p)
	if err != nil {
		return err
	}
	if req.OutOfBand {
		for _, k := range req.Keys {
			if err := v.PressOutOfBand(k); err != nil {
				return graph.BadRequest("keys", fmt.Sprintf("'%c' is not a DTMF key (0-9, *, #, A-D).", k))
			}
		}
	} else if err := v.Press(req.Keys); err != nil {
		return graph.BadRequest("keys", "'keys' must be DTMF keys: 0-9, *, #, A-D.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MaxSayBytes bounds the WAV file a simulated participant is given to say
// (POST .../say): 16 MiB, over eight minutes of 16 kHz 16-bit mono, or
// 87 s of 48 kHz stereo.
const MaxSayBytes = 16 << 20

// POST .../participants/{pid}/say with a WAV file as the body (any format
// media.DecodeWAV reads): the participant says it now, instead of
// whatever it was saying; an empty body makes it stop.
func (a *api) say(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	body, err := graph.ReadContent(w, r, MaxSayBytes, "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
	if err != nil {
		return err
	}
	v, err := a.voice(r, p)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		v.Hush()
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	audio, err := media.DecodeWAV(bytes.NewReader(body))
	if err != nil {
		return graph.BadRequest("", "The body is not a WAV file the server can play: "+strings.TrimPrefix(err.Error(), "media: ")+".")
	}
	v.Say(audio)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET .../participants/{pid}/heard: what the participant heard, as a WAV
// (the last minute), with the DTMF keys it recognised in the
// Switchboard-Heard-Keys header.
func (a *api) heard(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	v, err := a.voice(r, p)
	if err != nil {
		return err
	}
	var keys strings.Builder
	for _, k := range v.HeardKeys() {
		keys.WriteRune(k.Key)
	}
	w.Header().Set("Switchboard-Heard-Keys", keys.String())
	w.Header().Set("Content-Type", "audio/wav")
	return media.EncodeWAV(w, v.Heard())
}
