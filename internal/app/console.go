package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/console"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/mediastream"
	"github.com/switchboard-dev/switchboard/internal/webrtc"
)

// consoleHandler is the web console (docs/console.md), over backend: the
// server's own API handler.
func (a *App) consoleHandler(backend http.Handler) *console.Handler {
	cfg := console.Config{Backend: backend, SignIn: a.consoleSignIn, Principal: a.tokenPrincipal,
		Events: a.hub, Browser: browserCalls{a}, Clock: a.clock, Logger: a.log}
	if a.cfg.Dev {
		cfg.DevLogin = &console.Credentials{TenantID: auth.DevTenantID, ClientID: auth.DevClientID, ClientSecret: auth.DevClientSecret}
	}
	return console.New(cfg)
}

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$`)

// consoleSignIn asks the token service, in-process, for a token of the
// credentials' application, as the browser's request (its host, which a
// client assertion's audience names, and its address, which failed
// sign-ins are counted by).
func (a *App) consoleSignIn(r *http.Request, c console.Credentials) (console.Token, error) {
	if !tenantPattern.MatchString(c.TenantID) {
		return console.Token{}, errors.New("The tenant id is not a tenant id (a GUID or a domain name).")
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "scope": {"https://graph.microsoft.com/.default"}}
	if c.ClientAssertion != "" {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", c.ClientAssertion)
	} else {
		form.Set("client_secret", c.ClientSecret)
	}
	req := httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/"+c.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Host, req.RemoteAddr, req.TLS = r.Host, r.RemoteAddr, r.TLS
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.auth.Handler().ServeHTTP(rec, req)
	var body struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int    `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		return console.Token{}, fmt.Errorf("the token service answered %d", rec.Code)
	}
	if rec.Code != http.StatusOK || body.AccessToken == "" {
		msg, _, _ := strings.Cut(body.ErrorDescription, "\r\n")
		if msg == "" {
			msg = body.Error
		}
		return console.Token{}, errors.New(msg)
	}
	return console.Token{AccessToken: body.AccessToken, Expires: a.clock.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}

// tokenPrincipal reads who an access token is.
func (a *App) tokenPrincipal(token string) (auth.Principal, error) {
	r := httptest.NewRequest(http.MethodGet, "/v1.0/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.auth.Authenticate(r)
}

// observers feeds committed changes to the metrics (when served) and to
// the console's live view.
type observers struct {
	metrics calls.Observer // nil without metrics
	hub     *console.Hub
	streams *mediastream.Manager
}

func (o observers) CallChanged(from calls.State, c *calls.Call) {
	if o.metrics != nil {
		o.metrics.CallChanged(from, c)
	}
}

func (o observers) ConversationChanged(conv *calls.Conversation) {
	o.streams.ConversationChanged(conv)
	o.hub.ConversationChanged(conv)
}

func (o observers) SpeakingChanged(conv *calls.Conversation, participantID string, speaking bool) {
	o.hub.SpeakingChanged(conv, participantID, speaking)
}

// browserCalls places the console's calls from the browser through the
// WebRTC endpoint server.
type browserCalls struct{ a *App }

func (b browserCalls) Call(r *http.Request, tenantID string, c console.BrowserCall) (console.BrowserPlaced, error) {
	webhook, err := b.a.webhook(r.Context(), tenantID, c.ApplicationID)
	if errors.Is(err, auth.ErrAppNotFound) {
		return console.BrowserPlaced{}, &calls.ValidationError{Field: "applicationId", Reason: "is not an application of your tenant"}
	}
	if err != nil {
		return console.BrowserPlaced{}, err
	}
	if c.CallbackURI != "" {
		webhook = c.CallbackURI
	}
	p, err := b.a.webrtc.CallApplication(r.Context(), calls.IncomingCall{TenantID: tenantID, AppID: c.ApplicationID, CallbackURI: webhook, From: c.Identity}, c.Offer)
	if errors.Is(err, webrtc.ErrBadOffer) {
		return console.BrowserPlaced{}, &calls.ValidationError{Field: "offer", Reason: err.Error()}
	}
	if err != nil {
		return console.BrowserPlaced{}, err
	}
	return console.BrowserPlaced{CallID: p.CallID, ParticipantID: p.ParticipantID, Answer: p.Answer}, nil
}

func (b browserCalls) Join(r *http.Request, tenantID string, j console.BrowserJoin) (console.BrowserPlaced, error) {
	spec := model.Call{MeetingInfo: &model.MeetingInfo{ODataType: model.TypeJoinMeetingIDMeetingInfo, JoinMeetingID: j.JoinMeetingID}}
	if j.Passcode != "" {
		spec.MeetingInfo.Passcode = &j.Passcode
	}
	p, err := b.a.webrtc.JoinMeeting(r.Context(), tenantID, spec, j.Identity, j.Offer)
	if errors.Is(err, webrtc.ErrBadOffer) {
		return console.BrowserPlaced{}, &calls.ValidationError{Field: "offer", Reason: err.Error()}
	}
	if errors.Is(err, calls.ErrNotFound) {
		return console.BrowserPlaced{}, &calls.ValidationError{Field: "joinMeetingId", Reason: "names no live meeting of your tenant; an application must join it first"}
	}
	if err != nil {
		return console.BrowserPlaced{}, err
	}
	return console.BrowserPlaced{ConversationID: p.ConversationID, ParticipantID: p.ParticipantID, Answer: p.Answer}, nil
}

func (b browserCalls) TakeIdentity(tenantID, user string, notify func(v any)) func() {
	return b.a.webrtc.TakeIdentity(tenantID, user, func(r webrtc.Ring) { notify(r) })
}

func (b browserCalls) AnswerRing(r *http.Request, participantID, offer string) (string, error) {
	answer, err := b.a.webrtc.AnswerRing(r.Context(), participantID, offer)
	if errors.Is(err, webrtc.ErrBadOffer) {
		return "", &calls.ValidationError{Field: "offer", Reason: err.Error()}
	}
	return answer, err
}

func (b browserCalls) DeclineRing(participantID string) bool {
	return b.a.webrtc.DeclineRing(participantID)
}

func (b browserCalls) SetMuted(participantID string, muted bool) bool {
	return b.a.webrtc.SetMuted(participantID, muted)
}

func (b browserCalls) HangUp(participantID string) bool { return b.a.webrtc.HangUp(participantID) }
