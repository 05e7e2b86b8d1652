package notify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// TestRedirectAuthorizationStaysWithItsOrigin checks that the callback
// token goes only to the origin (scheme, host and port) of the callback URL:
// a redirect elsewhere gets the delivery without Authorization, and a
// redirect back to the callback's origin gets it again.
func TestRedirectAuthorizationStaysWithItsOrigin(t *testing.T) {
	arrivals := make(chan arrival, 10)
	var firstURL string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrivals <- parse(r)
		http.Redirect(w, r, firstURL+"/final", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		arrivals <- parse(r)
		http.Redirect(w, r, "/cross", http.StatusTemporaryRedirect) // same origin
	})
	mux.HandleFunc("/cross", func(w http.ResponseWriter, r *http.Request) {
		arrivals <- parse(r)
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.Handle("/final", recorder(http.StatusOK, arrivals))
	first := httptest.NewServer(mux)
	t.Cleanup(first.Close)
	firstURL = first.URL
	// The same server under another host name is another origin too.
	aliasURL := strings.Replace(first.URL, "127.0.0.1", "localhost", 1)

	h := newHarness(t, notify.Config{Signer: signer{}})
	h.start()
	h.commit(delivery("c1", 1, first.URL+"/start"))
	want := []struct {
		path string
		auth bool
	}{{"/start", true}, {"/cross", true}, {"/elsewhere", false}, {"/final", true}}
	for i, w := range want {
		a := <-arrivals
		if a.path != w.path || (a.header.Get("Authorization") != "") != w.auth {
			t.Errorf("hop %d: %s with Authorization %q, want %s with it %v", i, a.path, a.header.Get("Authorization"), w.path, w.auth)
		}
		if a.header.Get(notify.HeaderSequence) != "1" {
			t.Errorf("hop %d: lost the other headers: %v", i, a.header)
		}
	}
	if r := <-h.results; !r.delivered {
		t.Fatalf("result %+v, want delivered", r)
	}

	mux.HandleFunc("/alias", func(w http.ResponseWriter, r *http.Request) {
		arrivals <- parse(r)
		http.Redirect(w, r, aliasURL+"/final", http.StatusFound)
	})
	h.commit(delivery("c1", 2, first.URL+"/alias"))
	if a := <-arrivals; a.path != "/alias" || a.header.Get("Authorization") == "" {
		t.Errorf("first hop %s without Authorization", a.path)
	}
	if a := <-arrivals; a.path != "/final" || a.header.Get("Authorization") != "" {
		t.Errorf("hop to another host name: %s with Authorization %q, want none", a.path, a.header.Get("Authorization"))
	}
	if r := <-h.results; !r.delivered {
		t.Fatalf("result %+v, want delivered", r)
	}
}

// TestRedirectDowngradeRefused checks that a redirect from https to http
// gives the delivery up, unless Config.AllowDowngrade is set (development
// mode).
func TestRedirectDowngradeRefused(t *testing.T) {
	for _, allow := range []bool{false, true} {
		name := "refused"
		if allow {
			name = "allowed in development mode"
		}
		t.Run(name, func(t *testing.T) {
			var plainRequests atomic.Int32
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				plainRequests.Add(1)
				if r.Header.Get("Authorization") != "" {
					t.Errorf("the http hop got the callback token")
				}
			}))
			t.Cleanup(plain.Close)
			secure := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/callback", http.StatusPermanentRedirect))
			t.Cleanup(secure.Close)

			h := newHarness(t, notify.Config{Client: secure.Client(), Signer: signer{}, AllowDowngrade: allow})
			h.start()
			h.commit(delivery("c1", 1, secure.URL+"/callback"))
			r := <-h.results
			switch {
			case allow && (!r.delivered || plainRequests.Load() != 1):
				t.Fatalf("result %+v after %d http requests, want delivered over http", r, plainRequests.Load())
			case !allow && (!r.gaveUp || !errors.Is(r.err, notify.ErrRefused) || r.d.Attempts != 1):
				t.Fatalf("result %+v, want given up at once with ErrRefused", r)
			case !allow && plainRequests.Load() != 0:
				t.Fatalf("the http url was requested %d times", plainRequests.Load())
			}
			if !allow && !strings.Contains(r.err.Error(), "https to http") {
				t.Errorf("error %q does not say that https was downgraded to http", r.err)
			}
		})
	}
}
