// Command echo is a calling bot with app-hosted media: it calls a user
// with msgraph-sdk-go, connects to the call's media stream over a
// WebSocket, and sends back every frame of audio it hears, so the user
// hears themselves. It prints the call's notifications and the stream's
// events, and hangs up after -for (or on Ctrl-C).
//
//	go run ./cmd/switchboard serve    # in another terminal
//	go run ./examples/echo -to alice
//
// It uses only public packages: copy it into your own module.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/coder/websocket"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// The development application of a Switchboard server in development mode.
// Against Microsoft Graph these would be your bot's registration.
const (
	tenant   = "0000000d-0000-4000-8000-000000000001"
	clientID = "0000000d-0000-4000-8000-000000000002"
	secret   = "switchboard-dev-secret"
)

var scopes = []string{"https://graph.microsoft.com/.default"}

func main() {
	server := flag.String("server", "https://127.0.0.1:8443", "Switchboard's HTTPS base URL")
	caFile := flag.String("ca", "switchboard-data/dev-ca.pem", "Switchboard's development CA (`go run ./cmd/switchboard dev-cert` prints it)")
	to := flag.String("to", "alice", "id of the user to call (on a development server, a simulated person who answers)")
	duration := flag.Duration("for", time.Minute, "how long to echo before hanging up")
	flag.Parse()
	if err := run(*server, *caFile, *to, *duration); err != nil {
		log.Fatal(err)
	}
}

func run(server, caFile, to string, duration time.Duration) error {
	// Ctrl-C (or SIGTERM) ends the call early, cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// An HTTP client that trusts Switchboard's development CA: for tokens,
	// Graph requests and the WebSocket.
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("the development CA: %w (start the server first, or pass -ca)", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	httpClient := &http.Client{Transport: transport}

	// The Graph SDK, set up as in the README's quick start.
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: server + "/"},
			Transport: httpClient,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		return err
	}
	client, err := graphClient(cred, server, transport)
	if err != nil {
		return err
	}

	// Notifications come to a callback server of our own, on loopback.
	cb, err := listenCallbacks()
	if err != nil {
		return err
	}

	// Call the user with app-hosted media. The blob holds Switchboard's
	// stream settings; with no "url", the bot connects to the call's media
	// endpoint itself.
	call := models.NewCall()
	call.SetCallbackUri(&cb.url)
	call.SetTargets([]models.InvitationParticipantInfoable{userTarget(to)})
	call.SetRequestedModalities([]models.Modality{models.AUDIO_MODALITY})
	mediaConfig := models.NewAppHostedMediaConfig()
	blob := `{"switchboard":{"sampleRate":16000}}`
	mediaConfig.SetBlob(&blob)
	call.SetMediaConfig(mediaConfig)
	created, err := client.Communications().Calls().Post(ctx, call, nil)
	if err != nil {
		return fmt.Errorf("create the call: %w", err)
	}
	callID := *created.GetId()
	fmt.Printf("created call %s to %s\n", callID, to)

	// hangUp ends the call; it is safe to call more than once.
	hungUp := false
	hangUp := func() {
		if hungUp {
			return
		}
		hungUp = true
		hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Communications().Calls().ByCallId(callID).Delete(hctx, nil); err != nil {
			log.Printf("hang up: %v", err)
		}
	}
	defer hangUp()

	// The stream exists once the call is established.
	if err := cb.waitFor(ctx, "established"); err != nil {
		return err
	}

	// Connect to the call's media endpoint with the bot's own token.
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		return err
	}
	mediaURL := "wss" + strings.TrimPrefix(server, "https") + "/switchboard/v1/calls/" + callID + "/media"
	ws, _, err := websocket.Dial(ctx, mediaURL, &websocket.DialOptions{
		HTTPClient:   httpClient,
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + tok.Token}},
		Subprotocols: []string{"switchboard.media.v1"},
	})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", mediaURL, err)
	}
	defer ws.CloseNow()
	fmt.Printf("connected to the media stream; echoing for %v (Ctrl-C hangs up)\n", duration)

	// Echo until the stream ends: the call ended, or we hung up.
	done := make(chan error, 1)
	go func() { done <- echo(ws) }()
	select {
	case err := <-done:
		hungUp = err == nil // the call ended: nothing to hang up
		return err
	case <-ctx.Done():
		fmt.Println("interrupted: hanging up")
	case <-time.After(duration):
		fmt.Println("time is up: hanging up")
	}
	hangUp()
	// Switchboard sends "stop" and closes the stream; then the callback
	// says "terminated".
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-time.After(10 * time.Second):
		return errors.New("the stream did not close after the hang-up")
	}
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cb.waitFor(wctx, "terminated")
}

