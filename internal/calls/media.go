package calls

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Media is the audio engine behind service-hosted media: it plays prompts
// into a leg, records what a leg hears, detects and sends DTMF tones. Every
// method returns at once; results come back through the Service's Media*
// methods. Rooms are conversation ids, legs call ids, people participant
// ids. Implementations must be safe for concurrent use.
//
// Prompts are fetched on behalf of an application: the MediaScope passed
// with them says whose they are, and a prompt fetched (or cached) for one
// scope is never played for another.
type Media interface {
	AddLeg(room, leg string)
	RemoveLeg(room, leg string)
	// AddPerson puts a simulated participant's voice in the room; it says
	// what its behaviour's script says.
	AddPerson(room, participant string, b Behaviour)
	RemovePerson(room, participant string)
	// MutePerson mutes or unmutes a simulated participant's voice.
	MutePerson(room, participant string, muted bool)
	Play(scope MediaScope, room, leg, opID string, prompts []model.MediaInfo)
	Record(scope MediaScope, room, leg, opID string, spec RecordSpec)
	SendTones(room, leg, opID string, tones []model.Tone, gap time.Duration)
	SubscribeTones(room, leg string)
	// Cancel stops the leg's running and queued plays and recordings; each
	// then finishes as canceled.
	Cancel(room, leg string)
	CloseRoom(room string)
	// Prefetch loads prompts ahead of use (preFetchMedia).
	Prefetch(scope MediaScope, media []model.MediaInfo)
}

// MediaScope is the application, and its tenant, on whose behalf prompts
// are fetched: the owner of the leg that plays them.
type MediaScope struct {
	Tenant string
	App    string
}

// mediaScope is the scope of the leg's prompts.
func mediaScope(leg *Call) MediaScope { return MediaScope{Tenant: leg.TenantID, App: leg.AppID} }

// RecordSpec is a recordResponse request with Graph's defaults applied.
type RecordSpec struct {
	Prompt         *model.MediaInfo
	Beep           bool
	BargeIn        bool
	InitialSilence time.Duration
	MaxSilence     time.Duration
	MaxDuration    time.Duration
	StopTones      []rune
}

// Recordings keeps finished recordings and serves them to the bot.
type Recordings interface {
	// Save stores a WAV and returns where the bot fetches it and the bearer
	// token that fetch needs.
	Save(ctx context.Context, tenantID, appID, callID, opID string, wav []byte) (location, token string, err error)
}

// Limits of the media actions (reference §1.3 and §3.4). Graph documents
// no limit for preFetchMedia or for a mediaInfo's uri and resourceId:
// Switchboard takes playPrompt's 20 prompts, callbackUri's 2,048
// characters and an identity id's 256.
const (
	MaxPrompts          = 20
	MaxPreFetchMedia    = MaxPrompts
	MaxPromptURILength  = MaxCallbackURILength
	MaxResourceIDLength = MaxIdentityLength
	MaxRecordSeconds    = 120
	DefaultRecordLimit  = 5 // seconds: initialSilence, maxSilence and maxRecordDuration default
)

// Results of media operations.
var (
	ResultMediaCanceled  = ResultInfo{Code: 400, Subcode: 8508, Message: "Action failed, the operation was cancelled."}
	ResultPromptFailed   = ResultInfo{Code: 400, Subcode: 8522, Message: "Action failed, the prompt could not be played."}
	ResultMaxDuration    = ResultInfo{Code: 200, Subcode: 8515, Message: "Action completed, max record duration reached."}
	ResultStopTone       = ResultInfo{Code: 200, Subcode: 8514, Message: "Action completed, stop tone detected."}
	ResultInitialSilence = ResultInfo{Code: 400, Subcode: 8510, Message: "Action failed, initial silence timeout."}
	ResultMaxSilence     = ResultInfo{Code: 200, Subcode: 8516, Message: "Action completed, max silence timeout reached."}
)

