package graph_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// fakeAuth accepts "Bearer <app>" for the apps it knows.
type fakeAuth struct{}

func (fakeAuth) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return auth.Principal{}, auth.ErrMissingToken
	}
	app, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || (app != "app-a" && app != "app-b") {
		return auth.Principal{}, auth.ErrInvalidToken
	}
	return auth.Principal{TenantID: "t1", AppID: app, Roles: []string{calls.RoleInitiate, calls.RoleInitiateGroupCall, calls.RoleJoinGroupCall}}, nil
}

func (fakeAuth) WWWAuthenticate(error) string { return `Bearer error="invalid_token"` }

type server struct {
	*httptest.Server
	svc *calls.Service
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir, _ := sim.NewDirectory(time.Hour, nil) // callees ring for the whole test
	svc := calls.New(calls.Config{Store: callstest.NewStore(), Dispatcher: &callstest.Dispatcher{}, Directory: dir, AllowLoopbackHTTP: true, Logger: slog.New(slog.DiscardHandler)})
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := graph.WithRequestIDs(graph.WithRecovery(nil, graph.NewHandler(graph.Config{Calls: svc, Auth: fakeAuth{}, MaxBody: 4096, Logger: slog.New(slog.DiscardHandler)})))
	s := &server{Server: httptest.NewServer(h), svc: svc}
	t.Cleanup(func() { s.Close(); svc.Shutdown(context.Background()) })
	return s
}

const createBody = `{"callbackUri":"http://127.0.0.1:9/cb","targets":[{"identity":{"user":{"id":"bob"}}}],
  "requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"},
  "state":"terminated","ringingTimeoutInSeconds":30}`

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (s *server) do(t *testing.T, method, path, app string, body io.Reader, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if app != "" {
		req.Header.Set("Authorization", "Bearer "+app)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %s", method, path, b)
		}
	}
	if res.Header.Get("request-id") == "" {
		t.Errorf("%s %s: no request-id header", method, path)
	}
	if out.status >= 400 {
		checkEnvelope(t, out)
	}
	return out
}

// checkEnvelope asserts the Graph error shape the SDKs rely on.
func checkEnvelope(t *testing.T, r response) {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("status %d without a Graph error envelope: %s", r.status, r.raw)
	}
	if e["code"] == "" || e["message"] == "" || e["message"] == nil {
		t.Fatalf("error without code or message: %s", r.raw)
	}
	inner, _ := e["innerError"].(map[string]any)
	if _, err := time.Parse(time.RFC3339, inner["date"].(string)); err != nil {
		t.Fatalf("innerError.date is not RFC 3339: %s", r.raw)
	}
	if inner["request-id"] != r.header.Get("request-id") {
		t.Fatalf("innerError.request-id %v differs from the header %q", inner["request-id"], r.header.Get("request-id"))
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("error Content-Type %q", r.header.Get("Content-Type"))
	}
}

