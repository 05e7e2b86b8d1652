package notify

// Backlog returns the number of deliveries the Worker holds that are
// neither delivered nor given up: the depth of the outbox, replays not
// counted. It looks at every call the Worker knows, under the Worker's
// lock, so it is for a metrics scrape, not for a request path.
func (w *Worker) Backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, cq := range w.calls {
		n += len(cq.pending)
	}
	return n
}

// Replays returns the replays (Replay) queued or in flight, and the bytes of
// notification bodies they hold in memory: none with Config.Load, which
// reads each row back when its turn comes.
func (w *Worker) Replays() (count int, bodyBytes int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replayCount, w.replayBytes
}