// serviceHosted refuses media actions on app-hosted calls, as Graph does.
func serviceHosted(leg *Call, action string) error {
	if leg.Spec.MediaConfig != nil && leg.Spec.MediaConfig.IsAppHosted() {
		return invalid("", "%s is supported only for calls with service-hosted media (serviceHostedMediaConfig)", action)
	}
	if leg.State != StateEstablished {
		return notEstablished(leg, action)
	}
	return nil
}

// checkMediaInfo checks a mediaInfo (field is its JSON path): a prompt of
// playPrompt or recordResponse, or an entry of preFetchMedia.
func (s *Service) checkMediaInfo(field string, mi model.MediaInfo) error {
	if err := s.checkPromptURI(field+".uri", mi.URI); err != nil {
		return err
	}
	if mi.ResourceID != nil && len(*mi.ResourceID) > MaxResourceIDLength {
		return invalid(field+".resourceId", "is longer than %d characters", MaxResourceIDLength)
	}
	return nil
}

// checkMediaConfig checks the mediaConfig of a create or an answer: at
// most MaxPreFetchMedia preFetchMedia entries, each a valid mediaInfo.
func (s *Service) checkMediaConfig(mc *model.MediaConfig) error {
	if len(mc.PreFetchMedia) > MaxPreFetchMedia {
		return invalid("mediaConfig.preFetchMedia", "may list at most %d media, got %d", MaxPreFetchMedia, len(mc.PreFetchMedia))
	}
	for i, mi := range mc.PreFetchMedia {
		if err := s.checkMediaInfo(fmtIndex("mediaConfig.preFetchMedia", i), mi); err != nil {
			return err
		}
	}
	return nil
}

// checkPromptURI accepts http(s) prompt URIs of at most MaxPromptURILength
// characters, and file: URIs in development mode.
func (s *Service) checkPromptURI(field, raw string) error {
	if len(raw) > MaxPromptURILength {
		return invalid(field, "is longer than %d characters", MaxPromptURILength)
	}
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return invalid(field, "must be an absolute http or https URL of a WAV file")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return invalid(field, "must be an absolute http or https URL of a WAV file")
		}
		return nil
	case "file":
		if s.cfg.AllowLoopbackHTTP {
			return nil
		}
		return invalid(field, "file: prompts are allowed only in development mode")
	default:
		return invalid(field, "must be an absolute http or https URL of a WAV file")
	}
}

// mediaOperation runs the common part of a media action as one command on
// the caller's leg: check the leg (service-hosted unless anyMedia, and
// established), record the operation, and, once that is committed, start it
// in the Media with start(room, leg, opID).
func (s *Service) mediaOperation(ctx context.Context, c Caller, callID, action, typ string, clientContext *string,
	status model.OperationStatus, anyMedia bool, start func(m Media, scope MediaScope, room, leg, opID string)) (model.CommsOperation, error) {
	m, err := s.media()
	if err != nil {
		return model.CommsOperation{}, err
	}
	if err := checkClientContext(clientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err = s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if anyMedia && leg.State != StateEstablished {
			return notEstablished(leg, action)
		}
		if !anyMedia {
			if err := serviceHosted(leg, action); err != nil {
				return err
			}
		}
		if typ == model.TypeRecordOperation && !c.has(RoleAccessMedia) {
			return &PermissionError{Action: action, Needed: []string{RoleAccessMedia}}
		}
		op = tx.newOperation(leg, typ, clientContext, status)
		room, id, scope := tx.conv.ID, op.ID, mediaScope(leg)
		// Under the conversation's lock, so that operations reach the media
		// in commit order: Graph's media queue is FIFO.
		tx.afterCommit(func() { start(m, scope, room, strings.ToLower(callID), id) })
		return nil
	})
	return op, err
}

func (s *Service) media() (Media, error) {
	if s.cfg.Media == nil {
		return nil, &notAvailable{"service-hosted media is not available on this server"}
	}
	return s.cfg.Media, nil
}

type notAvailable struct{ msg string }

func (e *notAvailable) Error() string        { return "calls: " + e.msg }
func (e *notAvailable) Is(target error) bool { return target == ErrNotImplemented }

