// Command transcript is a calling bot with app-hosted media that records
// each participant on their own track, ready for a speech-to-text service:
// it calls a user with msgraph-sdk-go, asks for unmixed audio, and when
// the stream stops (the call ended, -for passed, or Ctrl-C) writes one
// 16 kHz mono WAV per participant, named by participant id. Every WAV
// starts when the stream did: a participant's audio is placed by its frame
// sequence number, with silence where they sent nothing.
//
//	go run ./cmd/switchboard serve    # in another terminal
//	go run ./examples/transcript -to alice -out transcript
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
	"path/filepath"
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

// sampleRate is what the bot asks the stream for: what most speech
// recognisers want.
const sampleRate = 16000

func main() {
	server := flag.String("server", "https://127.0.0.1:8443", "Switchboard's HTTPS base URL")
	caFile := flag.String("ca", "switchboard-data/dev-ca.pem", "Switchboard's development CA (`go run ./cmd/switchboard dev-cert` prints it)")
	to := flag.String("to", "alice", "id of the user to call (on a development server, a simulated person who answers)")
	duration := flag.Duration("for", time.Minute, "how long to record before hanging up")
	out := flag.String("out", "transcript", "directory for the WAV files")
	flag.Parse()
	if err := run(*server, *caFile, *to, *out, *duration); err != nil {
		log.Fatal(err)
	}
}

func run(server, caFile, to, out string, duration time.Duration) error {
	// Ctrl-C (or SIGTERM) ends the call early; the WAVs are still written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

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
	cb, err := listenCallbacks()
	if err != nil {
		return err
	}

	// Call the user with app-hosted media; "unmixed" adds each
	// participant's own audio, on a track of its own, to the mix.
	call := models.NewCall()
	call.SetCallbackUri(&cb.url)
	call.SetTargets([]models.InvitationParticipantInfoable{userTarget(to)})
	call.SetRequestedModalities([]models.Modality{models.AUDIO_MODALITY})
	mediaConfig := models.NewAppHostedMediaConfig()
	blob := fmt.Sprintf(`{"switchboard":{"sampleRate":%d,"unmixed":true}}`, sampleRate)
	mediaConfig.SetBlob(&blob)
	call.SetMediaConfig(mediaConfig)
	created, err := client.Communications().Calls().Post(ctx, call, nil)
	if err != nil {
		return fmt.Errorf("create the call: %w", err)
	}
	callID := *created.GetId()
	fmt.Printf("created call %s to %s\n", callID, to)
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
	fmt.Printf("connected to the media stream; recording for %v (Ctrl-C stops)\n", duration)

	// Record until the stream closes. Only the reading goroutine touches
	// rec until done says it has returned.
	rec := newRecorder()
	done := make(chan error, 1)
	go func() { done <- rec.read(ws) }()
	var readErr error
	finished := false
	select {
	case readErr = <-done:
		finished = true
		hungUp = readErr == nil // the call ended: nothing to hang up
	case <-ctx.Done():
		fmt.Println("interrupted: hanging up")
	case <-time.After(duration):
		fmt.Println("time is up: hanging up")
	}
	if !finished {
		// Switchboard sends "stop" and the audio still queued, then
		// closes the stream.
		hangUp()
		select {
		case readErr = <-done:
		case <-time.After(10 * time.Second):
			ws.CloseNow()
			readErr = errors.Join(errors.New("the stream did not close after the hang-up"), <-done)
		}
	}
	// Whatever happened, keep what was heard.
	if err := rec.write(out); err != nil {
		return errors.Join(readErr, err)
	}
	return readErr
}

// recorder places each participant's audio on the stream's timeline.
type recorder struct {
	frameSamples int               // samples in a frame (from the start event)
	names        map[uint16]string // track -> participant id
	tracks       map[uint16][]int16
	first, end   int64 // frame sequence numbers: the first seen, and one past the last
}

func newRecorder() *recorder {
	return &recorder{frameSamples: sampleRate / 50, names: map[uint16]string{}, tracks: map[uint16][]int16{}, first: -1}
}

