package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// benchParallelism times GOMAXPROCS is the number of concurrent committers,
// standing in for concurrent API requests: group commit needs several.
const benchParallelism = 64

// openBench opens a fresh database in $SWITCHBOARD_BENCH_DIR, to measure a
// particular disk, or else in a temporary directory.
func openBench(b *testing.B) *Store {
	b.Helper()
	dir := b.TempDir()
	if d := os.Getenv("SWITCHBOARD_BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "bench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	s, err := Open(b.Context(), dir+"/bench.db", quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// report adds throughput and the mean number of writes per transaction.
func report(b *testing.B, s *Store, unit string, batches0, batched0 int64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	if n := s.batches.Load() - batches0; n > 0 {
		b.ReportMetric(float64(s.batched.Load()-batched0)/float64(n), "writes/txn")
	}
}

// BenchmarkCommit measures durable creates: each operation is one Commit of
// a new conversation with its first notification, as POST /calls makes.
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
	report(b, s, "commits/s", batches0, batched0)
}

// BenchmarkCallLifecycle measures whole calls: each operation is a create,
// three more Commits (establishing, established, terminated) with a
// notification each, and the four deliveries acknowledged.
func BenchmarkCallLifecycle(b *testing.B) {
	s := openBench(b)
	var next atomic.Int64
	ctx := context.Background()
	now := time.Now().UTC()
	states := []calls.State{calls.StateEstablishing, calls.StateEstablishing, calls.StateEstablished, calls.StateTerminated}
	batches0, batched0 := s.batches.Load(), s.batched.Load()
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("conv-%d", next.Add(1))
			callID := id + "-call"
			c := storetest.Conversation(id, now)
			for i, state := range states {
				seq := int64(i + 1)
				c.Legs[0].State = state
				c.Legs[0].NotifySeq = seq
				if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, seq, now)}); err != nil {
					b.Error(err)
					return
				}
			}
			for seq := int64(1); seq <= int64(len(states)); seq++ {
				if err := s.Delivered(ctx, callID, seq, now, 1); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	report(b, s, "calls/s", batches0, batched0)
}

// BenchmarkCreateFlow measures the store's share of POST /calls as the
// server does it with a callee that answers at once: each operation is a
// new conversation (with ids as the server makes them) committed with
// its establishing and established notifications, and the two deliveries
// acknowledged with one Record.
func BenchmarkCreateFlow(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	now := time.Now().UTC()
	batches0, batched0 := s.batches.Load(), s.batched.Load()
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := storetest.Conversation(randomID(), now)
			callID := c.Legs[0].ID
			if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, 1, now), storetest.Entry(callID, 2, now)}); err != nil {
				b.Error(err)
				return
			}
			acks := []notify.Result{
				{CallID: callID, Seq: 1, Attempts: 1, Delivered: true, At: now},
				{CallID: callID, Seq: 2, Attempts: 1, Delivered: true, At: now},
			}
			if err := s.Record(ctx, acks); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report(b, s, "calls/s", batches0, batched0)
}

// randomID returns an id as the server makes them: a version 7 UUID, the
// millisecond first, then random bits.
func randomID() string {
	var b [16]byte
	rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
