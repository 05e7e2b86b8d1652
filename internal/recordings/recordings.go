// Package recordings keeps the WAV files of recordResponse operations in
// the data directory and serves them to bots: GET {location} with
// "Authorization: Bearer {recordingAccessToken}", as Graph documents.
// Unlike Graph, which discards a recording shortly after the call ends,
// Switchboard keeps each for a configurable time (Retention).
//
// Each recording is two files: <id>.wav and <id>.json (the SHA-256 of its
// token, its owner and its expiry), written atomically, so a recording
// whose operation was acknowledged survives a restart. On the nodes of a
// cluster (Join) the metadata is also in the shared store, and a node asked
// for a recording it does not have checks the token and hands the request
// to the node that has it. It imports only the standard library.
package recordings

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// PathPrefix is where recordings are served.
const PathPrefix = "/switchboard/v1/recordings/"

// Store keeps recordings in a directory. It is safe for concurrent use.
type Store struct {
	dir       string
	publicURL func() string
	retention time.Duration
	now       func() time.Time
	cluster   *Cluster // nil on one node
}

// Cluster is how the nodes of a cluster share recordings: each node keeps
// the files it recorded in its own directory (or all share one), and the
// metadata of every recording is in the shared Index, so that any node
// checks a recording's token and hands the request to the node that has
// the file.
type Cluster struct {
	Index Index
	// Node is this node's address as the other nodes reach it (its
	// advertised URL), written into the metadata of what it saves: it
	// outlives a restart on the same directory, unlike a node's id.
	Node string
	// Remote serves a request for a recording whose file is on the node at
	// address, by forwarding it there; it writes the response whatever
	// happens.
	Remote func(w http.ResponseWriter, r *http.Request, address string)
}

// Index keeps recordings' metadata where every node sees it (the store).
type Index interface {
	PutRecording(ctx context.Context, m Meta) error
	// GetRecording returns the metadata of recording id, or an error
	// matching ErrNotFound.
	GetRecording(ctx context.Context, id string) (Meta, error)
	// SweepRecordings deletes the metadata that expired by now and
	// returns how many.
	SweepRecordings(ctx context.Context, now time.Time) (int, error)
}

// ErrNotFound is what an Index returns for a recording it does not know.
var ErrNotFound = errors.New("recordings: not found")

// Join makes the Store one node's of a cluster (see Cluster). Call it
// before the Store is used.
func (s *Store) Join(c Cluster) { s.cluster = &c }

// New returns a Store in dir, handing out locations under the URL that
// publicURL returns (such as "https://switchboard.example"), keeping
// recordings for retention. It creates dir, or tightens an existing one,
// to mode 0700: recordings are callers' voices, for the owner alone (and
// each file is 0600).
func New(dir string, publicURL func() string, retention time.Duration, now func() time.Time) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	// Chmod, not MkdirAll's mode: the umask must not matter, and a
	// directory made by an older build or by hand may be looser.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recordings: make %s private (chmod 700): %w", dir, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Store{dir: dir, publicURL: publicURL, retention: retention, now: now}, nil
}

// Meta is what is known of a recording besides its audio: the SHA-256 of
// its token (hex), whose call it is, until when it is kept, and in a
// cluster the address of the node that has its file. It is the content of
// <id>.json.
type Meta struct {
	ID          string    `json:"-"`
	TokenSHA256 string    `json:"tokenSha256"`
	TenantID    string    `json:"tenantId"`
	AppID       string    `json:"appId"`
	CallID      string    `json:"callId"`
	OperationID string    `json:"operationId"`
	Expires     time.Time `json:"expires"`
	Node        string    `json:"node,omitempty"`
}

var idPattern = regexp.MustCompile(`^[a-f0-9]{32}$`)

