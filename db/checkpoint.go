package db

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// checkpointEvery is how many bytes of new messages (raw mail as stored,
// and rowBytes each) the writer commits between two requests for a
// background checkpoint: about one sync batch, which writes several times
// its size into the WAL (the index pages its inserts touch), so the WAL is
// copied back long before it reaches the writer's own threshold
// (wal_autocheckpoint) and the writer never stops to do it.
const checkpointEvery = 1 << 20

// checkpointer copies the WAL's committed pages back into the database
// file on a connection of the read pool, while the one writer goes on
// appending to the WAL: in a bulk sync the checkpoint was a tenth of the
// writer's time, and the writer sets the pace. A PASSIVE checkpoint never
// waits for the writer or a reader; what it could not copy, the next one
// (or the writer's wal_autocheckpoint) does. Once a checkpoint has copied
// every frame, the writer's next transaction starts the WAL file over,
// so it stays small.
type checkpointer struct {
	r       *sql.DB
	pending atomic.Int64 // bytes committed since the last request
	req     chan struct{}
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// startCheckpointer starts the background checkpoints of the file whose
// read pool is r; stop it with close.
func startCheckpointer(r *sql.DB) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{r: r, req: make(chan struct{}, 1), stop: stop}
	c.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.req:
				// A failure (the file busy, being closed) costs nothing
				// but the copy: the writer's own checkpoint still runs.
				_, _ = c.r.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	})
	return c
}

// committed records n bytes of rows committed by the writer and asks for a
// checkpoint once checkpointEvery have been since the last request; it
// never waits.
func (c *checkpointer) committed(n int) {
	if c == nil || c.pending.Add(int64(n)) < checkpointEvery {
		return
	}
	c.pending.Store(0)
	select {
	case c.req <- struct{}{}:
	default: // one is pending already
	}
}

// request asks for a checkpoint now, whatever was committed; it never
// waits.
func (c *checkpointer) request() {
	if c == nil {
		return
	}
	c.pending.Store(0)
	select {
	case c.req <- struct{}{}:
	default: // one is pending already
	}
}

// close stops the checkpoints and waits for one under way.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stop()
	c.wg.Wait()
}
