package calls

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// scopeMedia is a Media that keeps the scope of every prompt it is asked
// to fetch.
type scopeMedia struct {
	nopMedia
	mu     sync.Mutex
	scopes []string // "what tenant/app"
}

func (m *scopeMedia) add(what string, s MediaScope) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scopes = append(m.scopes, what+" "+s.Tenant+"/"+s.App)
}

func (m *scopeMedia) Play(s MediaScope, _, _, _ string, _ []model.MediaInfo) { m.add("play", s) }
func (m *scopeMedia) Record(s MediaScope, _, _, _ string, _ RecordSpec)      { m.add("record", s) }
func (m *scopeMedia) Prefetch(s MediaScope, _ []model.MediaInfo)             { m.add("prefetch", s) }

// Prompts are fetched on behalf of the leg's owner: two applications of
// two tenants that play and prefetch the same resourceId reach the Media
// each with its own tenant and application.
func TestMediaScopeIsTheLegsOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &scopeMedia{}
		s := New(Config{Store: &memStore{}, Dispatcher: nopDispatcher{}, Directory: answerAtOnce{}, Media: m,
			AllowLoopbackHTTP: true, Logger: slog.New(slog.DiscardHandler)})
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		id := "welcome"
		prompt := model.MediaInfo{URI: "https://bot.example/welcome.wav", ResourceID: &id}
		roles := []string{RoleInitiate, RoleAccessMedia}
		var want []string
		for _, c := range []Caller{{TenantID: "t1", AppID: "app-a", Roles: roles}, {TenantID: "t2", AppID: "app-b", Roles: roles}} {
			leg, err := s.Create(t.Context(), c, model.Call{
				CallbackURI:         "http://127.0.0.1:9/cb",
				Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{User: &model.Identity{ID: "bob"}}}},
				RequestedModalities: []model.Modality{model.ModalityAudio},
				MediaConfig:         &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig, PreFetchMedia: []model.MediaInfo{prompt}},
			})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // bob answers
			synctest.Wait()
			if _, err := s.PlayPrompt(t.Context(), c, leg.ID, model.PlayPromptRequest{Prompts: []model.Prompt{{MediaInfo: &prompt}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordResponse(t.Context(), c, leg.ID, model.RecordResponseRequest{Prompts: []model.Prompt{{MediaInfo: &prompt}}}); err != nil {
				t.Fatal(err)
			}
			owner := c.TenantID + "/" + c.AppID
			want = append(want, "prefetch "+owner, "play "+owner, "record "+owner)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.scopes) != len(want) {
			t.Fatalf("media asked %v; want %v", m.scopes, want)
		}
		for i := range want {
			if m.scopes[i] != want[i] {
				t.Fatalf("media asked %v; want %v", m.scopes, want)
			}
		}
	})
}
