package calls

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// MeetingKey names the meeting a create request joins, as Directory rules
// name it: "jmid:<joinMeetingId>", "token:<token>" or "thread:<threadId>".
// Applications of one tenant that name the same meeting share one
// conversation and its roster.
func MeetingKey(spec *model.Call) (key, passcode string, err error) {
	mi := spec.MeetingInfo
	switch {
	case mi == nil:
		return "", "", invalid("meetingInfo", "is required to join a meeting")
	case mi.JoinMeetingID != "":
		id := strings.Join(strings.Fields(mi.JoinMeetingID), "")
		if mi.Passcode != nil {
			passcode = *mi.Passcode
		}
		return "jmid:" + id, passcode, nil
	case mi.Token != "":
		return "token:" + mi.Token, "", nil
	case spec.ChatInfo != nil && spec.ChatInfo.ThreadID != "":
		return "thread:" + strings.ToLower(spec.ChatInfo.ThreadID), "", nil
	default:
		return "", "", invalid("chatInfo.threadId", "is required to join a meeting by organizerMeetingInfo (or give joinMeetingIdMeetingInfo or tokenMeetingInfo)")
	}
}

// joinMeeting adds a new leg (through build) to the tenant's live meeting
// with the request's key, or starts that meeting. The simulated identities
// configured to join it are scheduled when it starts.
func (s *Service) joinMeeting(ctx context.Context, c Caller, spec *model.Call, now time.Time, build func(*txn) error) error {
	key, passcode, err := MeetingKey(spec)
	if err != nil {
		return err
	}
	scoped := strings.ToLower(c.TenantID) + "|" + key
	for attempt := 0; attempt < 3; attempt++ {
		s.mu.Lock()
		e := s.meetings[scoped]
		if e == nil && s.clustered() {
			// Another node may hold the meeting: the request belongs there.
			s.mu.Unlock()
			if err := s.meetingElsewhere(ctx, scoped); err != nil {
				return err
			}
			s.mu.Lock()
			e = s.meetings[scoped]
		}
		if e == nil {
			conv := &Conversation{ID: newID(), Kind: KindMeeting, TenantID: c.TenantID, MeetingKey: scoped, Passcode: passcode, CreatedAt: now, UpdatedAt: now}
			e = &entry{conv: &Conversation{ID: conv.ID, MeetingKey: scoped}, timers: make(map[Timer]clock.Timer)}
			e.mu.Lock() // e is new: nobody else can hold it
			s.meetings[scoped] = e
			s.mu.Unlock()
			err := s.startMeeting(ctx, e, conv, key, now, build)
			e.mu.Unlock()
			return err
		}
		s.mu.Unlock()
		err := s.update(ctx, e, func(tx *txn) error {
			if tx.conv.Passcode != "" && tx.conv.Passcode != passcode {
				return invalid("meetingInfo.passcode", "does not match the meeting's passcode")
			}
			return build(tx)
		})
		if errors.Is(err, ErrNotFound) {
			continue // the meeting ended meanwhile: start a new one
		}
		return err
	}
	return ErrUnavailable
}

// startMeeting commits a new meeting conversation. Called with e.mu held.
func (s *Service) startMeeting(ctx context.Context, e *entry, conv *Conversation, key string, now time.Time, build func(*txn) error) error {
	fail := func(err error) error {
		e.gone = true
		s.mu.Lock()
		if s.meetings[conv.MeetingKey] == e {
			delete(s.meetings, conv.MeetingKey)
		}
		s.mu.Unlock()
		return err
	}
	tx := &txn{conv: conv, now: now, dirty: true}
	if err := build(tx); err != nil {
		return fail(err)
	}
	for _, m := range s.cfg.Directory.MeetingMembers(key) {
		id := m.Identity
		conv.Roster = append(conv.Roster, Participant{ID: newID(), Info: model.ParticipantInfo{Identity: &id}, State: ParticipantInvited, Modalities: []model.Modality{model.ModalityAudio}, Behaviour: s.cfg.Directory.Behaviour(id)})
		tx.addTimer(TimerAnswer, conv.Roster[len(conv.Roster)-1].ID, now.Add(m.After))
	}
	s.mu.RLock()
	closed := s.closed || s.draining
	s.mu.RUnlock()
	if closed {
		return fail(ErrUnavailable)
	}
	conv.Lease = s.newLease()
	if err := s.cfg.Store.Commit(context.WithoutCancel(ctx), conv, tx.outbox); err != nil {
		return fail(s.commitFailed(nil, conv, err))
	}
	s.install(e, conv)
	s.cfg.Dispatcher.Enqueue(tx.outbox...)
	return nil
}
