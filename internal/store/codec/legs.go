package codec

import "sync"

// Legs remembers, for each leg of a live conversation, the calls row that
// its last write left, spec included: a store writes a leg's spec only the
// first time (Lookup reports it unknown), and its row only when it changed.
// A leg it does not know is written in full. What it remembers must never
// be ahead of the database: a store records rows (Wrote) once they are
// committed, or forgets everything (Reset) when rows it recorded may have
// been rolled back. Safe for concurrent use.
type Legs struct {
	mu   sync.Mutex
	rows map[string]LegRow // by call id
}

// Lookup reports whether the leg's spec was written (known), and whether r
// is the row last written for it (unchanged).
func (w *Legs) Lookup(r LegRow) (known, unchanged bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, ok := w.rows[r.ID]
	return ok, ok && old == r
}

// Wrote records rows just written, specs included. The legs of a
// conversation that is no longer live (live false) are forgotten instead:
// it is not written again.
func (w *Legs) Wrote(live bool, rows ...LegRow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rows == nil {
		w.rows = make(map[string]LegRow)
	}
	for _, r := range rows {
		if live {
			w.rows[r.ID] = r
		} else {
			delete(w.rows, r.ID)
		}
	}
}

// Forget forgets the legs with these call ids.
func (w *Legs) Forget(ids ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		delete(w.rows, id)
	}
}

// Reset forgets every leg.
func (w *Legs) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rows = nil
}

// Len is the number of legs remembered.
func (w *Legs) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.rows)
}
