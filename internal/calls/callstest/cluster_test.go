package callstest_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// The fake keeps the contract the real stores keep, so that tests of
// several nodes on it mean something.
func TestClusterContract(t *testing.T) {
	storetest.RunClusterContract(t, func(t *testing.T) storetest.ClusterStoreUnderTest { return callstest.NewStore() })
}