// Save stores wav and returns its location and the bearer token that
// fetches it.
func (s *Store) Save(ctx context.Context, tenantID, appID, callID, opID string, wav []byte) (string, string, error) {
	var raw [16]byte
	var tok [32]byte
	rand.Read(raw[:])
	rand.Read(tok[:])
	id := hex.EncodeToString(raw[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	sum := sha256.Sum256([]byte(token))
	m := Meta{ID: id, TokenSHA256: hex.EncodeToString(sum[:]), TenantID: tenantID, AppID: appID, CallID: callID, OperationID: opID,
		Expires: s.now().Add(s.retention).UTC()}
	if s.cluster != nil {
		m.Node = s.cluster.Node
	}
	b, _ := json.Marshal(m)
	if err := writeAtomic(filepath.Join(s.dir, id+".wav"), wav); err != nil {
		return "", "", err
	}
	if err := writeAtomic(filepath.Join(s.dir, id+".json"), b); err != nil {
		return "", "", err
	}
	if s.cluster != nil {
		if err := s.cluster.Index.PutRecording(ctx, m); err != nil {
			return "", "", fmt.Errorf("recordings: %w", err)
		}
	}
	return strings.TrimRight(s.publicURL(), "/") + PathPrefix + id, token, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	// A leftover temporary file keeps its mode through O_TRUNC.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("recordings: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("recordings: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("recordings: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	return os.Rename(tmp, path)
}

// open returns the file of recording id for the holder of token: a path
// on this node, or else the node that has it ("" and node); ErrNotFound
// for an unknown id, a wrong token or an expired recording alike.
func (s *Store) open(ctx context.Context, id, token string) (path, node string, err error) {
	if !idPattern.MatchString(id) || token == "" {
		return "", "", ErrNotFound
	}
	var m Meta
	b, err := os.ReadFile(filepath.Join(s.dir, id+".json"))
	local := err == nil
	switch {
	case local:
		if json.Unmarshal(b, &m) != nil {
			return "", "", ErrNotFound
		}
	case s.cluster != nil:
		// Recorded by another node: the shared metadata says which.
		if m, err = s.cluster.Index.GetRecording(ctx, id); err != nil {
			return "", "", ErrNotFound
		}
	default:
		return "", "", ErrNotFound
	}
	sum := sha256.Sum256([]byte(token))
	want, _ := hex.DecodeString(m.TokenSHA256)
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || s.now().After(m.Expires) {
		return "", "", ErrNotFound
	}
	switch {
	case local:
		return filepath.Join(s.dir, id+".wav"), "", nil
	case m.Node == "" || m.Node == s.cluster.Node:
		return "", "", ErrNotFound // ours, and its file is gone
	}
	return "", m.Node, nil
}

// ServeHTTP serves GET {PathPrefix}{id} to the holder of its token: 200
// with application/octet-stream (as Graph does), or 404 for a wrong token,
// an expired or unknown recording alike. In a cluster, a recording
// another node has is checked here and served by that node.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, `{"error":{"code":"MethodNotAllowed","message":"Use GET."}}`, http.StatusMethodNotAllowed)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	path, node, err := s.open(r.Context(), strings.TrimPrefix(r.URL.Path, PathPrefix), strings.TrimSpace(token))
	switch {
	case err != nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":{"code":"itemNotFound","message":"No recording here for this token; recordings expire after the configured retention."}}`))
	case node != "":
		s.cluster.Remote(w, r, node)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeFile(w, r, path)
	}
}

// Sweep deletes expired recordings; it returns how many.
func (s *Store) Sweep() int {
	entries, _ := os.ReadDir(s.dir)
	n := 0
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !idPattern.MatchString(id) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		var m Meta
		if err != nil || json.Unmarshal(b, &m) != nil || s.now().After(m.Expires) {
			os.Remove(filepath.Join(s.dir, id+".wav"))
			os.Remove(filepath.Join(s.dir, e.Name()))
			n++
		}
	}
	if s.cluster != nil {
		// Any node may drop expired metadata; each deletes its own files.
		s.cluster.Index.SweepRecordings(context.Background(), s.now())
	}
	return n
}
