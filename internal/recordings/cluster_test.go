package recordings

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// memIndex is an Index in memory, shared by the Stores of a test's nodes.
type memIndex struct {
	mu    sync.Mutex
	metas map[string]Meta
}

func (x *memIndex) PutRecording(_ context.Context, m Meta) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.metas[m.ID] = m
	return nil
}

func (x *memIndex) GetRecording(_ context.Context, id string) (Meta, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	m, ok := x.metas[id]
	if !ok {
		return Meta{}, ErrNotFound
	}
	return m, nil
}

func (x *memIndex) SweepRecordings(_ context.Context, now time.Time) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for id, m := range x.metas {
		if !now.Before(m.Expires) {
			delete(x.metas, id)
			n++
		}
	}
	return n, nil
}

// Two nodes with directories of their own: a recording made on one is
// checked on the other, which hands the request to the node that has the
// file; a wrong token goes nowhere.
func TestRecordingServedByTheNodeThatHasIt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	idx := &memIndex{metas: map[string]Meta{}}
	var remote []string
	nodes := map[string]*Store{}
	for _, addr := range []string{"http://a.test", "http://b.test"} {
		s, err := New(t.TempDir(), func() string { return "https://sb.test" }, time.Hour, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		s.Join(Cluster{Index: idx, Node: addr, Remote: func(w http.ResponseWriter, r *http.Request, address string) {
			remote = append(remote, address)
			nodes[address].ServeHTTP(w, r)
		}})
		nodes[addr] = s
	}
	loc, tok, err := nodes["http://a.test"].Save(t.Context(), "t", "a", "c", "o", []byte("RIFFdata"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(on, token string) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", strings.TrimPrefix(loc, "https://sb.test"), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		nodes[on].ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get("http://b.test", tok); code != 200 || body != "RIFFdata" || len(remote) != 1 || remote[0] != "http://a.test" {
		t.Fatalf("through the other node: %d %q, handed to %v; want the audio from a.test", code, body, remote)
	}
	if code, _ := get("http://b.test", "wrong"); code != http.StatusNotFound || len(remote) != 1 {
		t.Fatalf("a wrong token through the other node: %d, handed over %d times; want 404 and not handed over", code, len(remote))
	}
	now = now.Add(2 * time.Hour)
	if code, _ := get("http://b.test", tok); code != http.StatusNotFound || len(remote) != 1 {
		t.Fatalf("an expired recording through the other node: %d", code)
	}
	nodes["http://b.test"].Sweep()
	if _, err := idx.GetRecording(t.Context(), strings.TrimPrefix(loc, "https://sb.test"+PathPrefix)); err == nil {
		t.Fatal("the expired recording's metadata outlived a sweep")
	}
}
