package postgres

import (
	"bytes"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestClusterContract(t *testing.T) {
	t.Parallel()
	storetest.RunClusterContract(t, func(t *testing.T) storetest.ClusterStoreUnderTest { return openClosed(t) })
}

// Every node gets the same key, made once.
func TestClusterKeyIsShared(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	a, b := openURL(t, url, quiet), openURL(t, url, quiet)
	ka, err := a.ClusterKey(t.Context())
	if err != nil || len(ka) != clusterKeyLen {
		t.Fatalf("key: %d bytes, %v", len(ka), err)
	}
	kb, err := b.ClusterKey(t.Context())
	if err != nil || !bytes.Equal(ka, kb) {
		t.Fatalf("the second node's key differs (%v)", err)
	}
}
