package devcert

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnsureGeneratesOnceAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	now := time.Now()
	first, err := Ensure(dir, now)
	if err != nil {
		t.Fatalf("first Ensure: %v", err)
	}
	files := map[string][]byte{}
	for name, mode := range map[string]os.FileMode{CAFile: 0o644, CAKeyFile: 0o600, CertFile: 0o644, KeyFile: 0o600} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := fi.Mode().Perm(); got&^mode != 0 || (mode == 0o600 && got != 0o600) {
			t.Errorf("%s mode = %v, want %v", name, got, mode)
		}
		files[name], _ = os.ReadFile(path)
	}

	second, err := Ensure(dir, now.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if !bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Error("second Ensure replaced the CA")
	}
	if !bytes.Equal(first.Certificate.Certificate[0], second.Certificate.Certificate[0]) {
		t.Error("second Ensure replaced a valid server certificate")
	}
	for name, before := range files {
		after, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(before, after) {
			t.Errorf("%s changed on the second call", name)
		}
	}

	leaf := first.Certificate.Leaf
	if leaf == nil {
		t.Fatal("Certificate.Leaf is nil")
	}
	if v := leaf.NotAfter.Sub(leaf.NotBefore); v >= 825*24*time.Hour {
		t.Errorf("server certificate validity %v, want < 825 days", v)
	}
	ca := caCert(t, first)
	if v := ca.NotAfter.Sub(now); v < 9*365*24*time.Hour {
		t.Errorf("CA valid for %v from now, want about ten years", v)
	}
}

func TestEnsureRenewsLeafNearExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := Ensure(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	later := first.Certificate.Leaf.NotAfter.Add(-29 * 24 * time.Hour)
	second, err := Ensure(dir, later)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Error("renewing the server certificate replaced the CA")
	}
	if bytes.Equal(first.Certificate.Certificate[0], second.Certificate.Certificate[0]) {
		t.Error("server certificate expiring within 30 days was kept")
	}
	if !second.Certificate.Leaf.NotAfter.After(later.Add(leafRenewBefore)) {
		t.Errorf("renewed certificate expires %v, too soon", second.Certificate.Leaf.NotAfter)
	}
}

func TestEnsureReissuesLeafForNewCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := Ensure(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CAFile, CAKeyFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Ensure(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Fatal("CA was not regenerated after its files were deleted")
	}
	if bytes.Equal(first.Certificate.Certificate[0], second.Certificate.Certificate[0]) {
		t.Error("server certificate signed by the old CA was kept")
	}
	handshake(t, second, "127.0.0.1", "127.0.0.1")
}

func TestEnsureRefusesBrokenCA(t *testing.T) {
	tests := map[string]func(t *testing.T, dir string){
		"key missing": func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, CAKeyFile)); err != nil {
				t.Fatal(err)
			}
		},
		"certificate garbled": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, CAFile), []byte("not a certificate"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"key from another pair": func(t *testing.T, dir string) {
			other, err := os.ReadFile(filepath.Join(dir, KeyFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, CAKeyFile), other, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"CA replaced by the server certificate": func(t *testing.T, dir string) {
			for from, to := range map[string]string{CertFile: CAFile, KeyFile: CAKeyFile} {
				b, err := os.ReadFile(filepath.Join(dir, from))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, to), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Ensure(dir, time.Now()); err != nil {
				t.Fatal(err)
			}
			breakIt(t, dir)
			if _, err := Ensure(dir, time.Now()); err == nil {
				t.Fatal("Ensure accepted a broken CA")
			}
		})
	}
}

func TestEnsureRefusesExpiredCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if _, err := Ensure(dir, now); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(dir, now.Add(11*365*24*time.Hour)); err == nil {
		t.Fatal("Ensure used an expired CA")
	}
}

func TestHandshakeOverLoopback(t *testing.T) {
	b, err := Ensure(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, addr, serverName string }{
		{"IPv4 literal", "127.0.0.1", "127.0.0.1"},
		{"localhost over IPv4", "127.0.0.1", "localhost"},
		{"IPv6 literal", "::1", "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handshake(t, b, tt.addr, tt.serverName)
		})
	}
	t.Run("untrusted name fails", func(t *testing.T) {
		if err := tryHandshake(t, b, "127.0.0.1", "example.com"); err == nil {
			t.Fatal("handshake for example.com succeeded")
		}
	})
}

func handshake(t *testing.T, b *Bundle, addr, serverName string) {
	t.Helper()
	if err := tryHandshake(t, b, addr, serverName); err != nil {
		t.Fatalf("handshake with %s as %s: %v", addr, serverName, err)
	}
}

// tryHandshake serves one TLS connection on addr with b's certificate and
// connects to it with a client that trusts only b.CAPool.
func tryHandshake(t *testing.T, b *Bundle, addr, serverName string) error {
	t.Helper()
	ln, err := tls.Listen("tcp", net.JoinHostPort(addr, "0"), &tls.Config{Certificates: []tls.Certificate{b.Certificate}})
	if err != nil {
		if addr == "::1" {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()

	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: b.CAPool, ServerName: serverName})
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "ping" {
		t.Fatalf("echo = %q", buf)
	}
	return nil
}

func caCert(t *testing.T, b *Bundle) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b.CAPEM)
	if block == nil {
		t.Fatal("CAPEM holds no PEM block")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA {
		t.Fatal("CAPEM is not a CA certificate")
	}
	return ca
}

// TestEnsureKeepsKeysPrivate: a key file that group or others may read
// (copied with cp, restored from a backup) is tightened to 0600 by the next
// Ensure; a new directory is the owner's alone.
func TestEnsureKeepsKeysPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if _, err := Ensure(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("new directory: %v %v, want mode 700", fi.Mode().Perm(), err)
	}
	for _, name := range []string{CAKeyFile, KeyFile} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Ensure(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CAKeyFile, KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %o after Ensure, want 600", name, got)
		}
	}
}
