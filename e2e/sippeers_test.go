package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// This file runs the real SIP peers of the phone tests (sipp and baresip)
// and the programs that make their audio (espeak-ng and sox), as child
// processes that are bounded in time and killed when the test ends.

// sipPeersEnv, set to 1 (scripts/test does), makes a missing SIP peer a
// test failure instead of a skip.
const sipPeersEnv = "SWITCHBOARD_SIP_PEERS"

// peerPackages names the Debian package of each program the phone tests
// run.
var peerPackages = map[string]string{
	"sipp":      "sip-tester",
	"baresip":   "baresip-core",
	"espeak-ng": "espeak-ng",
	"sox":       "sox",
	"timeout":   "coreutils",
}

// requirePeers checks that the programs are installed: a test that needs
// one that is not skips, or fails when SWITCHBOARD_SIP_PEERS=1.
func requirePeers(t *testing.T, programs ...string) {
	t.Helper()
	if clusterRun() {
		t.Skip("a cluster run covers the Graph API through a load balancer; the phone tests run in the single-node run")
	}
	var missing []string
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", p, peerPackages[p]))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "SIP peer test needs " + strings.Join(missing, ", ")
	if os.Getenv(sipPeersEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, sipPeersEnv)
	}
	t.Skipf("%s; scripts/test installs it", msg)
}

// peer is a program the test runs: under `timeout -k 3`, with no input,
// in a directory of its own, its output kept in a file that is printed
// when the test fails.
type peer struct {
	name string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error         // how it exited, once done is closed
}

// startPeer runs args in dir for at most limit; it is killed (with the
// process group timeout started it in) when the test ends.
func startPeer(t *testing.T, name, dir string, limit time.Duration, args ...string) *peer {
	t.Helper()
	p := &peer{name: name, dir: dir, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	secs := strconv.Itoa(int((limit + time.Second - 1) / time.Second))
	p.cmd = exec.Command("timeout", append([]string{"-k", "3", secs}, args...)...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out // stdin is /dev/null
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s %s: %v\n%s", name, strings.Join(args, " "), p.err, p.output())
		}
	})
	return p
}

// output is what the peer printed so far (its last 16 KiB).
func (p *peer) output() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}

// wait waits for the peer to exit, at most d, and returns its exit code.
func (p *peer) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v", p.name, d)
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatalf("%s: %v", p.name, p.err)
		return -1
	}
}

