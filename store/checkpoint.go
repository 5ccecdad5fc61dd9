package store

import (
	"context"
	"time"
)

// SQLite copies its write-ahead log back into the database file (a
// checkpoint) when a commit finds the log past wal_autocheckpoint pages;
// that commit then also pays for the copy and the file's fsync. A cancel
// writes some fifty pages, so under 8 concurrent cancels the default
// 1,000-page log filled several times a second and one commit in a
// hundred took 40 to 90 ms while every other writer waited. A goroutine
// checkpoints in the background instead, PASSIVE: it neither waits for
// nor blocks writers or readers, copying what no reader still needs. The
// writer's own checkpoint stays as a backstop at a log long enough that
// the background one keeps it from being reached (walBackstopPages; the
// log file can grow to that size).
const (
	checkpointEvery  = 50 * time.Millisecond
	walBackstopPages = 32000 // 128 MiB of 4 KiB pages
)

// checkpoints runs the background checkpoints until stop is called.
func (db *DB) checkpoints() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A busy or interrupted checkpoint is tried again next tick.
			_, _ = db.read.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}()
	return func() { cancel(); <-done }
}
