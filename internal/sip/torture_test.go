package sip

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tortureDir finds RFC 4475's torture messages, which the sipgo module
// ships as test data (read from the module cache, not copied here).
func tortureDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/emiago/sipgo").Output()
	if err != nil {
		t.Fatalf("locating the sipgo module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "sip", "testdata", "torture")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("RFC 4475 messages: %v", err)
	}
	return dir
}

// TestTortureMessages sends every RFC 4475 torture message, valid and
// invalid, and one larger than MaxMessageSize, over UDP and TCP: the server survives them all, leaves no
// dialog behind, and still answers an OPTIONS afterwards.
func TestTortureMessages(t *testing.T) {
	dir := tortureDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.dat"))
	if err != nil || len(files) < 40 {
		t.Fatalf("found %d torture messages (%v); want RFC 4475's", len(files), err)
	}
	s := startRefusing(t)
	addr := s.Addr().String()
	udp, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	// And one message larger than MaxMessageSize.
	huge := []byte(fuzzInvite("bot", strings.Repeat("a=x-padding\r\n", MaxMessageSize/12)))
	hugeFile := filepath.Join(t.TempDir(), "huge.dat")
	if err := os.WriteFile(hugeFile, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	files = append(files, hugeFile)
	for _, f := range files {
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := udp.Write(msg); err != nil {
			t.Fatalf("%s over UDP: %v", filepath.Base(f), err)
		}
		tcp, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: the TCP listener refused a connection: %v", filepath.Base(f), err)
		}
		tcp.Write(msg)
		tcp.Close()
	}
	// Still alive: an OPTIONS from a real socket gets its 200.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	options := "OPTIONS sip:switchboard@" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:" + itoa(port) + ";branch=z9hG4bK-torture-alive\r\n" +
		"Max-Forwards: 70\r\nTo: <sip:switchboard@" + addr + ">\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\n" +
		"Call-ID: torture-alive\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	ua, _ := net.ResolveUDPAddr("udp", addr)
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := pc.WriteTo([]byte(options), ua); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := pc.ReadFrom(buf)
		if err == nil {
			res, perr := sip.ParseMessage(buf[:n])
			if r, ok := res.(*sip.Response); perr != nil || !ok || r.StatusCode != 200 {
				t.Fatalf("OPTIONS after the torture messages: %q", bytes.TrimSpace(buf[:n]))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server no longer answers OPTIONS after the torture messages")
		}
	}
	s.mu.Lock()
	left := len(s.byRef) + len(s.byCall)
	s.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d dialogs left behind", left)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