// echo reads the stream until it closes: it prints each event (a JSON text
// message) and sends back the samples of each frame of the mix (track 0).
func echo(ws *websocket.Conn) error {
	ctx := context.Background() // the stream ends the loop, not a deadline
	frames := 0
	for {
		typ, msg, err := ws.Read(ctx)
		if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
			fmt.Printf("stream closed; echoed %d frames\n", frames)
			return nil
		}
		if err != nil {
			return fmt.Errorf("media stream: %w", err)
		}
		if typ == websocket.MessageText {
			fmt.Printf("event %s\n", msg)
			hint(msg)
			continue
		}
		// Audio: uint16 track (0 is the mix of everyone but the bot), two
		// reserved bytes, uint32 frame sequence, then 16-bit little-endian
		// samples. What the bot sends back is just samples: its voice.
		if len(msg) < 8 || binary.BigEndian.Uint16(msg[0:2]) != 0 {
			continue
		}
		if err := ws.Write(ctx, websocket.MessageBinary, msg[8:]); err != nil {
			return fmt.Errorf("media stream: %w", err)
		}
		frames++
	}
}

// hint tells, on the stream's start, how to make each participant speak
// on a development server.
func hint(msg []byte) {
	var e struct {
		Event        string
		CallID       string
		Participants []struct{ ID string }
	}
	if json.Unmarshal(msg, &e) != nil || e.Event != "start" {
		return
	}
	for _, p := range e.Participants {
		fmt.Printf("make them speak: go run ./cmd/switchboard sim say %s %s file.wav (or sim press %[1]s %[2]s 123)\n", e.CallID, p.ID)
	}
}

// graphClient returns the SDK's client for Switchboard at server: the
// token goes to Switchboard's host, and requests to its base URL.
func graphClient(cred *azidentity.ClientSecretCredential, server string, transport http.RoundTripper) (*msgraph.GraphServiceClient, error) {
	host := strings.TrimPrefix(server, "https://")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h // the host without the port
	}
	auth, err := authentication.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, scopes, []string{host})
	if err != nil {
		return nil, err
	}
	opts := msgraph.GetDefaultClientOptions()
	hc := msgraphcore.GetDefaultClient(&opts)
	hc.Transport = khttp.NewCustomTransportWithParentTransport(transport, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, err
	}
	adapter.SetBaseUrl(server + "/v1.0")
	return msgraph.NewGraphServiceClient(adapter), nil
}

func userTarget(id string) models.InvitationParticipantInfoable {
	user := models.NewIdentity()
	user.SetId(&id)
	identity := models.NewIdentitySet()
	identity.SetUser(user)
	target := models.NewInvitationParticipantInfo()
	target.SetIdentity(identity)
	return target
}

// callbacks receives the call's notifications and passes on its states.
// (A bot in production checks each request's bearer token: a JWT that
// Switchboard, like Graph, signs; the README's Callbacks section says how.)
type callbacks struct {
	url    string
	states chan string
}

func listenCallbacks() (*callbacks, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cb := &callbacks{url: "http://" + ln.Addr().String() + "/callback", states: make(chan string, 64)}
	go http.Serve(ln, cb)
	return cb, nil
}

func (cb *callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Value []struct {
			ResourceURL  string          `json:"resourceUrl"`
			ResourceData json.RawMessage `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	for _, n := range body.Value {
		// The call's own notifications (not its participants' or
		// operations'): /communications/calls/{id}.
		var call struct{ State string }
		if strings.Count(n.ResourceURL, "/") != 3 || json.Unmarshal(n.ResourceData, &call) != nil || call.State == "" {
			continue
		}
		fmt.Printf("call %s\n", call.State)
		select {
		case cb.states <- call.State:
		default: // nobody is waiting for this many states
		}
	}
}

// waitFor waits for the call to reach state; a call that ends first is an
// error.
func (cb *callbacks) waitFor(ctx context.Context, state string) error {
	for {
		select {
		case s := <-cb.states:
			if s == state {
				return nil
			}
			if s == "terminated" {
				return errors.New("the call ended")
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for the call to be %s: %w", state, context.Cause(ctx))
		}
	}
}
