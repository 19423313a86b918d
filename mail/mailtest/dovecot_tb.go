package mailtest

import (
	"context"
	"os"
	"testing"
	"time"
)

// DovecotForTest starts Dovecot for a test with one Maildir user and stops
// it at the test's end. Without the dovecot binary it skips the test,
// loudly (CI installs it: .ci/run).
func DovecotForTest(tb testing.TB, username string) *Dovecot {
	tb.Helper()
	if _, err := DovecotBinary(); err != nil {
		tb.Skipf("SKIPPING DOVECOT TEST: %v", err)
	}
	// Not tb.TempDir: as root Dovecot's mail user must traverse the path,
	// and TempDir's parent is 0700.
	dir, err := os.MkdirTemp("", "smista-dovecot-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := StartDovecot(ctx, dir, username)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}