// PlayPrompt queues prompts to play into the call (200 with a Running
// playPromptOperation; a notification when it completes).
func (s *Service) PlayPrompt(ctx context.Context, c Caller, callID string, req model.PlayPromptRequest) (model.CommsOperation, error) {
	if _, err := s.media(); err != nil {
		return model.CommsOperation{}, err
	}
	if len(req.Prompts) == 0 || len(req.Prompts) > MaxPrompts {
		return model.CommsOperation{}, invalid("prompts", "must hold 1 to %d prompts, got %d", MaxPrompts, len(req.Prompts))
	}
	infos := make([]model.MediaInfo, len(req.Prompts))
	for i, p := range req.Prompts {
		if p.MediaInfo == nil {
			return model.CommsOperation{}, invalid(fmtIndex("prompts", i)+".mediaInfo", "is required")
		}
		if err := s.checkMediaInfo(fmtIndex("prompts", i)+".mediaInfo", *p.MediaInfo); err != nil {
			return model.CommsOperation{}, err
		}
		infos[i] = *p.MediaInfo
	}
	return s.mediaOperation(ctx, c, callID, "playPrompt", model.TypePlayPromptOperation, req.ClientContext, model.OperationStatusRunning, false,
		func(m Media, scope MediaScope, room, leg, opID string) { m.Play(scope, room, leg, opID, infos) })
}

// RecordResponse records what the caller says (200 with a Running
// recordOperation; a notification with recordingLocation and
// recordingAccessToken when it ends).
func (s *Service) RecordResponse(ctx context.Context, c Caller, callID string, req model.RecordResponseRequest) (model.CommsOperation, error) {
	if _, err := s.media(); err != nil {
		return model.CommsOperation{}, err
	}
	spec := RecordSpec{Beep: req.PlayBeep == nil || *req.PlayBeep, BargeIn: req.BargeInAllowed != nil && *req.BargeInAllowed}
	if len(req.Prompts) > 1 {
		return model.CommsOperation{}, invalid("prompts", "takes at most 1 prompt, got %d", len(req.Prompts))
	}
	if len(req.Prompts) == 1 {
		p := req.Prompts[0].MediaInfo
		if p == nil {
			return model.CommsOperation{}, invalid("prompts[0].mediaInfo", "is required")
		}
		if err := s.checkMediaInfo("prompts[0].mediaInfo", *p); err != nil {
			return model.CommsOperation{}, err
		}
		spec.Prompt = p
	}
	for _, t := range []struct {
		field string
		v     *int32
		dst   *time.Duration
	}{
		{"initialSilenceTimeoutInSeconds", req.InitialSilenceTimeoutInSeconds, &spec.InitialSilence},
		{"maxSilenceTimeoutInSeconds", req.MaxSilenceTimeoutInSeconds, &spec.MaxSilence},
		{"maxRecordDurationInSeconds", req.MaxRecordDurationInSeconds, &spec.MaxDuration},
	} {
		secs := int32(DefaultRecordLimit)
		if t.v != nil {
			secs = *t.v
		}
		if secs < 1 || secs > MaxRecordSeconds {
			return model.CommsOperation{}, invalid(t.field, "must be between 1 and %d seconds", MaxRecordSeconds)
		}
		*t.dst = time.Duration(secs) * time.Second
	}
	for i, st := range req.StopTones {
		r, ok := dtmfKey(st)
		if !ok {
			return model.CommsOperation{}, invalid(fmtIndex("stopTones", i), "'%s' is not a DTMF key (0-9, *, #, A-D)", st)
		}
		spec.StopTones = append(spec.StopTones, r)
	}
	return s.mediaOperation(ctx, c, callID, "recordResponse", model.TypeRecordOperation, req.ClientContext, model.OperationStatusRunning, false,
		func(m Media, scope MediaScope, room, leg, opID string) { m.Record(scope, room, leg, opID, spec) })
}