// event is the part of the stream's events the recorder reads.
type event struct {
	Event        string
	CallID       string
	Format       *struct{ SampleRate, FrameMs int }
	Participants []participant // start
	Participant  *participant  // participantJoined, participantLeft, ...
}

type participant struct {
	ID    string
	Track uint16
}

// read takes the stream's messages until it closes.
func (r *recorder) read(ws *websocket.Conn) error {
	ctx := context.Background() // the stream ends the loop, not a deadline
	for {
		typ, msg, err := ws.Read(ctx)
		if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
			fmt.Println("stream closed")
			return nil
		}
		if err != nil {
			return fmt.Errorf("media stream: %w", err)
		}
		if typ == websocket.MessageText {
			fmt.Printf("event %s\n", msg)
			var e event
			if err := json.Unmarshal(msg, &e); err != nil {
				continue
			}
			if e.Format != nil {
				r.frameSamples = e.Format.SampleRate * e.Format.FrameMs / 1000
			}
			if e.Event == "start" {
				for _, p := range e.Participants {
					fmt.Printf("make them speak: go run ./cmd/switchboard sim say %s %s file.wav (or sim press %[1]s %[2]s 123)\n", e.CallID, p.ID)
				}
			}
			if e.Participant != nil {
				e.Participants = append(e.Participants, *e.Participant)
			}
			for _, p := range e.Participants {
				r.names[p.Track] = p.ID
			}
			// After "stop" comes the audio still queued: read on until
			// the stream closes.
			continue
		}
		// Audio: uint16 track (0 is the mix), two reserved bytes, uint32
		// frame sequence, then 16-bit little-endian samples.
		if len(msg) < 8 {
			continue
		}
		track, seq := binary.BigEndian.Uint16(msg[0:2]), int64(binary.BigEndian.Uint32(msg[4:8]))
		if r.first < 0 {
			r.first = seq // the mix comes every frame: the timeline starts here
		}
		r.end = max(r.end, seq+1)
		if track == 0 || seq < r.first {
			continue // a transcript wants the speakers, not the mix
		}
		at := int(seq-r.first) * r.frameSamples
		pcm := msg[8:]
		buf := r.tracks[track]
		if need := at + len(pcm)/2; len(buf) < need {
			buf = append(buf, make([]int16, need-len(buf))...) // silence up to here
		}
		for i := range len(pcm) / 2 {
			buf[at+i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
		}
		r.tracks[track] = buf
	}
}

// write saves one WAV per participant, each as long as the stream.
func (r *recorder) write(dir string) error {
	if len(r.tracks) == 0 {
		fmt.Println("nobody spoke: no WAV written")
		return nil
	}
	length := int(r.end-r.first) * r.frameSamples
	for track, samples := range r.tracks {
		name := r.names[track]
		if name == "" {
			name = fmt.Sprintf("track-%d", track)
		}
		samples = append(samples, make([]int16, max(0, length-len(samples)))...)
		path := filepath.Join(dir, filepath.Base(name)+".wav")
		if err := os.WriteFile(path, wav(samples), 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (participant %s, %v)\n", path, name, time.Duration(len(samples))*time.Second/sampleRate)
	}
	return nil
}

// wav is a 16-bit mono PCM WAV file of samples.
func wav(samples []int16) []byte {
	b := make([]byte, 0, 44+2*len(samples))
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+2*len(samples)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)           // fmt chunk size
	b = binary.LittleEndian.AppendUint16(b, 1)            // PCM
	b = binary.LittleEndian.AppendUint16(b, 1)            // mono
	b = binary.LittleEndian.AppendUint32(b, sampleRate)   // samples per second
	b = binary.LittleEndian.AppendUint32(b, 2*sampleRate) // bytes per second
	b = binary.LittleEndian.AppendUint16(b, 2)            // bytes per frame
	b = binary.LittleEndian.AppendUint16(b, 16)           // bits per sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*len(samples)))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
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
