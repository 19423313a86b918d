package webhook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory and
// unmounts it at cleanup; it skips the test when that is not possible
// (not root, or no mount permission in this container).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a tmpfs to fill the disk needs root (CI runs these tests as root)")
	}
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("skipped: cannot mount a %s tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the filesystem is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for range 1 << 16 { // bounded: 2 MB of 1-byte writes at most
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	return path
}

// TestDiskFullOnTmpfs is the fault of issue 12 on a real filesystem: the
// SQLite file lives on a 2 MB tmpfs that is then filled. The sender sends
// each delivery at most once, pauses while SQLite answers "disk full",
// and delivers everything once space returns.
func TestDiskFullOnTmpfs(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(dir, "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // before the unmount
	rv := newReceiver(t, nil)
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	const events = 10
	for i := range events {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
	}
	// An empty WAL: the sender's first commit needs new blocks. The last
	// connection to close checkpoints the WAL and removes it.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err = db.Open(ctx, filepath.Join(dir, "smista.db")); err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, dir)

	opts := webhook.Options{Guard: webhook.Guard{AllowPrivate: true}, Timeout: 2 * time.Second,
		StoreRetry: 10 * time.Millisecond, StoreRetryMax: 50 * time.Millisecond}
	runCtx, cancel := context.WithCancel(ctx)
	s := webhook.NewSender(d, opts)
	ns := collectNotices(s)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { stop() })

	waitFor(t, "the sender pausing on the full disk", s.Paused, nil)
	// The pause, then a few more refused writes.
	waitFor(t, "three refused writes", func() bool { return ns.count(storePaused) >= 3 }, nil)
	for id, n := range perID(rv) {
		if n > 1 {
			t.Fatalf("webhook-id %s sent %d times while the disk is full", id, n)
		}
	}
	if n := len(rv.requests()); n > events {
		t.Fatalf("%d requests for %d deliveries while the disk is full", n, events)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	delivered := func() int {
		return len(must(d.Deliveries(ctx, db.DeliveryFilter{Status: webhook.StatusDelivered})))
	}
	waitFor(t, "every delivery delivered once space returned", func() bool { return delivered() == events }, nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	ids := perID(rv)
	if len(ids) != events {
		t.Errorf("receiver saw %d webhook-ids, want %d", len(ids), events)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("webhook-id %s sent %d times, want once", id, n)
		}
	}
	if s.Paused() {
		t.Error("still paused after the store recorded again")
	}
}
