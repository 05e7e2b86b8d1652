package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client is the HTTP side of a run: a keep-alive transport sized for the
// workers, the bearer token and the request shapes.
type client struct {
	hc     *http.Client
	target string // the first target: the token comes from there
	auth   string // "Bearer ...", or empty
	// callsURL is the first target's call collection, callsURLs every
	// target's, in the order given.
	callsURL  string
	callsURLs []string
}

// newTransport returns a transport that keeps one idle connection per
// worker (and then some) to each of hosts hosts, so that a closed loop
// never dials after warm-up. It ignores proxy settings and asks for no
// compression: both would measure something other than the server.
func newTransport(conns, hosts int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          hosts * (2*conns + 16),
		MaxIdleConnsPerHost:   2*conns + 16,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: 0, // the per-request context bounds the whole exchange
		ExpectContinueTimeout: time.Second,
	}
}

// newClient returns the client of a validated cfg. Its transport keeps
// idle connections for every worker to every target.
func newClient(cfg *Config) *client {
	c := &client{
		hc:     &http.Client{Transport: newTransport(cfg.Concurrency, len(cfg.targets))},
		target: cfg.targets[0],
	}
	for _, t := range cfg.targets {
		c.callsURLs = append(c.callsURLs, t+"/v1.0/communications/calls")
	}
	c.callsURL = c.callsURLs[0]
	return c
}

// calls returns the call collection of target k modulo the number of
// targets: the k-th request of a round-robin goes there.
func (c *client) calls(k int) string { return c.callsURLs[k%len(c.callsURLs)] }

func (c *client) close() { c.hc.CloseIdleConnections() }

// authorize sets c's token: cfg.Token, none, or one fetched with the client
// credentials grant.
func (c *client) authorize(ctx context.Context, cfg *Config) error {
	switch cfg.Token {
	case NoToken:
		return nil
	case "":
	default:
		c.auth = "Bearer " + cfg.Token
		return nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cfg.ClientID},
		"client_secret": {cfg.ClientSecret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.target+"/"+cfg.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("load: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("load: token request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return fmt.Errorf("load: token endpoint answered %d: %.300s", resp.StatusCode, body)
	}
	c.auth = "Bearer " + tok.AccessToken
	return nil
}

// exchange is the outcome of one request.
type exchange struct {
	status int
	bytes  int64
	body   []byte // kept only when asked for
	header http.Header
	// headersAt is when the response headers arrived.
	headersAt time.Time
	err       error
}

// do sends one request and reads the whole response, keeping the body when
// keep is set, so that the connection goes back to the pool. A body is
// sent as JSON.
func (c *client) do(ctx context.Context, method, u string, body []byte, keep bool) exchange {
	return c.send(ctx, method, u, body, "application/json", keep)
}

// send is do with a body of the given content type.
func (c *client) send(ctx context.Context, method, u string, body []byte, contentType string, keep bool) exchange {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return exchange{err: err}
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return exchange{err: err}
	}
	x := exchange{status: resp.StatusCode, header: resp.Header, headersAt: time.Now()}
	if keep {
		x.body, x.err = io.ReadAll(resp.Body)
		x.bytes = int64(len(x.body))
	} else {
		x.bytes, x.err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return x
}

// defaultCallee is the user calls go to unless Config.Callee says
// otherwise: a simulated person, who answers after the server's configured
// delay.
const defaultCallee = "alice"

// createBody is the POST /communications/calls body: a peer-to-peer call to
// the user callee, with service-hosted media.
func createBody(callbackURI, callee string) []byte {
	return callBody(callbackURI, callee, map[string]any{"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"})
}

// appHostedBlob is the appHostedMediaConfig blob of stream mode's calls:
// Switchboard's stream settings, all defaults (16 kHz, the mix only, the
// bot connects to the call's media endpoint).
const appHostedBlob = `{"switchboard":{}}`

// appHostedBody is createBody with app-hosted media: the call gets a media
// stream.
func appHostedBody(callbackURI, callee string) []byte {
	return callBody(callbackURI, callee, map[string]any{"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": appHostedBlob})
}

func callBody(callbackURI, callee string, mediaConfig map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"callbackUri":         callbackURI,
		"targets":             []any{map[string]any{"identity": map[string]any{"user": map[string]any{"id": callee}}}},
		"requestedModalities": []string{"audio"},
		"mediaConfig":         mediaConfig,
	})
	return b
}

// createdID returns the id of the call a 201 created: the last segment of
// its Location header, or else the body's id.
func createdID(x exchange) string {
	if loc := x.header.Get("Location"); loc != "" {
		if i := strings.LastIndexByte(loc, '/'); i >= 0 && i < len(loc)-1 {
			return loc[i+1:]
		}
	}
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(x.body, &v) == nil {
		return v.ID
	}
	return ""
}
