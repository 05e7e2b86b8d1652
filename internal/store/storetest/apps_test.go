package storetest

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

// TestMemoryAppStore holds auth.MemoryAppStore, the fake that auth's tests
// use, to the same contract as the real stores.
func TestMemoryAppStore(t *testing.T) {
	RunAppStoreContract(t, func(*testing.T) auth.AppStore { return &auth.MemoryAppStore{} })
}
