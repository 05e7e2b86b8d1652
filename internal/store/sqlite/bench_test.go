package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// benchParallelism times GOMAXPROCS is the number of concurrent committers,
// standing in for concurrent API requests; group commit needs several.
var benchParallelism = envInt("BENCH_PAR", 64)

func openBench(b *testing.B) *Store {
	b.Helper()
	dir := os.Getenv("BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir, _ = os.MkdirTemp(dir, "bench")
	}
	s, err := Open(b.Context(), dir+"/bench.db", quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func reportBatching(b *testing.B, s *Store, batches0, batched0 int64) {
	if n := s.batches.Load() - batches0; n > 0 {
		b.ReportMetric(float64(s.batched.Load()-batched0)/float64(n), "writes/batch")
	}
}

// BenchmarkCommit measures durable creates: each operation is one Commit of
// a new conversation with its first notification, as POST /calls does.
func BenchmarkCommit(b *testing.B) {
	s := openBench(b)
	var next atomic.Int64
	ctx := context.Background()
	now := time.Now().UTC()
	batches0, batched0 := s.batches.Load(), s.batched.Load()
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("conv-%d", next.Add(1))
			c := storetest.Conversation(id, now)
			if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(id+"-call", 1, now)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	reportBatching(b, s, batches0, batched0)
}

// BenchmarkCallLifecycle measures whole calls: each operation is a create,
// three more Commits (establishing, established, terminated), each with a
// notification, and the four deliveries acknowledged.
func BenchmarkCallLifecycle(b *testing.B) {
	s := openBench(b)
	var next atomic.Int64
	ctx := context.Background()
	now := time.Now().UTC()
	batches0, batched0 := s.batches.Load(), s.batched.Load()
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("conv-%d", next.Add(1))
			callID := id + "-call"
			c := storetest.Conversation(id, now)
			for seq, state := range []calls.State{calls.StateEstablishing, calls.StateEstablishing, calls.StateEstablished, calls.StateTerminated} {
				c.Legs[0].State = state
				c.Legs[0].NotifySeq = int64(seq + 1)
				if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, int64(seq+1), now)}); err != nil {
					b.Error(err)
					return
				}
			}
			for seq := int64(1); seq <= 4; seq++ {
				if err := s.Delivered(ctx, callID, seq, now, 1); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	reportBatching(b, s, batches0, batched0)
}

func envInt(k string, d int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(k), &v); err == nil {
		return v
	}
	return d
}
