package cluster_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/cluster"
)

var key = bytes.Repeat([]byte{7}, cluster.KeyLen)

func forwarder(t *testing.T, k []byte, self string, clk clock.Clock) *cluster.Forwarder {
	t.Helper()
	f, err := cluster.NewForwarder(k, self, clk, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// owner is a node that answers what it verified: the scheme, Host, path
// and body it got.
func owner(t *testing.T, f *cluster.Forwarder) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, err := f.Verify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", scheme+"://"+r.Host+r.URL.Path)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, r.Header.Get("Authorization")+"|"+r.Method+"|"+r.URL.RequestURI()+"|"+string(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestForwardReachesTheOwnerVerified(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	dst := owner(t, forwarder(t, key, "b", clk))
	src := forwarder(t, key, "a", clk)
	req := httptest.NewRequest(http.MethodPost, "https://graph.example/v1.0/communications/calls/x/answer?$select=id", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	src.Forward(rec, req, dst.URL, func(w http.ResponseWriter, _ *http.Request, err error) { t.Fatalf("forward failed: %v", err) })
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got, want := rec.Body.String(), "Bearer tok|POST|/v1.0/communications/calls/x/answer?$select=id|{\"a\":1}"; got != want {
		t.Fatalf("the owner got %q, want %q", got, want)
	}
	if got := rec.Header().Get("Location"); got != "https://graph.example/v1.0/communications/calls/x/answer" {
		t.Fatalf("Location %q: the owner did not see the client's Host and scheme", got)
	}
}

func TestVerifyRefusesForgedAndStale(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	f := forwarder(t, key, "b", clk)
	sign := func(k []byte, at time.Time) *http.Request {
		// Capture what a forwarder with key k sends.
		var got *http.Request
		dst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Clone(r.Context()) }))
		defer dst.Close()
		forwarder(t, k, "a", clock.NewFake(at)).Forward(httptest.NewRecorder(),
			httptest.NewRequest(http.MethodGet, "http://graph.example/v1.0/communications/calls/x", nil), dst.URL,
			func(http.ResponseWriter, *http.Request, error) {})
		return got
	}
	if _, err := f.Verify(sign(key, clk.Now())); err != nil {
		t.Fatalf("a genuine forward: %v", err)
	}
	other := bytes.Repeat([]byte{8}, cluster.KeyLen)
	for name, r := range map[string]*http.Request{
		"another cluster's key": sign(other, clk.Now()),
		"two minutes old":       sign(key, clk.Now().Add(-2*time.Minute)),
	} {
		if _, err := f.Verify(r); !errors.Is(err, cluster.ErrForged) {
			t.Errorf("%s: %v, want ErrForged", name, err)
		}
	}
	r := sign(key, clk.Now())
	r.Method = http.MethodDelete // the signature covers the request line
	if _, err := f.Verify(r); !errors.Is(err, cluster.ErrForged) {
		t.Errorf("a changed method: %v, want ErrForged", err)
	}
	r = httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set(cluster.HeaderBy, "a")
	r.Header.Set(cluster.HeaderAt, strconv.FormatInt(clk.Now().Unix(), 10))
	if _, err := f.Verify(r); !errors.Is(err, cluster.ErrForged) || !cluster.Forwarded(r) {
		t.Errorf("no signature: %v, want ErrForged", err)
	}
}

func TestForwardToAnUnreachableOwner(t *testing.T) {
	dst := httptest.NewServer(http.NotFoundHandler())
	addr := dst.URL
	dst.Close()
	var failed error
	forwarder(t, key, "a", nil).Forward(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1.0/x", nil), addr,
		func(w http.ResponseWriter, _ *http.Request, err error) { failed = err })
	if failed == nil {
		t.Fatal("forwarding to a closed port did not fail")
	}
	if _, err := cluster.NewForwarder([]byte("short"), "a", nil, nil, nil); err == nil {
		t.Fatal("a short key was accepted")
	}
}

// Whatever a client puts in the forwarding headers, Verify never panics
// and never accepts a request it did not sign.
func FuzzVerify(f *testing.F) {
	f.Add("a", "1796000000", "AAAA", "GET", "/v1.0/communications/calls/x", "https")
	f.Add("", "", "", "POST", "/", "")
	f.Add("node", "-99999999999999999999", "x", "DELETE", "/v1.0/communications/calls/%zz", "http")
	f.Fuzz(func(t *testing.T, by, at, mac, method, path, proto string) {
		fwd, err := cluster.NewForwarder(key, "b", clock.NewFake(time.Unix(1796000000, 0)), slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := http.NewRequest(http.MethodGet, "http://h/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Method = method
		r.URL.Path = path
		r.Header.Set(cluster.HeaderBy, by)
		r.Header.Set(cluster.HeaderAt, at)
		r.Header.Set(cluster.HeaderMAC, mac)
		r.Header.Set(cluster.HeaderProto, proto)
		if _, err := fwd.Verify(r); err == nil {
			t.Fatalf("an unsigned request verified: by=%q at=%q mac=%q", by, at, mac)
		}
	})
}
