package calls

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// TestRecordingIsSavedBeforeItsNotificationOutsideTheLock: the WAV of a
// finished recordResponse is written outside the conversation's lock, so
// that a slow disk holds up no command of the call, and before the
// notification naming it commits, so that a bot never fetches a recording
// that does not exist yet.
func TestRecordingIsSavedBeforeItsNotificationOutsideTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &memStore{}
		rec := &heldRecordings{saving: make(chan struct{}), release: make(chan struct{})}
		s := New(Config{Store: store, Dispatcher: nopDispatcher{}, Directory: answerAtOnce{}, Media: nopMedia{}, Recordings: rec,
			AllowLoopbackHTTP: true, Logger: slog.New(slog.DiscardHandler)})
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		alice := Caller{TenantID: "t1", AppID: "app-a", Roles: []string{RoleInitiate, RoleAccessMedia}}
		leg, err := s.Create(t.Context(), alice, model.Call{
			CallbackURI:         "http://127.0.0.1:9/cb",
			Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{User: &model.Identity{ID: "bob"}}}},
			RequestedModalities: []model.Modality{model.ModalityAudio},
			MediaConfig:         &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // bob answers
		synctest.Wait()
		op, err := s.RecordResponse(t.Context(), alice, leg.ID, model.RecordResponseRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e, _, err := s.lookup(alice, leg.ID)
		if err != nil {
			t.Fatal(err)
		}
		committed := store.outboxLen()

		finished := make(chan struct{})
		go func() {
			defer close(finished)
			s.MediaRecordFinished(e.view.Load().ID, leg.ID, op.ID, MediaRecording{WAV: []byte("RIFF...."), Reason: model.RecordCompletionReasonMaxRecordDurationReached})
		}()
		<-rec.saving
		locked := !e.mu.TryLock()
		if !locked {
			e.mu.Unlock()
		}
		early := store.outboxLen() - committed
		close(rec.release)
		<-finished
		if locked {
			t.Error("the recording was written with the conversation's lock held")
		}
		if early != 0 {
			t.Errorf("%d notifications committed while the recording was still being written", early)
		}

		got, err := s.Operation(alice, leg.ID, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != model.OperationStatusCompleted || got.RecordingLocation == nil || *got.RecordingLocation != heldLocation {
			b, _ := json.Marshal(got)
			t.Fatalf("operation after the recording was saved: %s", b)
		}
		if n := store.outboxLen() - committed; n != 1 || !strings.Contains(string(store.lastBody()), heldLocation) {
			t.Fatalf("%d notifications after the save, the last %s; want one naming %s", n, store.lastBody(), heldLocation)
		}
	})
}

const heldLocation = "https://switchboard.example/switchboard/v1/recordings/0123"

// heldRecordings saves nothing: each Save reports on saving, then waits
// for release.
type heldRecordings struct {
	saving, release chan struct{}
}

func (r *heldRecordings) Save(context.Context, string, string, string, string, []byte) (string, string, error) {
	r.saving <- struct{}{}
	<-r.release
	return heldLocation, "token", nil
}

// memStore keeps what is committed in memory.
type memStore struct {
	mu     sync.Mutex
	outbox []OutboxEntry
}

func (s *memStore) Commit(_ context.Context, _ *Conversation, outbox []OutboxEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = append(s.outbox, outbox...)
	return nil
}

func (s *memStore) CommitAll(ctx context.Context, changes []Change) error {
	for _, c := range changes {
		s.Commit(ctx, c.Conversation, c.Outbox)
	}
	return nil
}

func (s *memStore) LoadLive(context.Context) ([]*Conversation, error) { return nil, nil }

func (s *memStore) outboxLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbox)
}

func (s *memStore) lastBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.outbox) == 0 {
		return nil
	}
	return s.outbox[len(s.outbox)-1].Body
}

type nopDispatcher struct{}

func (nopDispatcher) Enqueue(...OutboxEntry) {}

// answerAtOnce is a Directory in which everyone answers at once.
type answerAtOnce struct{}

func (answerAtOnce) Behaviour(model.IdentitySet) Behaviour { return Behaviour{Outcome: OutcomeAnswer} }
func (answerAtOnce) MeetingMembers(string) []Member        { return nil }

// nopMedia is a Media that does nothing; tests report its results.
type nopMedia struct{}

func (nopMedia) AddLeg(string, string)                                         {}
func (nopMedia) RemoveLeg(string, string)                                      {}
func (nopMedia) AddPerson(string, string, Behaviour)                           {}
func (nopMedia) RemovePerson(string, string)                                   {}
func (nopMedia) MutePerson(string, string, bool)                               {}
func (nopMedia) Play(MediaScope, string, string, string, []model.MediaInfo)    {}
func (nopMedia) Record(MediaScope, string, string, string, RecordSpec)         {}
func (nopMedia) SendTones(string, string, string, []model.Tone, time.Duration) {}
func (nopMedia) SubscribeTones(string, string)                                 {}
func (nopMedia) Cancel(string, string)                                         {}
func (nopMedia) CloseRoom(string)                                              {}
func (nopMedia) Prefetch(MediaScope, []model.MediaInfo)                        {}
