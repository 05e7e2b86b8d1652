package extapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// callSummary is a call as the console's lists show it: who, which way,
// how it stands, and (for one call) its roster.
type callSummary struct {
	ID              string              `json:"id"`
	ConversationID  string              `json:"conversationId,omitempty"`
	ApplicationID   string              `json:"applicationId"`
	TenantID        string              `json:"tenantId"`
	Direction       string              `json:"direction,omitempty"`
	State           string              `json:"state"`
	Parties         []model.IdentitySet `json:"parties"`
	CreatedDateTime string              `json:"createdDateTime,omitempty"`
	EndedDateTime   string              `json:"endedDateTime,omitempty"`
	ResultInfo      *calls.ResultInfo   `json:"resultInfo,omitempty"`
	Roster          []participantView   `json:"roster,omitempty"`
	// Operations are the call's operations (playPrompt, recordResponse,
	// invite, ...), with status and result; only on one call.
	Operations []operationView `json:"operations,omitempty"`
}

// operationView is one operation of a call as the console shows it.
type operationView struct {
	ID            string            `json:"id"`
	Type          string            `json:"type"` // the Graph type, such as playPromptOperation
	Status        string            `json:"status"`
	ClientContext string            `json:"clientContext,omitempty"`
	ResultInfo    *model.ResultInfo `json:"resultInfo,omitempty"`
	// RecordingLocation and RecordingAccessToken are a recordResponse's
	// recording, as its notification gave them to the bot: fetch the
	// location with the token as a bearer token.
	RecordingLocation    string `json:"recordingLocation,omitempty"`
	RecordingAccessToken string `json:"recordingAccessToken,omitempty"`
}

func summarize(l *calls.Call) callSummary {
	s := callSummary{ID: l.ID, ApplicationID: l.AppID, TenantID: l.TenantID, Direction: l.Direction, State: l.State.String(),
		Parties: []model.IdentitySet{}, ResultInfo: l.Result}
	if !l.CreatedAt.IsZero() {
		s.CreatedDateTime = l.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	if l.EndedAt != nil {
		s.EndedDateTime = l.EndedAt.UTC().Format(time.RFC3339Nano)
	}
	if src := l.Spec.Source; src != nil && src.Identity != nil {
		s.Parties = append(s.Parties, *src.Identity)
	}
	for _, t := range l.Spec.Targets {
		if t.Identity != nil {
			s.Parties = append(s.Parties, *t.Identity)
		}
	}
	return s
}

// GET /switchboard/v1/calls?$top=N: the live and recent calls the caller
// may see, newest first: its own application's; its tenant's with
// Switchboard.Admin; every tenant's with Switchboard.Operator.
func (a *api) listCalls(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	top, err := parseTop(r.URL.RawQuery)
	if err != nil {
		return err
	}
	tenant, app := p.TenantID, p.AppID
	if isAdmin(p) {
		app = ""
	}
	if p.Has(auth.RoleOperator) {
		tenant = ""
	}
	legs, err := a.cfg.Store.RecentCalls(r.Context(), tenant, app, top)
	if err != nil {
		return err
	}
	out := struct {
		Value []callSummary `json:"value"`
	}{Value: make([]callSummary, 0, len(legs))}
	for _, l := range legs {
		out.Value = append(out.Value, summarize(l))
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /switchboard/v1/calls/{id}: one call the caller may see, live or
// recent, with its conversation's roster.
func (a *api) getCall(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := r.PathValue("id")
	if err := a.authorizeCall(r.Context(), p, id); err != nil {
		return err
	}
	var conv *calls.Conversation
	if a.cfg.Sim != nil {
		conv, _ = a.cfg.Sim.Calls.Conversation(id) // live here: the freshest
	}
	if conv == nil {
		var err error
		if conv, err = a.cfg.Store.CallConversation(r.Context(), id); err != nil {
			return err
		}
	}
	leg := conv.Leg(id)
	if leg == nil {
		return errCallNotFound
	}
	s := summarize(leg)
	s.ConversationID = conv.ID
	s.Roster = rosterView(conv)
	for _, op := range leg.Operations {
		v := operationView{ID: op.ID, Type: strings.TrimPrefix(op.ODataType, "#microsoft.graph."), Status: string(op.Status), ResultInfo: op.ResultInfo}
		if op.ClientContext != nil {
			v.ClientContext = *op.ClientContext
		}
		if op.RecordingLocation != nil && op.RecordingAccessToken != nil {
			v.RecordingLocation, v.RecordingAccessToken = *op.RecordingLocation, *op.RecordingAccessToken
		}
		s.Operations = append(s.Operations, v)
	}
	return writeJSON(w, http.StatusOK, s)
}

// parseTop reads $top (default 100, at most 500) and nothing else.
func parseTop(raw string) (int, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return 0, graph.BadRequest("", "The query string is malformed: "+err.Error()+".")
	}
	top := 100
	for key, vs := range vals {
		if key != "$top" || len(vs) != 1 {
			return 0, graph.BadRequest(key, "Only $top is supported here, once.")
		}
		if top, err = strconv.Atoi(vs[0]); err != nil || top < 1 || top > 500 {
			return 0, graph.BadRequest(key, "$top must be an integer from 1 to 500.")
		}
	}
	return top, nil
}
