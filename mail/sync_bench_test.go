package mail_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/emersion/go-imap/v2"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
)

const syncBenchMessages = 5000

// syncBenchCorpus returns n raw messages: the SpamAssassin corpus when
// SMISTA_CORPUS points at it (real mail, real sizes), else generated ones.
func syncBenchCorpus(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var out [][]byte
	if dir := os.Getenv("SMISTA_CORPUS"); dir != "" {
		var files []string
		for _, g := range []string{"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"} {
			fs, _ := filepath.Glob(filepath.Join(dir, g, "*.txt"))
			sort.Strings(fs)
			files = append(files, fs...)
		}
		for _, f := range files {
			if len(out) == n {
				break
			}
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) < n {
		tb.Logf("SMISTA_CORPUS unset or short: using %d generated messages", n-len(out))
	}
	for i := len(out); i < n; i++ {
		out = append(out, syncTestMessage(100000+i))
	}
	return out
}

// BenchmarkSyncDovecot measures an initial sync of 5,000 messages from
// Dovecot on loopback into a file-backed store, and a no-change resync
// (connect, login, SELECT, compare, logout), next to mbsync (isync) with
// FSync no on the same mailbox as the imapPeer.
func BenchmarkSyncDovecot(b *testing.B) {
	p, dc := startDovecot(b)
	if err := dc.Deliver("INBOX", syncBenchCorpus(b, syncBenchMessages)...); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	openStore := func(b *testing.B) *db.DB {
		d := dbtest.MustOpen(b)
		return d
	}
	syncAll := func(b *testing.B, d *db.DB) mail.SyncResult {
		s := &mail.Syncer{Store: d, Account: mail.Account{Name: "bench", IMAP: p.cfg}, Parse: mail.Parse}
		rs, err := s.Sync(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return rs[0]
	}
	// Warm Dovecot's index (new/ → cur/, cache) so no contender pays it.
	if r := syncAll(b, openStore(b)); r.Fetched != syncBenchMessages {
		b.Fatalf("warm-up fetched %d, want %d", r.Fetched, syncBenchMessages)
	}

	b.Run("smista/initial", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			d := openStore(b)
			b.StartTimer()
			if r := syncAll(b, d); r.Fetched != syncBenchMessages {
				b.Fatalf("fetched %d", r.Fetched)
			}
		}
		b.ReportMetric(float64(syncBenchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("smista/no-change", func(b *testing.B) {
		d := openStore(b)
		syncAll(b, d)
		for b.Loop() {
			if r := syncAll(b, d); r.Fetched != 0 {
				b.Fatalf("no-change resync fetched %d", r.Fetched)
			}
		}
	})

	mbsync, err := exec.LookPath("mbsync")
	if err != nil {
		b.Logf("SKIPPING mbsync imapPeer: %v (apt-get install isync)", err)
		return
	}
	mbsyncRun := func(b *testing.B, dir string) {
		out, err := exec.Command(mbsync, "-c", filepath.Join(dir, "mbsyncrc"), "-q", "bench").CombinedOutput()
		if err != nil {
			b.Fatalf("mbsync: %v: %s", err, out)
		}
	}
	mbsyncSetup := func(b *testing.B) string {
		dir := b.TempDir()
		conf := fmt.Sprintf(`FSync no

IMAPAccount bench
Host %s
Port %d
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path %[5]s/mail/
Inbox %[5]s/mail/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
`, p.cfg.Host, p.cfg.Port, dc.Username, mailtest.DovecotPassword, dir)
		if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "mbsyncrc"), []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	countMaildir := func(b *testing.B, dir string) int {
		n := 0
		for _, sub := range []string{"cur", "new"} {
			es, _ := os.ReadDir(filepath.Join(dir, "mail", "INBOX", sub))
			n += len(es)
		}
		return n
	}
	b.Run("mbsync/initial", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := mbsyncSetup(b)
			b.StartTimer()
			mbsyncRun(b, dir)
			b.StopTimer()
			if n := countMaildir(b, dir); n != syncBenchMessages {
				b.Fatalf("mbsync stored %d, want %d", n, syncBenchMessages)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(syncBenchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("mbsync/no-change", func(b *testing.B) {
		dir := mbsyncSetup(b)
		mbsyncRun(b, dir)
		for b.Loop() {
			mbsyncRun(b, dir)
		}
	})
}

// flagResyncMessages is the mailbox size of BenchmarkFlagResync.
const flagResyncMessages = 100_000

// BenchmarkFlagResync measures a resync of a 100,000-message mailbox on
// Dovecot (CONDSTORE) after the initial sync (outside the timer, stored
// as the TUI's sync stores it): with nothing changed ("no-change": SELECT,
// the stored UIDs compared, HIGHESTMODSEQ the same, no FETCH), and with
// 100 messages' \Seen toggled by another client before each resync
// ("100-changed": CHANGEDSINCE returns those 100, each mirrored into the
// store). The corpus repeated with rewritten Message-IDs
// (SMISTA_CORPUS); skipped without it or without Dovecot.
func BenchmarkFlagResync(b *testing.B) {
	dir := os.Getenv("SMISTA_CORPUS")
	if dir == "" {
		b.Skip("SKIPPING: BenchmarkFlagResync needs SMISTA_CORPUS")
	}
	corpus, err := mailtest.LoadCorpus(dir)
	if err != nil {
		b.Fatal(err)
	}
	p, dc := startDovecot(b)
	if err := dc.DeliverFunc("INBOX", flagResyncMessages, corpus.Message); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "smista.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	s := &mail.Syncer{Store: d, Account: mail.Account{Name: "bench", IMAP: p.cfg}, Parse: mail.ParseHeader}
	sync := func(b *testing.B) mail.SyncResult {
		rs, err := s.Sync(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return rs[0]
	}
	if r := sync(b); r.Fetched != flagResyncMessages {
		b.Fatalf("initial sync fetched %d, want %d", r.Fetched, flagResyncMessages)
	}
	b.Run("no-change", func(b *testing.B) {
		for b.Loop() {
			if r := sync(b); r.Fetched != 0 || r.FlagsFetched != 0 {
				b.Fatalf("a no-change resync fetched %d bodies, %d flag sets", r.Fetched, r.FlagsFetched)
			}
		}
	})
	other, err := mail.DialIMAP(ctx, p.cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { other.Close() })
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	b.Run("100-changed", func(b *testing.B) {
		on := true
		for b.Loop() {
			b.StopTimer()
			var set imap.UIDSet
			set.AddRange(1000, 1099)
			op := imap.StoreFlagsAdd
			if !on {
				op = imap.StoreFlagsDel
			}
			on = !on
			if err := other.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if r := sync(b); r.FlagChanges != 100 {
				b.Fatalf("the resync saw %d flag changes, want 100", r.FlagChanges)
			}
		}
	})
}
