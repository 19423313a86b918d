package mail_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
)

// imapPeer is an IMAP server a scenario runs against.
type imapPeer struct {
	cfg       mail.ServerConfig
	condstore bool
}

// startMemIMAP starts the in-process go-imap/v2 server with an INBOX and a
// "Support" mailbox.
func startMemIMAP(tb testing.TB) imapPeer {
	tb.Helper()
	s, err := mailtest.StartIMAP("agent@example.com", "pw-mem", "Support")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return imapPeer{cfg: s.Config()}
}

// startDovecot starts Dovecot, skipping loudly when it is not installed.
func startDovecot(tb testing.TB) (imapPeer, *mailtest.Dovecot) {
	tb.Helper()
	if _, err := mailtest.DovecotBinary(); err != nil {
		tb.Skipf("SKIPPING DOVECOT TEST: %v", err)
	}
	// Not t.TempDir: as root Dovecot's mail user must traverse the path,
	// and TempDir's parent is 0700.
	dir, err := os.MkdirTemp("", "smista-dovecot-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := mailtest.StartDovecot(ctx, dir, "agent")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	p := imapPeer{cfg: d.Config(), condstore: true}
	c := adminClient(tb, p)
	if err := c.Create("Support", nil).Wait(); err != nil {
		tb.Fatalf("create Support: %v", err)
	}
	return p, d
}

func adminClient(tb testing.TB, p imapPeer) *imapclient.Client {
	tb.Helper()
	c, err := mail.DialIMAP(context.Background(), p.cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func syncTestMessage(i int) []byte {
	return []byte(fmt.Sprintf("From: Customer %d <c%d@example.org>\r\nTo: agent@example.com\r\n"+
		"Subject: Ticket number %d\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <m%d@example.org>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, this is message %d. %s\r\n",
		i, i, i, i, i, strings.Repeat("padding ", 20)))
}

func imapAppendN(tb testing.TB, c *imapclient.Client, mailbox string, from, to int) {
	tb.Helper()
	for i := from; i < to; i++ {
		raw := syncTestMessage(i)
		cmd := c.Append(mailbox, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			tb.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			tb.Fatalf("append: %v", err)
		}
	}
}

func newSyncer(d *db.DB, p imapPeer, mailboxes ...string) *mail.Syncer {
	return &mail.Syncer{
		Store:     d,
		Account:   mail.Account{Name: "work", IMAP: p.cfg, Mailboxes: mailboxes},
		Parse:     mail.Parse,
		BatchSize: 4,
	}
}

func syncOne(tb testing.TB, s *mail.Syncer) mail.SyncResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := s.Sync(ctx)
	if err != nil {
		tb.Fatalf("sync: %v", err)
	}
	if len(rs) != 1 {
		tb.Fatalf("got %d results, want 1", len(rs))
	}
	return rs[0]
}

// syncLocationsWhere counts the stored server locations for which keep
// holds, and the messages seen, read through the store's public queries.
func syncLocationsWhere(tb testing.TB, d *db.DB, keep func(db.MessageLocation) bool) (locations, seen int) {
	tb.Helper()
	ctx := context.Background()
	msgs, err := d.ListMessages(ctx, 1<<20, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range msgs {
		if m.Seen {
			seen++
		}
		ls, err := d.MessageLocations(ctx, m.ID)
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range ls {
			if keep(l) {
				locations++
			}
		}
	}
	return locations, seen
}

func syncLocations(tb testing.TB, d *db.DB, mailbox string) int {
	tb.Helper()
	n, _ := syncLocationsWhere(tb, d, func(l db.MessageLocation) bool { return l.Mailbox == mailbox })
	return n
}

// syncScenarios run against every imapPeer.
var syncScenarios = map[string]func(t *testing.T, p imapPeer){
	"initial sync never marks read": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		imapAppendN(t, c, "INBOX", 0, 10)
		var progress []mail.Progress
		s := newSyncer(d, p)
		s.Progress = func(pr mail.Progress) { progress = append(progress, pr) }
		r := syncOne(t, s)
		if len(r.New) != 10 || r.Fetched != 10 {
			t.Fatalf("new %d fetched %d, want 10", len(r.New), r.Fetched)
		}
		if n := dbtest.Count(t, d, "messages"); n != 10 {
			t.Fatalf("messages = %d, want 10", n)
		}
		m, err := d.Message(context.Background(), mail.EmailID("<m3@example.org>"))
		if err != nil || m.Subject != "Ticket number 3" {
			t.Fatalf("message 3: %v %+v", err, m)
		}
		if last := progress[len(progress)-1]; last.Done != 10 || last.Total != 10 {
			t.Fatalf("last progress %+v, want 10 of 10", last)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(data.AllUIDs()); n != 0 {
			t.Fatalf("%d messages became \\Seen: sync must use BODY.PEEK", n)
		}
	},
	"incremental sync fetches only new mail": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		imapAppendN(t, c, "INBOX", 0, 5)
		s := newSyncer(d, p)
		syncOne(t, s)
		imapAppendN(t, c, "INBOX", 5, 8)
		r := syncOne(t, s)
		if r.Fetched != 3 || len(r.New) != 3 {
			t.Fatalf("fetched %d new %d, want 3", r.Fetched, len(r.New))
		}
		r = syncOne(t, s)
		if r.Fetched != 0 || len(r.New) != 0 || r.Removed != 0 || r.FlagChanges != 0 {
			t.Fatalf("no-change resync did work: %+v", r)
		}
		if n := syncLocations(t, d, "INBOX"); n != 8 {
			t.Fatalf("locations = %d, want 8", n)
		}
	},
	"UIDVALIDITY change resyncs without duplicates": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		imapAppendN(t, c, "Support", 0, 3)
		s := newSyncer(d, p, "Support")
		syncOne(t, s)
		if err := c.Delete("Support").Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Create("Support", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		imapAppendN(t, c, "Support", 0, 4) // the same three, plus one
		r := syncOne(t, s)
		if !r.Reset {
			t.Fatal("UIDVALIDITY change not detected")
		}
		if len(r.New) != 1 || r.Fetched != 4 {
			t.Fatalf("new %d fetched %d, want 1 and 4", len(r.New), r.Fetched)
		}
		if n := dbtest.Count(t, d, "messages"); n != 4 {
			t.Fatalf("messages = %d, want 4 (no duplicates)", n)
		}
		if n := syncLocations(t, d, "Support"); n != 4 {
			t.Fatalf("locations = %d, want 4", n)
		}
	},
	"expunged message loses its location, keeps its row": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		imapAppendN(t, c, "INBOX", 0, 4)
		s := newSyncer(d, p)
		syncOne(t, s)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<m2@example.org>"}}}, nil).Wait()
		if err != nil || len(data.AllUIDs()) != 1 {
			t.Fatalf("search m2: %v %v", err, data)
		}
		uid := data.AllUIDs()[0]
		if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatal(err)
		}
		r := syncOne(t, s)
		if r.Removed != 1 {
			t.Fatalf("removed %d, want 1", r.Removed)
		}
		if n := syncLocations(t, d, "INBOX"); n != 3 {
			t.Fatalf("locations = %d, want 3", n)
		}
		locs, err := d.MessageLocations(context.Background(), mail.EmailID("<m2@example.org>"))
		if err != nil || len(locs) != 0 {
			t.Fatalf("m2 locations %v %v, want none", locs, err)
		}
		if _, err := d.Message(context.Background(), mail.EmailID("<m2@example.org>")); err != nil {
			t.Fatalf("expunged message row gone: %v", err)
		}
	},
	"flag change on the server reaches the store": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		imapAppendN(t, c, "INBOX", 0, 5)
		s := newSyncer(d, p)
		syncOne(t, s)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen, imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		r := syncOne(t, s)
		if r.FlagChanges != 1 {
			t.Fatalf("%d flag changes, want exactly 1", r.FlagChanges)
		}
		if wantFetched := map[bool]int{true: 1, false: 5}[p.condstore]; r.FlagsFetched != wantFetched {
			t.Fatalf("server sent %d flag sets, want %d (CONDSTORE CHANGEDSINCE: %v)", r.FlagsFetched, wantFetched, p.condstore)
		}
		flagged, seen := syncLocationsWhere(t, d, func(l db.MessageLocation) bool { return slices.Contains(l.Flags, `\Flagged`) })
		if flagged != 1 {
			t.Fatalf("flagged locations = %d, want 1", flagged)
		}
		if seen != 1 {
			t.Fatalf("seen messages = %d, want 1", seen)
		}
		if p.condstore {
			if r := syncOne(t, s); r.FlagChanges != 0 || r.FlagsFetched != 0 {
				t.Fatalf("CONDSTORE no-change resync: %d flag changes, %d fetched, want 0", r.FlagChanges, r.FlagsFetched)
			}
		}
	},
	"dropped connection during fetch resumes without loss or duplicates": func(t *testing.T, p imapPeer) {
		d := dbtest.MustOpen(t)
		c := adminClient(t, p)
		const total = 30
		imapAppendN(t, c, "INBOX", 0, total)
		px, err := mailtest.StartProxy(p.cfg.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { px.Close() })
		viaProxy := p
		viaProxy.cfg.Host, viaProxy.cfg.Port = splitHostPort(t, px.Addr)
		px.CutAfter(8000) // past login and a few batches, well before the end
		s := newSyncer(d, viaProxy)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.Sync(ctx); err == nil {
			t.Fatal("sync through a cut connection succeeded")
		}
		got := dbtest.Count(t, d, "messages")
		if got == 0 || got >= total {
			t.Fatalf("after the cut %d messages stored, want some but not all", got)
		}
		px.CutAfter(0)
		r := syncOne(t, s)
		if r.Fetched != total-got {
			t.Fatalf("resume fetched %d, want %d", r.Fetched, total-got)
		}
		if n := dbtest.Count(t, d, "messages"); n != total {
			t.Fatalf("messages = %d, want %d", n, total)
		}
		if n := syncLocations(t, d, "INBOX"); n != total {
			t.Fatalf("locations = %d, want %d", n, total)
		}
	},
	"wrong password is a clear error": func(t *testing.T, p imapPeer) {
		bad := p.cfg
		bad.Getenv = func(string) string { return "not-the-password-xyz" }
		_, err := mail.DialIMAP(context.Background(), bad, nil)
		if !errors.Is(err, mail.ErrAuthFailed) {
			t.Fatalf("err = %v, want ErrAuthFailed", err)
		}
		if strings.Contains(err.Error(), "not-the-password-xyz") {
			t.Fatalf("password leaked into error: %v", err)
		}
	},
	"failing password_cmd is a clear error without the secret": func(t *testing.T, p imapPeer) {
		bad := p.cfg
		bad.Password = mail.Secret{Cmd: "printf 'hunter2-partial'; echo 'gpg: decryption failed' >&2; exit 3"}
		d := dbtest.MustOpen(t)
		s := newSyncer(d, imapPeer{cfg: bad})
		_, err := s.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "password_cmd failed: exit status 3") {
			t.Fatalf("err = %v, want password_cmd failed: exit status 3", err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("secret leaked into error: %v", err)
		}
	},
}

func splitHostPort(tb testing.TB, addr string) (string, int) {
	tb.Helper()
	var port int
	host, p, _ := strings.Cut(addr, ":")
	if _, err := fmt.Sscan(p, &port); err != nil {
		tb.Fatal(err)
	}
	return host, port
}

func TestSyncInProcess(t *testing.T) {
	for name, run := range syncScenarios {
		t.Run(name, func(t *testing.T) { run(t, startMemIMAP(t)) })
	}
}

func TestSyncDovecot(t *testing.T) {
	for name, run := range syncScenarios {
		t.Run(name, func(t *testing.T) {
			p, _ := startDovecot(t)
			run(t, p)
		})
	}
}