// run runs a program to its end (at most a minute) and fails the test
// unless it succeeds.
func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("timeout", append([]string{"-k", "3", "60"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The peers' ports are taken from below the kernel's ephemeral range
// (32768 and up on Linux), where no socket gets a port it did not ask for:
// the server's RTP sockets and every client connection take theirs from
// the ephemeral range, so they cannot take a port between the check here
// and the peer's bind. Tests running in parallel pick at random, and
// check, as a peer's bind would fail loudly rather than flakily pass.
const peerPortsLow, peerPortsHigh = 20000, 32000

// freePorts returns the first of n consecutive loopback ports, free for
// UDP (and the first for TCP too) now; even, when asked.
func freePorts(t *testing.T, n int, even bool) int {
	t.Helper()
	free := func(port int, tcp bool) bool {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		defer pc.Close()
		if tcp {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			l.Close()
		}
		return true
	}
	for range 100 {
		port := peerPortsLow + rand.IntN(peerPortsHigh-peerPortsLow-n)
		if even {
			port &^= 1
		}
		ok := true
		for i := 0; i < n && ok; i++ {
			ok = free(port+i, i == 0)
		}
		if ok {
			return port
		}
	}
	t.Fatalf("no %d free loopback ports in %d-%d", n, peerPortsLow, peerPortsHigh)
	return 0
}

// freePort returns a loopback port free for both UDP and TCP: a peer's SIP
// port.
func freePort(t *testing.T) int { return freePorts(t, 1, false) }

// freeRTPPort returns an even loopback UDP port for sipp's -mp: sipp binds
// it and the three after it (audio RTP and RTCP, video RTP and RTCP).
func freeRTPPort(t *testing.T) int { return freePorts(t, 4, true) }

// speechWAV writes text spoken by espeak-ng as an 8 kHz mono 16-bit WAV
// and returns its path.
func speechWAV(t *testing.T, dir, name, text string) string {
	t.Helper()
	raw := filepath.Join(dir, name+".espeak.wav")
	run(t, dir, "espeak-ng", "-w", raw, text)
	path := filepath.Join(dir, name+".wav")
	run(t, dir, "sox", raw, "-r", "8000", "-c", "1", "-b", "16", path)
	return path
}

// padWAV writes a copy of a WAV with before and after of silence, and
// returns its path.
func padWAV(t *testing.T, in string, before, after time.Duration) string {
	t.Helper()
	out := strings.TrimSuffix(in, ".wav") + ".padded.wav"
	run(t, filepath.Dir(in), "sox", in, out, "pad", seconds(before), seconds(after))
	return out
}

// dtmfWAV writes the DTMF key of the two tones low and high (Hz) as an
// 8 kHz mono 16-bit WAV: length of the tone pair with before and after of
// silence.
func dtmfWAV(t *testing.T, dir, name string, low, high int, length, before, after time.Duration) string {
	t.Helper()
	pair := filepath.Join(dir, name+".pair.wav")
	run(t, dir, "sox", "-n", "-r", "8000", "-c", "2", "-b", "16", pair, "synth", seconds(length),
		"sine", strconv.Itoa(low), "sine", strconv.Itoa(high), "vol", "0.5")
	path := filepath.Join(dir, name+".wav")
	run(t, dir, "sox", pair, "-c", "1", path, "pad", seconds(before), seconds(after))
	return path
}

// ulawWAV converts a WAV to 8 kHz mono G.711 µ-law, the payload sipp's
// rtp_stream sends as it is.
func ulawWAV(t *testing.T, in string) string {
	t.Helper()
	out := strings.TrimSuffix(in, ".wav") + ".ulaw.wav"
	run(t, filepath.Dir(in), "sox", in, "-r", "8000", "-c", "1", "-e", "u-law", out)
	return out
}

// seconds renders d the way sox reads a time.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// stop asks the peer to end (SIGTERM, which timeout passes on) and waits
// for it to exit, at most d.
func (p *peer) stop(t *testing.T, d time.Duration) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.wait(t, d)
}

// baresipModules is the directory of baresip's modules: where Debian's
// baresip-core installs them (or a local build does).
func baresipModules(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/*/baresip/modules")
	for _, d := range append([]string{"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules"}, dirs...) {
		if _, err := os.Stat(filepath.Join(d, "aufile.so")); err == nil {
			return d
		}
	}
	t.Fatal("baresip: no modules directory with aufile.so (apt-get install baresip-core)")
	return ""
}

// baresipPhone is a baresip phone.
type baresipPhone struct {
	*peer // the running baresip, once started
	// URI is where it takes calls, such as sip:15550100@127.0.0.1:40000:
	// the SIP URI a static contact binds an identity to.
	URI  string
	dir  string
	user string
	port int
}

// newBaresip chooses where the phone user@127.0.0.1, which will run in
// dir, takes calls, without running it yet. A test that binds the phone's
// URI in the server's configuration does so before t.Parallel, and starts
// the phone after it: a parallel test may wait long for its turn, and the
// phone's time limit must not run meanwhile.
func newBaresip(t *testing.T, dir, user string) *baresipPhone {
	t.Helper()
	port := freePort(t)
	return &baresipPhone{URI: fmt.Sprintf("sip:%s@127.0.0.1:%d", user, port), dir: dir, user: user, port: port}
}

// startBaresip runs baresip as the phone user@127.0.0.1 in dir, for at
// most limit: see start.
func startBaresip(t *testing.T, dir, user, source string, limit time.Duration, commands ...string) *baresipPhone {
	t.Helper()
	b := newBaresip(t, dir, user)
	b.start(t, source, limit, commands...)
	return b
}

// start runs the phone for at most limit: it speaks source (an 8 kHz mono
// WAV; the call hangs up when it ends, so pad it), writes what it hears to
// dump-*-dec.wav in its directory, and runs the commands (such as "/dial
// sip:...") once it is ready. It answers calls to it at once, over PCMU.
func (b *baresipPhone) start(t *testing.T, source string, limit time.Duration, commands ...string) {
	t.Helper()
	config := strings.Join([]string{
		"module_path " + baresipModules(t),
		"poll_method epoll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", b.port),
		"net_interface 127.0.0.1", // the name lo fails
		"audio_source aufile," + source,
		"audio_player aubridge,out", // no sound card: what it hears goes to sndfile
		"audio_alert aubridge,out",
		"snd_path " + b.dir,
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module sndfile.so",
		"module_app account.so",
		"module_app menu.so",
	}, "\n") + "\n"
	account := fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU\n", b.user)
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"baresip", "-f", b.dir}
	for _, c := range commands {
		args = append(args, "-e", c)
	}
	b.peer = startPeer(t, "baresip", b.dir, limit, args...)
}

// baresipHeard returns what baresip heard in its calls: its sndfile
// dump-*-dec.wav, complete once baresip has exited.
func baresipHeard(t *testing.T, dir string) media.Audio {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(files) != 1 {
		t.Fatalf("baresip: %d dump-*-dec.wav files in its directory, want the one of its call", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	a, err := media.DecodeWAV(bytes.NewReader(completeWAV(b)))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(files[0]), err)
	}
	return a
}

// completeWAV fixes the sizes in the header of a WAV file whose writer
// did not finish it: a baresip killed by its signal rather than exiting
// leaves its dump's data size at 0 (or unknown), though the samples are
// all there. The data chunk is taken to run to the end of the file.
func completeWAV(b []byte) []byte {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return b
	}
	out := append([]byte(nil), b...)
	for off := 12; off+8 <= len(out); {
		id, size := string(out[off:off+4]), int(binary.LittleEndian.Uint32(out[off+4:off+8]))
		if id == "data" {
			if rest := len(out) - off - 8; size == 0 || size > rest {
				binary.LittleEndian.PutUint32(out[off+4:off+8], uint32(rest&^1))
				binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
			}
			return out
		}
		off += 8 + size + size%2
	}
	return b
}

// readWAV decodes a WAV file into the engine's format.
func readWAV(t *testing.T, path string) media.Audio {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := media.DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return a
}

// sippCall is the start of a sipp scenario in which the phone number calls
// [service] (sipp's -s: the bot's client id) at the server, offering PCMU
// and telephone-event with payload type eventPT. Its INVITE has a fixed
// branch, which the scenario's CANCEL and the ACK of a failure reuse. With
// ringing, the scenario goes on once the call rings (180); without, a 180
// is optional.
func sippCall(number string, eventPT int, ringing bool) string {
	optional := "true"
	if ringing {
		optional = "false"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-invite-[call_number]
      From: "Phone" <sip:%[1]s@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:%[1]s@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 %[2]d
      a=rtpmap:0 PCMU/8000
      a=rtpmap:%[2]d telephone-event/8000
      a=fmtp:%[2]d 0-15
      a=ptime:20

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="%[3]s"/>
`, number, eventPT, optional)
}

// sippAnswered continues sippCall: the call is answered and acknowledged.
const sippAnswered = `  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:phone@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
`

// sippAwaitBye ends a scenario: the server hangs up, the phone says OK.
const sippAwaitBye = `  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

// sippHangUp ends a scenario: the phone hangs up.
const sippHangUp = `  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:phone@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// sippCancel ends a scenario once the call rings (sippCall with ringing):
// the phone cancels, and the INVITE fails with 487.
const sippCancel = `  <send>
    <![CDATA[

      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-invite-[call_number]
      [last_From:]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-invite-[call_number]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

// sippPause is a scenario step that waits.
func sippPause(d time.Duration) string {
	return fmt.Sprintf("  <pause milliseconds=\"%d\"/>\n", d.Milliseconds())
}

// sippExec is a scenario step that runs one of sipp's media actions, such
// as play_dtmf="3" or rtp_stream="file.wav,1,0".
func sippExec(action string) string {
	return "  <nop><action><exec " + action + "/></action></nop>\n"
}

// startSipp runs the sipp scenario (XML) for one call to the bot's client
// id at the SIP address server, in dir, for at most limit, over UDP unless
// the options say otherwise (such as "-t", "t1": TCP).
func startSipp(t *testing.T, dir, scenario, server, clientID string, limit time.Duration, options ...string) *peer {
	t.Helper()
	path := filepath.Join(dir, "phone.xml")
	if err := os.WriteFile(path, []byte(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"sipp", "-sf", path, server, "-s", clientID,
		"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeRTPPort(t)),
		"-m", "1", "-timeout", strconv.Itoa(int(limit/time.Second)) + "s", "-trace_err", "-trace_msg"}
	p := startPeer(t, "sipp", dir, limit, append(args, options...)...)
	logSippTraces(t, dir)
	return p
}

// logSippTraces prints the messages and errors sipp traced in dir if the
// test fails.
func logSippTraces(t *testing.T, dir string) {
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "*_messages.log"))
			errs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
			for _, f := range append(logs, errs...) {
				b, _ := os.ReadFile(f)
				t.Logf("sipp %s:\n%s", filepath.Base(f), b)
			}
		}
	})
}

// sippPhone is a sipp that takes one call (a UAS).
type sippPhone struct {
	*peer // the running sipp, once started
	// URI is where it takes calls, such as sip:15550100@127.0.0.1:40000:
	// the SIP URI a static contact binds an identity to.
	URI  string
	dir  string
	port int
}

// newSippUAS chooses where the phone user, a sipp that will run in dir,
// takes calls, without running it yet (see newBaresip).
func newSippUAS(t *testing.T, dir, user string) *sippPhone {
	t.Helper()
	port := freePort(t)
	return &sippPhone{URI: fmt.Sprintf("sip:%s@127.0.0.1:%d", user, port), dir: dir, port: port}
}

// start runs the phone for one call over UDP, for at most limit; it exits
// once the call is over: with the scenario (XML), or with sipp's built-in
// uas scenario (it answers, then waits for a BYE) when scenario is "".
// Options are more of sipp's arguments, such as "-rtp_echo" (send back
// every RTP packet it gets).
func (p *sippPhone) start(t *testing.T, scenario string, limit time.Duration, options ...string) {
	t.Helper()
	args := []string{"sipp", "-sn", "uas"}
	if scenario != "" {
		path := filepath.Join(p.dir, "phone.xml")
		if err := os.WriteFile(path, []byte(scenario), 0o600); err != nil {
			t.Fatal(err)
		}
		args = []string{"sipp", "-sf", path}
	}
	args = append(args, "-i", "127.0.0.1", "-p", strconv.Itoa(p.port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeRTPPort(t)),
		"-m", "1", "-timeout", strconv.Itoa(int(limit/time.Second))+"s", "-trace_err", "-trace_msg")
	p.peer = startPeer(t, "sipp", p.dir, limit, append(args, options...)...)
	logSippTraces(t, p.dir)
}

// sippToTag is the To tag of a sipp UAS's responses in one call.
const sippToTag = "tag=[pid]SIPpTag01[call_number]"

// sippRefuses is a UAS scenario: the phone refuses the call with a final
// response, such as 486 Busy Here, and takes the ACK.
func sippRefuses(code int, reason string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refusing phone">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 %d %s
      [last_Via:]
      [last_From:]
      [last_To:];%s
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`, code, reason, sippToTag)
}

// sippRingsUntilCanceled is a UAS scenario: the phone rings (180) and never
// answers; it expects a CANCEL, answers it with 200 and the INVITE with
// 487, and takes the ACK.
const sippRingsUntilCanceled = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone that never answers">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];` + sippToTag + `
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <recv request="CANCEL"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];` + sippToTag + `
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];` + sippToTag + `
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`

// A dump whose header a killed writer left with a data size of 0 still
// yields its samples; a finished one is left as it is.
func TestCompleteWAV(t *testing.T) {
	tone := media.Tone(440, 200*time.Millisecond, -12)
	var buf bytes.Buffer
	if err := media.EncodeWAV(&buf, tone); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	if got := completeWAV(whole); !bytes.Equal(got, whole) {
		t.Fatal("a complete WAV was changed")
	}
	cut := append([]byte(nil), whole...)
	off := bytes.Index(cut, []byte("data"))
	binary.LittleEndian.PutUint32(cut[off+4:], 0)
	a, err := media.DecodeWAV(bytes.NewReader(completeWAV(cut)))
	if err != nil || a.Duration() != tone.Duration() {
		t.Fatalf("repaired: %v of %v, %v", a.Duration(), tone.Duration(), err)
	}
}