// dtmfKey accepts a stop tone as Graph's examples write it ("#", "1", "*")
// or as a tone enum name ("pound", "tone1").
func dtmfKey(s string) (rune, bool) {
	if len(s) == 1 && strings.ContainsRune("0123456789*#ABCDabcd", rune(s[0])) {
		return []rune(strings.ToUpper(s))[0], true
	}
	if t, err := model.ParseTone(s); err == nil {
		return toneKey(t)
	}
	return 0, false
}

// toneKey maps a Graph tone to its DTMF key.
func toneKey(t model.Tone) (rune, bool) {
	switch t {
	case model.ToneStar:
		return '*', true
	case model.TonePound:
		return '#', true
	case model.ToneA, model.ToneB, model.ToneC, model.ToneD:
		return []rune(strings.ToUpper(string(t)))[0], true
	}
	if s := string(t); strings.HasPrefix(s, "tone") && len(s) == 5 && s[4] >= '0' && s[4] <= '9' {
		return rune(s[4]), true
	}
	return 0, false
}

// keyTone is toneKey's inverse.
func keyTone(k rune) model.Tone {
	switch {
	case k >= '0' && k <= '9':
		return model.Tone("tone" + string(k))
	case k == '*':
		return model.ToneStar
	case k == '#':
		return model.TonePound
	case k >= 'A' && k <= 'D':
		return model.Tone(strings.ToLower(string(k)))
	}
	return model.ToneFlash
}

// SubscribeToTone asks for a notification for every DTMF key the call
// hears (200 with a Completed subscribeToToneOperation).
func (s *Service) SubscribeToTone(ctx context.Context, c Caller, callID string, req model.SubscribeToToneRequest) (model.CommsOperation, error) {
	return s.mediaOperation(ctx, c, callID, "subscribeToTone", model.TypeSubscribeToToneOperation, req.ClientContext, model.OperationStatusCompleted, false,
		func(m Media, _ MediaScope, room, leg, _ string) { m.SubscribeTones(room, leg) })
}

// SendDtmfTones plays DTMF tones into the call (200 with a Running
// sendDtmfTonesOperation; a notification with completionReason when done).
func (s *Service) SendDtmfTones(ctx context.Context, c Caller, callID string, req model.SendDtmfTonesRequest) (model.CommsOperation, error) {
	if _, err := s.media(); err != nil {
		return model.CommsOperation{}, err
	}
	if len(req.Tones) == 0 {
		return model.CommsOperation{}, invalid("tones", "is required and must not be empty")
	}
	for i, t := range req.Tones {
		if _, ok := toneKey(t); !ok {
			return model.CommsOperation{}, invalid(fmtIndex("tones", i), "'%s' cannot be sent as a DTMF tone", t)
		}
	}
	gap := 100 * time.Millisecond
	if req.DelayBetweenTonesMs != nil {
		if *req.DelayBetweenTonesMs < 0 || *req.DelayBetweenTonesMs > 10000 {
			return model.CommsOperation{}, invalid("delayBetweenTonesMs", "must be between 0 and 10000")
		}
		gap = time.Duration(*req.DelayBetweenTonesMs) * time.Millisecond
	}
	return s.mediaOperation(ctx, c, callID, "sendDtmfTones", model.TypeSendDtmfTonesOperation, req.ClientContext, model.OperationStatusRunning, true,
		func(m Media, _ MediaScope, room, leg, opID string) { m.SendTones(room, leg, opID, req.Tones, gap) })
}

// CancelMediaProcessing cancels the call's running and queued playPrompt
// and recordResponse operations (each then fails with 400/8508 and its own
// notification); tone subscriptions stay. It returns a Completed
// cancelMediaProcessingOperation.
func (s *Service) CancelMediaProcessing(ctx context.Context, c Caller, callID string, req model.CancelMediaProcessingRequest) (model.CommsOperation, error) {
	return s.mediaOperation(ctx, c, callID, "cancelMediaProcessing", model.TypeCancelMediaProcessingOperation, req.ClientContext, model.OperationStatusCompleted, false,
		func(m Media, _ MediaScope, room, leg, _ string) { m.Cancel(room, leg) })
}
