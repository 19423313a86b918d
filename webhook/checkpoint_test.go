package webhook_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// ckptStore is the real store counting the deliveries its reads return
// and the checkpoints asked of it, with how many deliveries had been read
// when the first was asked.
type ckptStore struct {
	db       *db.DB
	read     atomic.Int64
	asked    atomic.Int64
	readThen atomic.Int64
}

var _ webhook.Checkpointer = (*ckptStore)(nil)

func (c *ckptStore) Queues(ctx context.Context, kinds []string) ([]string, error) {
	return c.db.Queues(ctx, kinds)
}

func (c *ckptStore) Pending(ctx context.Context, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	ds, err := c.db.Pending(ctx, q)
	c.read.Add(int64(len(ds)))
	return ds, err
}

func (c *ckptStore) Record(ctx context.Context, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	return c.db.Record(ctx, outcomes, policy)
}

func (c *ckptStore) Delivery(ctx context.Context, id string, roundLength time.Duration) (webhook.Delivery, error) {
	return c.db.Delivery(ctx, id, roundLength)
}

func (c *ckptStore) CheckpointSoon() {
	if c.asked.Add(1) == 1 {
		c.readThen.Store(c.read.Load())
	}
}

// A draining sender asks its store for a background checkpoint once, when
// it has read every delivery it will send (so that closing the store has
// only the last commits left to copy), and a long-running one never does.
// With several reads per queue the last one may find the queues already
// done (the drain then ends at once and has nothing to overlap): at most
// once, never before everything was read; with one read per queue,
// exactly once.
func TestDrainAsksForCheckpointOnceEverythingIsRead(t *testing.T) {
	d := mustOpenDB(t, nil)
	for range 2 {
		rv := newReceiver(t, time.Now)
		_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
		rv.setSecrets(secret)
	}
	store := &ckptStore{db: d}
	opts := webhook.Options{Timeout: 5 * time.Second, Guard: webhook.Guard{AllowPrivate: true}}
	const events = 20
	for round, prefetch := range []int{4, 0} { // 0: the default, 256
		for i := range events {
			dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"r%d-e%d"}`, round, i))
		}
		store.read.Store(0)
		store.asked.Store(0)
		store.readThen.Store(0)
		o := opts
		o.Prefetch = prefetch
		s := webhook.NewSender(store, o)
		go func() {
			for range s.Events() {
			}
		}()
		if err := s.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := s.Tally().Delivered; got != 2*events {
			t.Fatalf("prefetch %d: delivered %d, want %d", prefetch, got, 2*events)
		}
		n := store.asked.Load()
		if n > 1 || (prefetch == 0 && n != 1) {
			t.Fatalf("prefetch %d: CheckpointSoon called %d times, want once", prefetch, n)
		}
		if r := store.readThen.Load(); n == 1 && r < 2*events {
			t.Fatalf("prefetch %d: CheckpointSoon asked after %d of %d deliveries were read, want after all", prefetch, r, 2*events)
		}
	}

	// A long-running sender does not ask.
	dbtest.SeedEvents(t, d, `{"email_id":"later"}`)
	store.asked.Store(0)
	run := webhook.NewSender(store, opts)
	go func() {
		for range run.Events() {
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run.Run(ctx) }()
	waitFor(t, "the later event delivered", func() bool { return run.Tally().Delivered == 2 }, nil)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := store.asked.Load(); n != 0 {
		t.Fatalf("a long-running sender asked for %d checkpoints", n)
	}
}
