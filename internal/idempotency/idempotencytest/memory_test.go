package idempotencytest_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/idempotency/idempotencytest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestContract holds the fake to the contract the real stores keep.
func TestContract(t *testing.T) {
	storetest.RunIdempotencyContract(t, func(t *testing.T) idempotency.Store {
		return &idempotencytest.MemoryStore{}
	})
}
