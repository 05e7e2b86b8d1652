package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// AppStore persists registered applications with their secrets and
// certificates. Client ids are matched case-insensitively and kept as
// given. Implementations must be safe for concurrent use, and a change must
// be visible to every later read, also from another process sharing the
// store.
type AppStore interface {
	// CreateApp stores a new application with its Secrets and
	// Certificates. It fails with ErrAppExists if the client id is taken.
	CreateApp(ctx context.Context, a App) error
	// GetApp returns the application with its secrets and certificates, or
	// an error matching ErrAppNotFound.
	GetApp(ctx context.Context, clientID string) (App, error)
	// ListApps returns every application, oldest first (ties by client id).
	ListApps(ctx context.Context) ([]App, error)
	// DeleteApp removes the application with its secrets and certificates,
	// or fails with ErrAppNotFound.
	DeleteApp(ctx context.Context, clientID string) error
	// AddSecret adds a secret to the application, or fails with
	// ErrAppNotFound.
	AddSecret(ctx context.Context, clientID string, s Secret) error
	// RemoveSecrets removes every secret of the application except those
	// whose ID is in except, and returns how many it removed. It fails with
	// ErrAppNotFound if there is no such application.
	RemoveSecrets(ctx context.Context, clientID string, except ...string) (int, error)
	// AddCertificate adds a certificate to the application. It fails with
	// ErrAppNotFound, or with ErrCertificateExists if the application has a
	// certificate with the same X5TS256.
	AddCertificate(ctx context.Context, clientID string, c Certificate) error
}

// MemoryAppStore is an AppStore in memory, for tests and throwaway servers.
// Its zero value is empty and ready to use; it is safe for concurrent use.
type MemoryAppStore struct {
	mu   sync.Mutex
	apps map[string]App // by lowercase client id
}

var _ AppStore = (*MemoryAppStore)(nil)

// CreateApp stores a copy of a.
func (m *MemoryAppStore) CreateApp(_ context.Context, a App) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.ToLower(a.ClientID)
	if _, ok := m.apps[key]; ok {
		return fmt.Errorf("%w: %s", ErrAppExists, a.ClientID)
	}
	if m.apps == nil {
		m.apps = make(map[string]App)
	}
	m.apps[key] = cloneApp(a)
	return nil
}

// GetApp returns a copy of the stored application.
func (m *MemoryAppStore) GetApp(_ context.Context, clientID string) (App, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.apps[strings.ToLower(clientID)]
	if !ok {
		return App{}, fmt.Errorf("%w: %s", ErrAppNotFound, clientID)
	}
	return cloneApp(a), nil
}

// ListApps returns copies of the stored applications, oldest first.
func (m *MemoryAppStore) ListApps(context.Context) ([]App, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]App, 0, len(m.apps))
	for _, a := range m.apps {
		out = append(out, cloneApp(a))
	}
	slices.SortFunc(out, func(a, b App) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ClientID, b.ClientID)
	})
	return out, nil
}

// DeleteApp removes the application.
func (m *MemoryAppStore) DeleteApp(_ context.Context, clientID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.ToLower(clientID)
	if _, ok := m.apps[key]; !ok {
		return fmt.Errorf("%w: %s", ErrAppNotFound, clientID)
	}
	delete(m.apps, key)
	return nil
}

// AddSecret adds a copy of s to the application.
func (m *MemoryAppStore) AddSecret(_ context.Context, clientID string, s Secret) error {
	return m.update(clientID, func(a *App) error {
		s.Hash = slices.Clone(s.Hash)
		a.Secrets = append(a.Secrets, s)
		return nil
	})
}

// RemoveSecrets removes the application's secrets but those in except.
func (m *MemoryAppStore) RemoveSecrets(_ context.Context, clientID string, except ...string) (int, error) {
	removed := 0
	err := m.update(clientID, func(a *App) error {
		before := len(a.Secrets)
		a.Secrets = slices.DeleteFunc(a.Secrets, func(s Secret) bool { return !slices.Contains(except, s.ID) })
		removed = before - len(a.Secrets)
		return nil
	})
	return removed, err
}

// AddCertificate adds a copy of c to the application.
func (m *MemoryAppStore) AddCertificate(_ context.Context, clientID string, c Certificate) error {
	return m.update(clientID, func(a *App) error {
		for _, old := range a.Certificates {
			if old.X5TS256 == c.X5TS256 {
				return fmt.Errorf("%w: %s", ErrCertificateExists, c.X5TS256)
			}
		}
		c.PEM = slices.Clone(c.PEM)
		a.Certificates = append(a.Certificates, c)
		return nil
	})
}

func (m *MemoryAppStore) update(clientID string, f func(*App) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.ToLower(clientID)
	a, ok := m.apps[key]
	if !ok {
		return fmt.Errorf("%w: %s", ErrAppNotFound, clientID)
	}
	if err := f(&a); err != nil {
		return err
	}
	m.apps[key] = a
	return nil
}

// cloneApp copies a deeply enough that neither copy's changes reach the
// other.
func cloneApp(a App) App {
	a.Roles = slices.Clone(a.Roles)
	a.Secrets = slices.Clone(a.Secrets)
	for i := range a.Secrets {
		a.Secrets[i].Hash = slices.Clone(a.Secrets[i].Hash)
	}
	a.Certificates = slices.Clone(a.Certificates)
	for i := range a.Certificates {
		a.Certificates[i].PEM = slices.Clone(a.Certificates[i].PEM)
	}
	return a
}