func errCode(r response) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (s *server) create(t *testing.T, app string) string {
	t.Helper()
	r := s.do(t, "POST", "/v1.0/communications/calls", app, strings.NewReader(createBody))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

func TestCreateResponse(t *testing.T) {
	s := newServer(t)
	r := s.do(t, "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(createBody), "client-request-id", "my-id")
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	if want := s.URL + "/v1.0/communications/calls/" + id; r.header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", r.header.Get("Location"), want)
	}
	if r.header.Get("client-request-id") != "my-id" {
		t.Errorf("client-request-id not echoed: %q", r.header.Get("client-request-id"))
	}
	for k, want := range map[string]any{
		"@odata.type": "#microsoft.graph.call", "state": "establishing", "direction": "outgoing",
		"@odata.context": s.URL + "/v1.0/$metadata#communications/calls/$entity",
	} {
		if r.body[k] != want {
			t.Errorf("%s = %v, want %v", k, r.body[k], want)
		}
	}
	for _, k := range []string{"myParticipantId", "callChainId", "tenantId"} {
		if s, _ := r.body[k].(string); s == "" {
			t.Errorf("%s missing", k)
		}
	}
	if _, ok := r.body["ringingTimeoutInSeconds"]; ok {
		t.Error("v1.0 response carries the beta-only ringingTimeoutInSeconds")
	}
	beta := s.do(t, "GET", "/beta/communications/calls/"+id, "app-a", nil)
	if beta.body["ringingTimeoutInSeconds"] != float64(30) {
		t.Errorf("beta GET lost ringingTimeoutInSeconds: %s", beta.raw)
	}
}

func TestRoutingAliasesAndCase(t *testing.T) {
	s := newServer(t)
	id := s.create(t, "app-a")
	for _, path := range []string{
		"/v1.0/communications/calls/" + id,
		"/V1.0/Communications/Calls/" + id,
		"/v1.0/app/calls/" + id,
		"/beta/APP/calls/" + strings.ToUpper(id),
	} {
		if r := s.do(t, "GET", path, "app-a", nil); r.status != 200 || r.body["id"] != id {
			t.Errorf("GET %s: %d %s", path, r.status, r.raw)
		}
	}
	// Actions in namespace-qualified form reach the same handler.
	for _, path := range []string{"/v1.0/communications/calls/" + id + "/keepAlive", "/v1.0/communications/calls/" + id + "/microsoft.graph.keepAlive"} {
		if r := s.do(t, "POST", path, "app-a", nil); r.status != http.StatusOK || r.raw != "" || r.header.Get("Content-Type") != "" {
			t.Errorf("POST %s: %d %s", path, r.status, r.raw)
		}
	}
}

func TestErrors(t *testing.T) {
	s := newServer(t)
	id := s.create(t, "app-a")
	gz := func(s string) io.Reader {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return &b
	}
	tests := []struct {
		name, method, path, app string
		body                    io.Reader
		hdr                     []string
		status                  int
		code, target            string
	}{
		{"no token", "GET", "/v1.0/communications/calls", "", nil, nil, 401, "InvalidAuthenticationToken", ""},
		{"bad token", "GET", "/v1.0/communications/calls", "nobody", nil, nil, 401, "InvalidAuthenticationToken", ""},
		{"unknown call", "GET", "/v1.0/communications/calls/nope", "app-a", nil, nil, 404, "itemNotFound", ""},
		{"another app's call", "GET", "/v1.0/communications/calls/" + id, "app-b", nil, nil, 404, "itemNotFound", ""},
		{"another app's delete", "DELETE", "/v1.0/communications/calls/" + id, "app-b", nil, nil, 404, "itemNotFound", ""},
		{"bad version", "GET", "/v2.0/communications/calls", "app-a", nil, nil, 404, "BadRequest", ""},
		{"unknown segment", "GET", "/v1.0/communications/nothing", "app-a", nil, nil, 404, "BadRequest", ""},
		{"unknown action", "POST", "/v1.0/communications/calls/" + id + "/dance", "app-a", nil, nil, 400, "BadRequest", ""},
		{"wrong method", "PUT", "/v1.0/communications/calls/" + id, "app-a", nil, nil, 405, "MethodNotAllowed", ""},
		{"malformed JSON", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`{"callbackUri":`), nil, 400, "BadRequest", ""},
		{"not an object", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`[]`), nil, 400, "BadRequest", ""},
		{"wrong type", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`{"requestedModalities":"audio"}`), nil, 400, "BadRequest", "requestedModalities"},
		{"bad enum", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`{"requestedModalities":["smell"]}`), nil, 400, "BadRequest", "modality"},
		{"missing property", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`{"callbackUri":"https://x.test/cb","requestedModalities":["audio"]}`), nil, 400, "BadRequest", "mediaConfig"},
		{"empty body", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(``), nil, 400, "BadRequest", ""},
		{"too large", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(`{"subject":"` + strings.Repeat("x", 5000) + `"}`), nil, 413, "RequestEntityTooLarge", ""},
		{"gzip bomb", "POST", "/v1.0/communications/calls", "app-a", gz(`{"subject":"` + strings.Repeat("x", 50000) + `"}`), []string{"Content-Encoding", "gzip"}, 413, "RequestEntityTooLarge", ""},
		{"broken gzip", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader("\x1f\x8bnot gzip after all"), []string{"Content-Encoding", "gzip"}, 400, "BadRequest", ""},
		{"unknown encoding", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader("{}"), []string{"Content-Encoding", "br"}, 415, "UnsupportedMediaType", ""},
		{"xml", "POST", "/v1.0/communications/calls", "app-a", strings.NewReader("<call/>"), []string{"Content-Type", "application/xml"}, 415, "UnsupportedMediaType", ""},
		{"unsupported option", "GET", "/v1.0/communications/calls?$orderby=state", "app-a", nil, nil, 400, "BadRequest", "$orderby"},
		{"bad $top", "GET", "/v1.0/communications/calls?$top=-1", "app-a", nil, nil, 400, "BadRequest", "$top"},
		{"bad $select", "GET", "/v1.0/communications/calls/" + id + "?$select=colour", "app-a", nil, nil, 400, "BadRequest", "$select"},
		{"bad $expand", "GET", "/v1.0/communications/calls/" + id + "?$expand=targets", "app-a", nil, nil, 400, "BadRequest", "$expand"},
		{"bad $filter", "GET", "/v1.0/communications/calls?$filter=state%20eq%20'dancing'", "app-a", nil, nil, 400, "BadRequest", "$filter"},
		{"$filter on a property", "GET", "/v1.0/communications/calls?$filter=subject%20eq%20'x'", "app-a", nil, nil, 400, "BadRequest", "$filter"},
		{"not implemented yet", "POST", "/v1.0/communications/calls/" + id + "/playPrompt", "app-a", strings.NewReader(`{}`), nil, 501, "notImplemented", ""},
		{"action on another app's call", "POST", "/v1.0/communications/calls/" + id + "/keepAlive", "app-b", nil, nil, 404, "itemNotFound", ""},
		{"group-only action on a P2P call", "POST", "/v1.0/communications/calls/" + id + "/participants/invite", "app-a", strings.NewReader(`{"participants":[{"identity":{"user":{"id":"zed"}}}]}`), nil, 400, "BadRequest", ""},
		{"answer a call that is not incoming", "POST", "/v1.0/communications/calls/" + id + "/answer", "app-a", strings.NewReader(`{"acceptedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`), nil, 409, "Conflict", ""},
		{"unknown participant", "POST", "/v1.0/communications/calls/" + id + "/participants/nobody/mute", "app-a", strings.NewReader(`{}`), nil, 400, "BadRequest", ""},
		{"unknown operation", "GET", "/v1.0/communications/calls/" + id + "/operations/nope", "app-a", nil, nil, 404, "itemNotFound", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.method, tt.path, tt.app, tt.body, tt.hdr...)
			if r.status != tt.status || errCode(r) != tt.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, errCode(r), tt.status, tt.code, r.raw)
			}
			if tt.target != "" {
				if got := r.body["error"].(map[string]any)["target"]; got != tt.target {
					t.Fatalf("target = %v, want %s", got, tt.target)
				}
			}
			if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	if n := len(s.svc.List(context.Background(), calls.Caller{TenantID: "t1", AppID: "app-a"})); n != 1 {
		t.Fatalf("refused requests changed the state: %d calls", n)
	}
}

