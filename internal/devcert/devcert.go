package devcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names inside the directory given to Ensure.
const (
	CAFile     = "dev-ca.pem"
	CAKeyFile  = "dev-ca-key.pem"
	CertFile   = "dev-cert.pem"
	KeyFile    = "dev-key.pem"
	caValidity = 10 * 365 * 24 * time.Hour
	// leafValidity stays under the 825 days that Apple platforms (and so
	// Safari and some HTTP stacks) accept for a TLS server certificate.
	leafValidity = 820 * 24 * time.Hour
	// leafRenewBefore is how close to expiry a server certificate may get
	// before Ensure replaces it.
	leafRenewBefore = 30 * 24 * time.Hour
	// backdate absorbs small clock differences between server and client.
	backdate = time.Hour
)

// leafDNSNames and leafIPs are the names the server certificate covers.
var (
	leafDNSNames = []string{"localhost"}
	leafIPs      = []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
)

// Bundle is the development TLS material.
type Bundle struct {
	// Certificate is the server certificate and its key, ready for
	// tls.Config.Certificates. Its Leaf field is set.
	Certificate tls.Certificate
	// CAPEM is the development CA certificate in PEM form, to hand to
	// clients (NODE_EXTRA_CA_CERTS, a trust store, an http.Client).
	CAPEM []byte
	// CAPool holds only the development CA.
	CAPool *x509.CertPool
}

// Ensure returns the development TLS material kept in dir, creating dir and
// the material as needed, with now as the current time.
//
// The CA (ECDSA P-256, valid for ten years) is generated only when neither of
// its files exists; if only one exists, or they cannot be read, or the CA has
// expired, Ensure returns an error rather than replace a CA that someone may
// have trusted. The server certificate is (re)generated when it is missing,
// unreadable, not issued by the CA, does not cover localhost, 127.0.0.1 and
// ::1, or expires within 30 days. Key files are written with mode 0600,
// certificates with 0644, each through a rename so a reader never sees half a
// file; an existing key file that group or others may access is tightened
// to 0600, and a missing dir is created 0700. Ensure is not safe for concurrent use on the same dir, by goroutines
// or by processes.
func Ensure(dir string, now time.Time) (*Bundle, error) {
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	ca, caKey, caPEM, err := ensureCA(dir, now)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	cert, err := loadLeaf(dir, pool, now)
	if err != nil {
		if cert, err = newLeaf(dir, ca, caKey, now); err != nil {
			return nil, err
		}
	}
	return &Bundle{Certificate: cert, CAPEM: caPEM, CAPool: pool}, nil
}

func ensureCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, []byte, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return newCA(dir, now)
	case certErr != nil:
		return nil, nil, nil, fmt.Errorf("devcert: reading CA: %w", certErr)
	case keyErr != nil:
		return nil, nil, nil, fmt.Errorf("devcert: reading CA key: %w", keyErr)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("devcert: %s and %s do not form a key pair (delete both to start a new CA): %w", certPath, keyPath, err)
	}
	ca := pair.Leaf
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, nil, fmt.Errorf("devcert: %s is not a CA certificate", certPath)
	}
	if !now.Before(ca.NotAfter) {
		return nil, nil, nil, fmt.Errorf("devcert: the development CA in %s expired on %s; delete %s and %s to create a new one (and trust it again)",
			dir, ca.NotAfter.Format(time.DateOnly), CAFile, CAKeyFile)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, nil, fmt.Errorf("devcert: %s holds an unusable key", keyPath)
	}
	return ca, signer, certPEM, nil
}

func newCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("devcert: generating CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"Switchboard development"},
			CommonName:   "Switchboard Development CA",
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("devcert: creating CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("devcert: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key goes first: a crash between the two writes leaves a key with
	// no certificate, which Ensure reports, never a certificate whose key
	// is lost.
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return nil, nil, nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, CAFile), certPEM, 0o644); err != nil {
		return nil, nil, nil, err
	}
	return ca, key, certPEM, nil
}

// loadLeaf returns the stored server certificate if it is still fit for use.
func loadLeaf(dir string, roots *x509.CertPool, now time.Time) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := pair.Leaf
	if leaf.NotAfter.Sub(now) < leafRenewBefore {
		return tls.Certificate{}, errors.New("devcert: server certificate expires soon")
	}
	for _, name := range leafDNSNames {
		if _, err := leaf.Verify(x509.VerifyOptions{
			DNSName:     name,
			Roots:       roots,
			CurrentTime: now,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			return tls.Certificate{}, err
		}
	}
	for _, ip := range leafIPs {
		if err := leaf.VerifyHostname(ip.String()); err != nil {
			return tls.Certificate{}, err
		}
	}
	return pair, nil
}

func newLeaf(dir string, ca *x509.Certificate, caKey crypto.Signer, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devcert: generating server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	notAfter := now.Add(leafValidity - backdate)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"Switchboard development"},
			CommonName:   "localhost",
		},
		NotBefore:   now.Add(-backdate),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    leafDNSNames,
		IPAddresses: leafIPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devcert: creating server certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM, err := encodeKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devcert: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, KeyFile), keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(filepath.Join(dir, CertFile), certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return pair, nil
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("devcert: generating serial number: %w", err)
	}
	return serial, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devcert: encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// privateDir creates dir 0700 if it is missing (with Chmod, so the umask
// does not matter) and tightens the key files in it to 0600.
func privateDir(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("devcert: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("devcert: %w", err)
		}
	}
	for _, name := range []string{CAKeyFile, KeyFile} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("devcert: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return fmt.Errorf("devcert: make %s private (chmod 600): %w", path, err)
			}
		}
	}
	return nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, keyPEM, 0o600)
}

// writeFileAtomic writes data to a temporary file in path's directory with
// the given mode and renames it over path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	// CreateTemp makes the file 0600, so a key is never readable by others,
	// not even between creation and this Chmod.
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	return nil
}
