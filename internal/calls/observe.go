package calls

import "strings"

// Observer hears about calls as their changes commit, for metrics and
// traces. It is called after the commit, with the conversation's lock
// held: it must return quickly, must not call the Service, and must not
// modify the Call it is given.
type Observer interface {
	// CallChanged reports a call whose state a commit changed. from is
	// StateUnknown for a call the commit created.
	CallChanged(from State, call *Call)
}

// ConversationObserver, when the Observer also implements it, hears of
// every committed change of a conversation, with its new state: a live
// view (the console) reloads what shows it. It also hears of a
// conversation this process takes up (at start, or from another node) and
// of one it lets go (another node owns it now: a conversation with no
// legs). It is called with the
// conversation's lock held: it must not block, and must not change conv.
type ConversationObserver interface {
	ConversationChanged(conv *Conversation)
}

// observeConversation hands conv to a ConversationObserver: after a
// commit, and when the conversation comes into this process (adopted at
// start or from another node) or leaves it (evicted: conv has no legs).
func (s *Service) observeConversation(conv *Conversation) {
	if co, ok := s.cfg.Observer.(ConversationObserver); ok {
		co.ConversationChanged(conv)
	}
}

// SpeakerObserver, when the Observer also implements it, hears who starts
// and stops speaking in a conversation (the media engine's voice activity:
// a participant's voice, or a bot's prompts): a live view shows it. It is
// not state: nothing is stored or notified to bots. It is called from the
// media's event goroutine, in order: it must not block, and must not
// change conv.
type SpeakerObserver interface {
	SpeakingChanged(conv *Conversation, participantID string, speaking bool)
}

// MediaSpeaking reports that a member of a conversation's audio (a
// participant, or a call's leg: its bot) started or stopped speaking, to
// a SpeakerObserver.
func (s *Service) MediaSpeaking(room, member string, speaking bool) {
	so, ok := s.cfg.Observer.(SpeakerObserver)
	if !ok {
		return
	}
	s.mu.RLock()
	e := s.convs[room]
	s.mu.RUnlock()
	if e == nil {
		return
	}
	conv := e.view.Load()
	pid := member
	if l := conv.Leg(strings.ToLower(member)); l != nil {
		pid = l.ParticipantID
	}
	so.SpeakingChanged(conv, pid, speaking)
}

// observe tells the Observer about the calls whose state differs between
// old and new, and a ConversationObserver about the commit. Called with
// the conversation's lock held.
func (s *Service) observe(old, new *Conversation) {
	if s.cfg.Observer == nil {
		return
	}
	s.observeConversation(new)
	for _, l := range new.Legs {
		from := StateUnknown
		if o := old.Leg(l.ID); o != nil {
			from = o.State
		}
		if from != l.State {
			s.cfg.Observer.CallChanged(from, l)
		}
	}
}

// CountByState returns how many calls held in memory have not ended, in
// each state. It reads the committed state of every live conversation, so
// it costs time in proportion to them: it is for a metrics scrape, not for
// a request path.
func (s *Service) CountByState() map[State]int {
	s.mu.RLock()
	entries := make([]*entry, 0, len(s.convs))
	for _, e := range s.convs {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	counts := make(map[State]int)
	for _, e := range entries {
		for _, l := range e.view.Load().Legs {
			if !l.State.Ended() {
				counts[l.State]++
			}
		}
	}
	return counts
}
