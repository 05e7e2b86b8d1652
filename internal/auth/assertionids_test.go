package auth_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestMemoryAssertionIDsContract holds the in-memory store to the contract
// the SQLite store keeps.
func TestMemoryAssertionIDsContract(t *testing.T) {
	storetest.RunAssertionIDContract(t, func(t *testing.T) auth.AssertionIDStore { return &auth.MemoryAssertionIDs{} })
}
