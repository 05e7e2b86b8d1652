package calls_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

var errCrashed = errors.New("the server died")

// crashingStore is a store whose server dies after a number of
// conversation writes: every later write fails, and a transaction that
// would cross that point writes nothing, as a real one is rolled back.
type crashingStore struct {
	*callstest.Store
	mu   sync.Mutex
	left int // conversation writes before the crash; negative: none planned
}

func (s *crashingStore) crashAfter(writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left = writes
}

func (s *crashingStore) take(writes int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left < 0 {
		return true
	}
	if s.left < writes {
		s.left = 0
		return false
	}
	s.left -= writes
	return true
}

func (s *crashingStore) Commit(ctx context.Context, conv *calls.Conversation, outbox []calls.OutboxEntry) error {
	if !s.take(1) {
		return errCrashed
	}
	return s.Store.Commit(ctx, conv, outbox)
}

func (s *crashingStore) CommitAll(ctx context.Context, changes []calls.Change) error {
	if !s.take(len(changes)) {
		return errCrashed
	}
	return s.Store.CommitAll(ctx, changes)
}

// startService runs a Service over store; Shutdown is up to the caller.
func startService(t *testing.T, store calls.Store) *calls.Service {
	t.Helper()
	dir, err := sim.NewDirectory(time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := calls.New(calls.Config{Store: store, Dispatcher: &callstest.Dispatcher{}, Directory: dir, AllowLoopbackHTTP: true, Logger: slog.New(slog.DiscardHandler)})
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestMoveIsNeverHalfDone: an invite with replacesCallId and a consultative
// transfer each change two conversations. When the server dies at the
// second conversation's write, the restarted server shows either the whole
// move or none of it, never one call moved and the other not.
func TestMoveIsNeverHalfDone(t *testing.T) {
	type move struct {
		from, to string // the call whose participant moves, and the other
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, svc *calls.Service) move
		do    func(t *testing.T, svc *calls.Service, m move) error
		// moved reports whether the move happened, and fails t on half
		// a move.
		moved func(t *testing.T, svc *calls.Service, m move) bool
	}{{
		name: "invite with replacesCallId",
		setup: func(t *testing.T, svc *calls.Service) move {
			p2pCall, err := svc.Create(t.Context(), alice, p2p("bob"))
			if err != nil {
				t.Fatal(err)
			}
			spec := p2p("carol")
			spec.Targets = nil
			group, err := svc.Create(t.Context(), alice, spec)
			if err != nil {
				t.Fatal(err)
			}
			return move{from: p2pCall.ID, to: group.ID}
		},
		do: func(t *testing.T, svc *calls.Service, m move) error {
			_, err := svc.Invite(t.Context(), alice, m.to, model.InviteParticipantsRequest{Participants: []model.InvitationParticipantInfo{
				{Identity: &bob, ReplacesCallID: m.from},
			}})
			return err
		},
		moved: func(t *testing.T, svc *calls.Service, m move) bool {
			roster, err := svc.Participants(t.Context(), alice, m.to)
			if err != nil {
				t.Fatalf("group call: %v", err)
			}
			inGroup := len(roster) == 2
			_, err = svc.Get(t.Context(), alice, m.from)
			p2pEnded := errors.Is(err, calls.ErrNotFound)
			if inGroup != p2pEnded {
				t.Fatalf("half a move: bob in the group call = %v (roster of %d), peer-to-peer call ended = %v (%v)", inGroup, len(roster), p2pEnded, err)
			}
			return inGroup
		},
	}, {
		name: "consultative transfer",
		setup: func(t *testing.T, svc *calls.Service) move {
			first, err := svc.Create(t.Context(), alice, p2p("bob"))
			if err != nil {
				t.Fatal(err)
			}
			consult, err := svc.Create(t.Context(), alice, p2p("dave"))
			if err != nil {
				t.Fatal(err)
			}
			return move{from: first.ID, to: consult.ID}
		},
		do: func(t *testing.T, svc *calls.Service, m move) error {
			return svc.Transfer(t.Context(), alice, m.from, model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{
				Identity: &model.IdentitySet{User: &model.Identity{ID: "dave"}}, ReplacesCallID: m.to}})
		},
		moved: func(t *testing.T, svc *calls.Service, m move) bool {
			var ended []bool
			for _, id := range []string{m.from, m.to} {
				leg, err := svc.Get(t.Context(), alice, id)
				switch {
				case errors.Is(err, calls.ErrNotFound):
					ended = append(ended, true)
				case err != nil:
					t.Fatal(err)
				case leg.State != calls.StateEstablished:
					t.Fatalf("call %s is %s", id, leg.State)
				default:
					ended = append(ended, false)
				}
			}
			if ended[0] != ended[1] {
				t.Fatalf("half a move: transferred call ended = %v, consultation call ended = %v", ended[0], ended[1])
			}
			return ended[0]
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := callstest.NewStore()
				crashing := &crashingStore{Store: store, left: -1}
				svc := startService(t, crashing)
				m := tt.setup(t, svc)
				time.Sleep(time.Second) // the callees answer
				synctest.Wait()

				crashing.crashAfter(1) // the first conversation's write goes through
				if err := tt.do(t, svc, m); !errors.Is(err, calls.ErrUnavailable) {
					t.Fatalf("move as the server dies = %v, want %v", err, calls.ErrUnavailable)
				}
				if err := svc.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}

				restarted := startService(t, store)
				defer restarted.Shutdown(context.Background())
				synctest.Wait() // timers that fell due while it was down
				if tt.moved(t, restarted, m) {
					t.Fatal("the move happened although its commit failed")
				}

				// The restarted server moves them whole.
				if err := tt.do(t, restarted, m); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if !tt.moved(t, restarted, m) {
					t.Fatal("the move did not happen")
				}
			})
		})
	}
}
