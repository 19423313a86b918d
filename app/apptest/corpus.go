// Package apptest builds stores of real mail for the scale tests and
// benchmarks: the SpamAssassin corpus, repeated with rewritten Message-IDs
// (mailtest.Corpus) to any size, stored as a sync stores it and triaged by
// the offline classifier through the App.
package apptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sync/errgroup"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
)

// BuildStore stores messages 0 … n-1 of c in the store at path (created),
// parsed as a sync parses them, in batches of 1,000; with triage set, it
// then triages them all with the offline classifier.
func BuildStore(ctx context.Context, path string, c *mailtest.Corpus, n int, triage bool) error {
	d, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		msgs := make([]*mail.Message, min(batch, n-lo))
		g, _ := errgroup.WithContext(ctx)
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i := range msgs {
			g.Go(func() error {
				m, err := mail.ParseHeader(c.Message(lo + i))
				if err != nil {
					return fmt.Errorf("corpus message %d: %w", lo+i, err)
				}
				msgs[i] = m
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if _, err := d.SaveMessages(ctx, "imap:bench/INBOX", msgs); err != nil {
			return err
		}
	}
	if !triage {
		return nil
	}
	a, err := app.New(app.Options{Store: d})
	if err != nil {
		return err
	}
	if _, err := a.Triage(ctx, app.TriageRequest{}); err != nil {
		return err
	}
	for {
		n, err := d.IndexSearch(ctx, 5000)
		if n == 0 || err != nil {
			return err
		}
	}
}

// CorpusStore returns a store of n corpus messages, triaged, for tb: a
// private copy (in tb's temp dir) of a cache file built on first use under
// $SMISTA_CACHE/bench (default ~/.cache/smista/bench), which is reused
// while the schema is the same (db.SchemaID). Its search index is up to
// date, as the TUI keeps it. It skips tb loudly without the
// corpus (SMISTA_CORPUS).
func CorpusStore(tb testing.TB, n int) *db.DB {
	tb.Helper()
	ctx := context.Background()
	dir := os.Getenv("SMISTA_CORPUS")
	if dir == "" {
		tb.Skip("SMISTA_CORPUS not set: the real-mail store was NOT built (.ci/run fetches the corpus)")
	}
	c, err := mailtest.LoadCorpus(dir)
	if errors.Is(err, mailtest.ErrNoCorpus) {
		tb.Skipf("SMISTA_CORPUS=%s holds no corpus: the real-mail store was NOT built", dir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	cache, err := cacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	cached := filepath.Join(cache, fmt.Sprintf("corpus-%d-%s.db", n, db.SchemaID()))
	if _, err := os.Stat(cached); err != nil {
		tb.Logf("building the %d-message corpus store %s (once)", n, cached)
		tmp := cached + ".tmp"
		os.Remove(tmp)
		if err := BuildStore(ctx, tmp, c, n, true); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, cached); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "store.db")
	if err := copyFile(path, cached); err != nil {
		tb.Fatal(err)
	}
	d, err := db.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func cacheDir() (string, error) {
	base := os.Getenv("SMISTA_CACHE")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache", "smista")
	}
	dir := filepath.Join(base, "bench")
	return dir, os.MkdirAll(dir, 0o700)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