func TestGzipBody(t *testing.T) {
	s := newServer(t)
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(createBody))
	w.Close()
	if r := s.do(t, "POST", "/v1.0/communications/calls", "app-a", &b, "Content-Encoding", "gzip"); r.status != 201 {
		t.Fatalf("gzip create: %d %s", r.status, r.raw)
	}
	// msgraph-sdk-go's retry after a 429 resends the plain body under the
	// gzip header: it is read as it is.
	if r := s.do(t, "POST", "/v1.0/communications/calls", "app-a", strings.NewReader(createBody), "Content-Encoding", "gzip"); r.status != 201 {
		t.Fatalf("a plain body under Content-Encoding gzip: %d %s", r.status, r.raw)
	}
}

func TestListQueryOptions(t *testing.T) {
	s := newServer(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, s.create(t, "app-a"))
	}
	s.create(t, "app-b")

	r := s.do(t, "GET", "/v1.0/communications/calls?$count=true&$top=2&$select=state,direction", "app-a", nil)
	if r.status != 200 || r.body["@odata.count"] != float64(5) {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	value := r.body["value"].([]any)
	if len(value) != 2 {
		t.Fatalf("$top=2 returned %d", len(value))
	}
	first := value[0].(map[string]any)
	if first["id"] != ids[0] || first["state"] != "establishing" || first["callbackUri"] != nil {
		t.Fatalf("$select not applied or order wrong: %v", first)
	}
	if _, ok := r.body["@odata.nextLink"]; ok {
		t.Fatal("nextLink although $top is satisfied")
	}

	r = s.do(t, "GET", "/v1.0/communications/calls?$skip=3", "app-a", nil)
	if v := r.body["value"].([]any); len(v) != 2 || v[0].(map[string]any)["id"] != ids[3] {
		t.Fatalf("$skip=3: %s", r.raw)
	}

	for filter, want := range map[string]int{
		"state eq 'establishing'":                                          5,
		"State eq 'ESTABLISHED'":                                           0,
		"direction eq 'outgoing' and not (state ne 'establishing')":        5,
		"state in ('established','terminated') or direction eq 'incoming'": 0,
	} {
		r := s.do(t, "GET", "/v1.0/communications/calls?$filter="+urlEscape(filter), "app-a", nil)
		if r.status != 200 || len(r.body["value"].([]any)) != want {
			t.Errorf("$filter=%s: %d %s, want %d items", filter, r.status, r.raw, want)
		}
	}
}

