package baseline

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// ContentType is the Content-Type Switchboard's Graph responses carry.
const ContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// callTemplate is a Switchboard GET /communications/calls/{id} body of a
// peer-to-peer call, as of this writing: host, id, state and the three
// generated ids are filled in.
const callTemplate = `{"@odata.context":"http://%s/v1.0/$metadata#communications/calls/$entity","@odata.type":"#microsoft.graph.call","id":"%s","state":"%s","direction":"outgoing","callbackUri":"%s","callChainId":"%s","myParticipantId":"%s","tenantId":"0000000d-0000-4000-8000-000000000001","targets":[{"@odata.type":"#microsoft.graph.invitationParticipantInfo","identity":{"@odata.type":"#microsoft.graph.identitySet","user":{"@odata.type":"#microsoft.graph.identity","id":"alice"}}}],"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`

// Server holds the calls in memory. The zero value is not usable; use New.
// It is safe for concurrent use.
type Server struct {
	mu    sync.RWMutex
	calls map[string][]byte
}

// New returns an empty Server.
func New() *Server { return &Server{calls: make(map[string][]byte)} }

// Handler serves:
//
//	GET  /v1.0/communications/calls/{id}  the stored body, 200, or a bare 404
//	POST /v1.0/communications/calls       stores a call, 201; the request
//	                                      body is not read
//	POST /{tenant}/oauth2/v2.0/token      a fixed token, so that sbload runs
//	                                      unchanged
//	GET  /switchboard/v1/ready            200
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1.0/communications/calls/{id}", s.get)
	mux.HandleFunc("POST /v1.0/communications/calls", s.create)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"baseline-token"}`))
	})
	mux.HandleFunc("GET /switchboard/v1/ready", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ready"}`))
	})
	return mux
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	body, ok := s.calls[r.PathValue("id")]
	s.mu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Write(body)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	id := newID()
	// The callbackUri stands in with a fixed string of a typical length;
	// the baseline does not parse JSON.
	const callback = "http://127.0.0.1:40000/callback"
	stored := fmt.Appendf(nil, callTemplate, r.Host, id, "established", callback, newID(), newID())
	created := fmt.Appendf(nil, callTemplate, r.Host, id, "establishing", callback, newID(), newID())
	s.mu.Lock()
	s.calls[id] = stored
	s.mu.Unlock()
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Location", "http://"+r.Host+"/v1.0/communications/calls/"+id)
	w.WriteHeader(http.StatusCreated)
	w.Write(created)
}

// newID returns a random version 4 UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	return strings.ToLower(s)
}
