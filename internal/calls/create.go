package calls

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Limits of a create request that Graph documents.
const (
	MaxGroupTargets       = 5   // "supports up to 5 VoIP users"
	MaxRingingTimeout     = 115 // beta ringingTimeoutInSeconds
	MaxCallbackURILength  = 2048
	MaxSubjectLength      = 1024
	MaxIdentityLength     = 256 // ids and display names of identities
	defaultConnectLatency = 0
)

// Create places a call for the caller, as POST /communications/calls does:
// one target is a peer-to-peer call; several targets, or none, an ad hoc
// group call; chatInfo with meetingInfo joins a meeting. Read-only
// properties of spec (state, resultInfo, ...) are ignored. The returned leg
// is "establishing", as the new call was before anything answered it;
// notifications follow, even when a callee that answers at once was
// answered in the create's own commit.
func (s *Service) Create(ctx context.Context, c Caller, spec model.Call) (*Call, error) {
	kind, err := s.validateCreate(ctx, c, &spec)
	if err != nil {
		return nil, err
	}
	if err := s.reserve(c); err != nil {
		return nil, err
	}
	created := false
	defer func() {
		if !created {
			s.release(c)
		}
	}()
	now := s.cfg.Clock.Now().UTC()
	leg := &Call{
		ID:            newID(),
		AppID:         c.AppID,
		TenantID:      c.TenantID,
		ParticipantID: newID(),
		ChainID:       spec.CallChainID,
		CallbackURI:   spec.CallbackURI,
		Direction:     "outgoing",
		Spec:          echoSpec(spec),
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if leg.ChainID == "" {
		leg.ChainID = newID()
	}
	source := model.ParticipantInfo{Identity: applicationIdentity(c, spec.Source)}
	me := Participant{ID: leg.ParticipantID, CallID: leg.ID, Info: source, State: ParticipantInvited, Modalities: spec.RequestedModalities}
	ring := s.cfg.RingTimeout
	if spec.RingingTimeoutInSeconds != nil {
		ring = time.Duration(*spec.RingingTimeoutInSeconds) * time.Second
	}
	// first is the new leg as the 201 shows it: establishing, even when the
	// callee answers within the create's own transaction.
	var first Call
	// build adds the new leg, and the targets it rings, to a conversation.
	build := func(tx *txn) error {
		// "An app may join the same meeting multiple times; it must provide
		// a separate identity each time."
		mine, _ := identityKey(source.Identity)
		for _, l := range tx.conv.Legs {
			if l.State.Ended() || !owns(c, l) {
				continue
			}
			if p := tx.participant(l.ParticipantID); p != nil {
				if k, _ := identityKey(p.Info.Identity); k == mine {
					return invalid("source", "this application is already in the meeting as this identity; join again with a different source identity")
				}
			}
		}
		tx.conv.Legs = append(tx.conv.Legs, leg)
		tx.conv.Roster = append(tx.conv.Roster, me)
		if err := tx.transition(leg, InputCreate, nil); err != nil {
			return err
		}
		tx.armKeepAlive(leg)
		refs := map[string]bool{leg.ID: true}
		for _, t := range spec.Targets {
			tx.conv.Roster = append(tx.conv.Roster, Participant{ID: newID(), Info: model.ParticipantInfo{Identity: t.Identity}, State: ParticipantInvited, Modalities: spec.RequestedModalities, InvitedBy: leg.ID})
			p := &tx.conv.Roster[len(tx.conv.Roster)-1]
			refs[p.ID] = true
			s.ring(tx, p, t.Identity, ring)
		}
		if kind != KindPeerToPeer {
			// The application's own leg of a group call or meeting connects
			// at once; the people it invites join as they answer.
			tx.addTimer(TimerConnect, leg.ID, tx.now.Add(defaultConnectLatency))
		}
		first = *leg
		return s.runDue(tx, refs)
	}
	if kind == KindMeeting {
		if err := s.joinMeeting(ctx, c, &spec, now, build); err != nil {
			return nil, err
		}
	} else {
		conv := &Conversation{ID: newID(), Kind: kind, TenantID: c.TenantID, CreatedAt: now, UpdatedAt: now}
		tx := &txn{conv: conv, now: now, dirty: true}
		if err := build(tx); err != nil {
			return nil, err
		}
		if err := s.commitNew(ctx, tx); err != nil {
			return nil, err
		}
	}
	created = true
	s.log.Info("calls: created", "call_id", leg.ID, "tenant", c.TenantID, "app", c.AppID, "kind", kind, "targets", len(spec.Targets))
	return &first, nil
}

// runDue runs, inside a create's own transaction, the connect and answer
// timers of the create (those whose Ref is in refs) that are already due:
// a callee that answers at once is answered in the same commit as the
// create, instead of a timer and a second commit right after it. The
// notifications come out as the timers would have made them, connect
// before answers.
func (s *Service) runDue(tx *txn, refs map[string]bool) error {
	for _, kind := range []TimerKind{TimerConnect, TimerAnswer} {
		for {
			t, ok := tx.dueTimer(kind, refs)
			if !ok {
				break
			}
			tx.removeTimer(t)
			if err := s.onTimer(tx, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// dueTimer returns the first timer of kind, due by tx.now, whose Ref is in
// refs.
func (tx *txn) dueTimer(kind TimerKind, refs map[string]bool) (Timer, bool) {
	for _, t := range tx.conv.Timers {
		if t.Kind == kind && refs[t.Ref] && !t.Due.After(tx.now) {
			return t, true
		}
	}
	return Timer{}, false
}

// ring calls a target's endpoint and schedules what it will do; the
// behaviour stays with the participant for what it does after answering.
//
// A target bound to a live endpoint is dialled once the commit is done;
// only the ring timeout is the domain's to keep.
func (s *Service) ring(tx *txn, p *Participant, id *model.IdentitySet, ringTimeout time.Duration) {
	if p.Endpoint = s.bind(tx.conv.TenantID, id); p.Endpoint != EndpointSimulated {
		tx.dial(s.cfg.Endpoints, p, tx.callerOf(p.InvitedBy))
		tx.addTimer(TimerRingTimeout, p.ID, tx.now.Add(ringTimeout))
		return
	}
	var b Behaviour
	if id != nil {
		b = s.cfg.Directory.Behaviour(*id)
	}
	p.Behaviour = b
	switch b.Outcome {
	case OutcomeUnreachable:
		tx.addTimer(TimerUnreachable, p.ID, tx.now.Add(b.After))
		return
	case OutcomeBusy:
		tx.addTimer(TimerReject, p.ID, tx.now.Add(b.After))
		return
	case OutcomeAnswer, "":
		if b.After < ringTimeout {
			tx.addTimer(TimerAnswer, p.ID, tx.now.Add(b.After))
		}
	}
	tx.addTimer(TimerRingTimeout, p.ID, tx.now.Add(ringTimeout))
}

// validateCreate checks a create request and says what kind of
// conversation it makes.
func (s *Service) validateCreate(ctx context.Context, c Caller, spec *model.Call) (Kind, error) {
	if spec.MediaConfig == nil {
		return "", invalid("mediaConfig", "is required: a serviceHostedMediaConfig or an appHostedMediaConfig")
	}
	if err := s.checkMediaConfig(spec.MediaConfig); err != nil {
		return "", err
	}
	// callChainId goes out in every callback's X-Microsoft-Skype-Chain-ID
	// header: it must be the GUID Graph says it is.
	if spec.CallChainID != "" && !isGUID(spec.CallChainID) {
		return "", invalid("callChainId", "must be a GUID such as 5e7f6c52-7d8a-4e51-9b3c-2f6a1d0e9c11")
	}
	if len(spec.RequestedModalities) == 0 {
		return "", invalid("requestedModalities", "is required and must not be empty")
	}
	for i, m := range spec.RequestedModalities {
		if m == "" || m == model.ModalityUnknownFutureValue {
			return "", invalid(fmtIndex("requestedModalities", i), "is not a modality this server can provide")
		}
	}
	if err := s.validateCallback(ctx, spec.CallbackURI); err != nil {
		return "", err
	}
	if spec.Subject != nil && len(*spec.Subject) > MaxSubjectLength {
		return "", invalid("subject", "is longer than %d characters", MaxSubjectLength)
	}
	if r := spec.RingingTimeoutInSeconds; r != nil && (*r < 1 || *r > MaxRingingTimeout) {
		return "", invalid("ringingTimeoutInSeconds", "must be between 1 and %d", MaxRingingTimeout)
	}
	seen := make(map[string]bool)
	for i, t := range spec.Targets {
		if err := checkIdentityLengths(fmtIndex("targets", i)+".identity", t.Identity); err != nil {
			return "", err
		}
		key, ok := identityKey(t.Identity)
		if !ok {
			return "", invalid(fmtIndex("targets", i)+".identity", "must name a user, phone, application, applicationInstance or guest with an id")
		}
		if seen[key] {
			return "", invalid(fmtIndex("targets", i)+".identity", "invites the same identity twice")
		}
		seen[key] = true
	}
	var kind Kind
	switch {
	case spec.MeetingInfo != nil:
		kind = KindMeeting
		if !c.has(RoleJoinGroupCall) && !c.has(RoleJoinAsGuest) {
			return "", &PermissionError{Action: "joining a meeting", Needed: []string{RoleJoinGroupCall, RoleJoinAsGuest}}
		}
	case len(spec.Targets) == 1:
		kind = KindPeerToPeer
		if !c.has(RoleInitiate) {
			return "", &PermissionError{Action: "a peer-to-peer call", Needed: []string{RoleInitiate}}
		}
	default:
		kind = KindGroup
		if len(spec.Targets) > MaxGroupTargets {
			return "", invalid("targets", "a group call can invite at most %d targets, got %d", MaxGroupTargets, len(spec.Targets))
		}
		if !c.has(RoleInitiateGroupCall) {
			return "", &PermissionError{Action: "a group call", Needed: []string{RoleInitiateGroupCall}}
		}
	}
	if spec.MediaConfig.IsAppHosted() && !c.has(RoleAccessMedia) {
		return "", &PermissionError{Action: "app-hosted media", Needed: []string{RoleAccessMedia}}
	}
	if err := s.checkMediaBlob(spec.MediaConfig); err != nil {
		return "", err
	}
	return kind, nil
}

// checkMediaBlob vets an app-hosted media configuration's blob.
func (s *Service) checkMediaBlob(mc *model.MediaConfig) error {
	if mc == nil || !mc.IsAppHosted() || mc.Blob == nil || s.cfg.CheckMediaBlob == nil {
		return nil
	}
	if err := s.cfg.CheckMediaBlob(*mc.Blob); err != nil {
		return invalid("mediaConfig.blob", "%s", err.Error())
	}
	return nil
}

// validateCallback checks a callbackUri: absolute https, or http to a
// loopback host in development mode.
func (s *Service) validateCallback(ctx context.Context, raw string) error {
	if raw == "" {
		return invalid("callbackUri", "is required: notifications about the call are posted there")
	}
	if len(raw) > MaxCallbackURILength {
		return invalid("callbackUri", "is longer than %d characters", MaxCallbackURILength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return invalid("callbackUri", "must be an absolute https URL without user information")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		if s.cfg.CheckCallback != nil {
			if err := s.cfg.CheckCallback(ctx, u); err != nil {
				return invalid("callbackUri", "points where callbacks may not go (%v); an operator can allow it with notifications.allowNetworks", err)
			}
		}
		return nil
	case "http":
		if s.cfg.AllowLoopbackHTTP && isLoopback(u.Hostname()) {
			return nil
		}
		if s.cfg.AllowLoopbackHTTP {
			return invalid("callbackUri", "must be https; http is allowed only to a loopback host (127.0.0.1, ::1, localhost) in development mode")
		}
		return invalid("callbackUri", "must be an https URL")
	default:
		return invalid("callbackUri", "must be an https URL")
	}
}

// isGUID says whether s is a GUID in its canonical 36-character form.
func isGUID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// identityKey names the identity a target points at, for duplicate checks
// and for the directory.
func identityKey(is *model.IdentitySet) (string, bool) {
	if is == nil {
		return "", false
	}
	for _, c := range []struct {
		kind string
		id   *model.Identity
	}{
		{"user", is.User}, {"phone", is.Phone}, {"application", is.Application},
		{"applicationInstance", is.ApplicationInstance}, {"guest", is.Guest},
		{"azureCommunicationServicesUser", is.AzureCommunicationServicesUser}, {"encrypted", is.Encrypted},
		{"onPremises", is.OnPremises},
	} {
		if c.id != nil && c.id.ID != "" {
			return c.kind + ":" + strings.ToLower(c.id.ID), true
		}
	}
	return "", false
}

// applicationIdentity is the identity the application's leg shows in the
// roster: the request's source, or the application itself.
func applicationIdentity(c Caller, source *model.ParticipantInfo) *model.IdentitySet {
	if source != nil && source.Identity != nil {
		return source.Identity
	}
	return &model.IdentitySet{Application: &model.Identity{ID: c.AppID}}
}

// echoSpec keeps what the application may set on a call and drops what the
// server owns (read-only properties that a create body may carry).
func echoSpec(in model.Call) model.Call {
	return model.Call{
		CallbackURI:             in.CallbackURI,
		Source:                  in.Source,
		Targets:                 in.Targets,
		RequestedModalities:     in.RequestedModalities,
		MediaConfig:             in.MediaConfig,
		CallOptions:             in.CallOptions,
		ChatInfo:                in.ChatInfo,
		MeetingInfo:             in.MeetingInfo,
		Subject:                 in.Subject,
		TenantID:                in.TenantID,
		RingingTimeoutInSeconds: in.RingingTimeoutInSeconds,
		RoutingPolicies:         in.RoutingPolicies,
	}
}

// checkIdentityLengths bounds the strings of an identity set.
func checkIdentityLengths(field string, is *model.IdentitySet) error {
	if is == nil {
		return nil
	}
	for name, id := range map[string]*model.Identity{
		"user": is.User, "phone": is.Phone, "application": is.Application, "applicationInstance": is.ApplicationInstance,
		"guest": is.Guest, "device": is.Device, "encrypted": is.Encrypted, "onPremises": is.OnPremises,
		"azureCommunicationServicesUser": is.AzureCommunicationServicesUser, "assertedIdentity": is.AssertedIdentity,
	} {
		if id == nil {
			continue
		}
		if len(id.ID) > MaxIdentityLength {
			return invalid(field+"."+name+".id", "is longer than %d characters", MaxIdentityLength)
		}
		if id.DisplayName != nil && len(*id.DisplayName) > MaxIdentityLength {
			return invalid(field+"."+name+".displayName", "is longer than %d characters", MaxIdentityLength)
		}
	}
	return nil
}