func TestServerPaging(t *testing.T) {
	s := newServer(t)
	for i := 0; i < graph.MaxPageSize+5; i++ {
		s.create(t, "app-a")
	}
	r := s.do(t, "GET", "/v1.0/communications/calls", "app-a", nil)
	next, _ := r.body["@odata.nextLink"].(string)
	if len(r.body["value"].([]any)) != graph.MaxPageSize || !strings.HasPrefix(next, s.URL+"/v1.0/communications/calls?") {
		t.Fatalf("first page: %d items, nextLink %q", len(r.body["value"].([]any)), next)
	}
	r = s.do(t, "GET", strings.TrimPrefix(next, s.URL), "app-a", nil)
	if len(r.body["value"].([]any)) != 5 || r.body["@odata.nextLink"] != nil {
		t.Fatalf("second page: %s", r.raw)
	}
}

func TestExpandAndParticipants(t *testing.T) {
	s := newServer(t)
	id := s.create(t, "app-a")
	r := s.do(t, "GET", "/v1.0/communications/calls/"+id+"?$expand=participants,operations", "app-a", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if _, ok := r.body["participants"].([]any); !ok {
		t.Fatalf("participants not expanded: %s", r.raw)
	}
	if _, ok := r.body["operations"].([]any); !ok {
		t.Fatalf("operations not expanded: %s", r.raw)
	}
	r = s.do(t, "GET", "/v1.0/communications/calls/"+id+"/participants?$count=true", "app-a", nil)
	if r.status != 200 || r.body["@odata.count"] == nil {
		t.Fatalf("participants: %d %s", r.status, r.raw)
	}
	r = s.do(t, "GET", "/v1.0/communications/calls/"+id+"/participants/nobody", "app-a", nil)
	if r.status != 404 {
		t.Fatalf("unknown participant: %d", r.status)
	}
}

func TestDelete(t *testing.T) {
	s := newServer(t)
	id := s.create(t, "app-a")
	if r := s.do(t, "DELETE", "/v1.0/communications/calls/"+id, "app-a", nil); r.status != 204 || r.raw != "" {
		t.Fatalf("delete: %d %q", r.status, r.raw)
	}
	if r := s.do(t, "GET", "/v1.0/communications/calls/"+id, "app-a", nil); r.status != 404 {
		t.Fatalf("GET after delete: %d", r.status)
	}
	if r := s.do(t, "DELETE", "/v1.0/communications/calls/"+id, "app-a", nil); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
}

func TestPanicBecomes500Envelope(t *testing.T) {
	h := graph.WithRequestIDs(graph.WithRecovery(nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(errors.New("boom")) })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.0/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"generalException"`) {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
}

func urlEscape(s string) string {
	return strings.NewReplacer(" ", "%20", "'", "%27", "(", "%28", ")", "%29", ",", "%2C").Replace(s)
}

// A listed call is the call as GET returns it, without @odata.context, in
// both versions, whether GET encoded it first or the list did; the filtered
// list (which renders every call) agrees with the paged one.
func TestListEntriesAreTheGetBodies(t *testing.T) {
	s := newServer(t)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, s.create(t, "app-a"))
	}
	for _, version := range []string{"v1.0", "beta"} {
		s.do(t, "GET", "/"+version+"/communications/calls/"+ids[1], "app-a", nil) // cached by GET first
		lists := map[string]response{
			"paged":    s.do(t, "GET", "/"+version+"/communications/calls?$count=true", "app-a", nil),
			"filtered": s.do(t, "GET", "/"+version+"/communications/calls?$count=true&$filter="+urlEscape("direction eq 'outgoing'"), "app-a", nil),
		}
		for name, r := range lists {
			var list struct {
				Context string            `json:"@odata.context"`
				Count   int               `json:"@odata.count"`
				Value   []json.RawMessage `json:"value"`
			}
			if err := json.Unmarshal([]byte(r.raw), &list); err != nil || r.status != 200 {
				t.Fatalf("%s %s list: %d %s", version, name, r.status, r.raw)
			}
			if list.Count != 3 || len(list.Value) != 3 || list.Context != s.URL+"/"+version+"/$metadata#communications/calls" {
				t.Fatalf("%s %s list: %s", version, name, r.raw)
			}
			for i, id := range ids {
				get := s.do(t, "GET", "/"+version+"/communications/calls/"+id, "app-a", nil)
				var want map[string]json.RawMessage
				if err := json.Unmarshal([]byte(get.raw), &want); err != nil {
					t.Fatal(err)
				}
				delete(want, "@odata.context")
				wantJSON, _ := json.Marshal(want)
				var got map[string]json.RawMessage
				if err := json.Unmarshal(list.Value[i], &got); err != nil {
					t.Fatalf("%s %s entry %d: %v in %s", version, name, i, err, list.Value[i])
				}
				gotJSON, _ := json.Marshal(got)
				if string(gotJSON) != string(wantJSON) {
					t.Errorf("%s %s entry %d:\n got %s\nwant %s", version, name, i, gotJSON, wantJSON)
				}
			}
		}
	}
}
