package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
)

// stateServer is a server a state scenario runs against, and a second
// client on it (another person's mail program).
type stateServer struct {
	cfg       mail.ServerConfig
	condstore bool
}

func startStateServers(t *testing.T, name string) stateServer {
	t.Helper()
	if name == "dovecot" {
		dv := mailtest.DovecotForTest(t, "support")
		if err := dv.Deliver("INBOX", supportRequest(1), supportRequest(2)); err != nil {
			t.Fatal(err)
		}
		return stateServer{cfg: dv.Config(), condstore: true}
	}
	srv, err := mailtest.StartIMAP("support", "pw", "Archive")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for i := 1; i <= 2; i++ {
		if err := srv.Append("INBOX", supportRequest(i)); err != nil {
			t.Fatal(err)
		}
	}
	return stateServer{cfg: srv.Config()}
}

// otherClient is another mail program on the same mailbox.
func otherClient(t *testing.T, cfg mail.ServerConfig) *imapclient.Client {
	t.Helper()
	c, err := mail.DialIMAP(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serverFlags returns the flags of the message with messageID in mailbox,
// and whether it is there.
func serverFlags(t *testing.T, c *imapclient.Client, mailbox, messageID string) ([]imap.Flag, imap.UID, bool) {
	t.Helper()
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-Id", Value: messageID}}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	uids := data.AllUIDs()
	if len(uids) == 0 {
		return nil, 0, false
	}
	bufs, err := c.Fetch(imap.UIDSetNum(uids[0]), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(bufs) == 0 {
		t.Fatalf("fetch flags: %v", err)
	}
	return bufs[0].Flags, uids[0], true
}

// TestStateSharedWithServer: read, star and done made in smista reach
// the server (another client sees \Seen, \Flagged, the message moved to
// Archive), those made in another client reach smista with the next sync
// (CONDSTORE CHANGEDSINCE on Dovecot, every flag on the in-process
// server), and undo reverses each, on the server too.
func TestStateSharedWithServer(t *testing.T) {
	for _, name := range []string{"in-process", "dovecot"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := startStateServers(t, name)
			d, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := app.New(app.Options{Store: d, Classifier: &fixedClassifier{conf: 0.5},
				Accounts: []mail.Account{{Name: "support", IMAP: srv.cfg}}, NoClaims: true})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			sync := func() app.SyncReport {
				t.Helper()
				r, err := a.Sync(ctx, app.SyncOptions{NoTriage: true})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			sync()
			id1, mid1 := mail.EmailID("<req1@client.example>"), "<req1@client.example>"
			id2, mid2 := mail.EmailID("<req2@client.example>"), "<req2@client.example>"
			other := otherClient(t, srv.cfg)
			state := func(id string) db.MessageState {
				t.Helper()
				st, err := d.StateOf(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}

			// smista → server.
			if err := a.MarkSeen(ctx, id1); err != nil {
				t.Fatal(err)
			}
			if err := a.SetFlagged(ctx, id1, true); err != nil {
				t.Fatal(err)
			}
			flags, _, _ := serverFlags(t, other, "INBOX", mid1)
			if !slices.Contains(flags, imap.FlagSeen) || !slices.Contains(flags, imap.FlagFlagged) {
				t.Fatalf("the other client sees %v, want \\Seen and \\Flagged", flags)
			}
			if st := state(id1); !st.Seen || !st.Flagged {
				t.Errorf("smista's state %+v, want seen and flagged", st)
			}

			// server → smista.
			_, uid2, _ := serverFlags(t, other, "INBOX", mid2)
			if err := other.Store(imap.UIDSetNum(uid2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
				Flags: []imap.Flag{imap.FlagSeen, imap.FlagFlagged}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
			r := sync()
			if st := state(id2); !st.Seen || !st.Flagged {
				t.Errorf("after another client set \\Seen \\Flagged and a sync, smista has %+v", st)
			}
			if srv.condstore {
				// CHANGEDSINCE: only what changed since the last sync
				// (message 2, and message 1 that smista itself changed).
				if got := r.Mailboxes[0].FlagsFetched; got > 2 {
					t.Errorf("a CONDSTORE sync fetched %d flag sets, want at most 2", got)
				}
			}
			if err := other.Store(imap.UIDSetNum(uid2), &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true,
				Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
			sync()
			if st := state(id2); st.Seen || !st.Flagged {
				t.Errorf("after another client cleared \\Seen and a sync, smista has %+v", st)
			}

			// Done: moved into Archive on the server.
			if err := a.Done(ctx, id1); err != nil {
				t.Fatal(err)
			}
			if _, _, in := serverFlags(t, other, "INBOX", mid1); in {
				t.Error("a done email is still in INBOX on the server")
			}
			if flags, _, in := serverFlags(t, other, "Archive", mid1); !in || !slices.Contains(flags, imap.FlagFlagged) {
				t.Errorf("a done email is not in Archive with its flags (there: %v, flags %v)", in, flags)
			}
			if st := state(id1); !st.Done {
				t.Error("a done email is not done in the store")
			}
			rows, err := d.Inbox(ctx, db.InboxFilter{}, db.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].ID != id2 {
				t.Errorf("the unified inbox shows %d rows, want only the email not done", len(rows))
			}
			sync() // nothing reappears: the INBOX location is gone
			if st := state(id1); !st.Done {
				t.Error("a sync after done brought the email back")
			}

			// Undo: back in INBOX.
			kind, id, err := a.Undo(ctx)
			if err != nil || kind != app.ActDone || id != id1 {
				t.Fatalf("undo = %q %q %v, want done of the first email", kind, id, err)
			}
			if _, _, in := serverFlags(t, other, "INBOX", mid1); !in {
				t.Error("undo of done did not move the email back to INBOX")
			}
			if _, _, in := serverFlags(t, other, "Archive", mid1); in {
				t.Error("undo of done left the email in Archive")
			}
			if st := state(id1); st.Done {
				t.Error("undo of done left it done in the store")
			}
			if _, _, err := a.Undo(ctx); !errors.Is(err, app.ErrNothingToUndo) {
				t.Errorf("a second undo: %v, want ErrNothingToUndo", err)
			}

			// Undo of a read mark: unread again, on the server too.
			if err := a.SetSeen(ctx, id2, true); err != nil {
				t.Fatal(err)
			}
			if _, _, err := a.Undo(ctx); err != nil {
				t.Fatal(err)
			}
			if flags, _, _ := serverFlags(t, other, "INBOX", mid2); slices.Contains(flags, imap.FlagSeen) {
				t.Error("undo of read left \\Seen on the server")
			}
			if st := state(id2); st.Seen {
				t.Error("undo of read left it read in the store")
			}
			sync()
			if st := state(id2); st.Seen || !st.Flagged {
				t.Errorf("a sync after the undo changed smista's state: %+v", st)
			}
		})
	}
}

// TestStateLocalMail: an imported email (no server) is read, starred and
// done in the store alone, and undone.
func TestStateLocalMail(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: &fixedClassifier{conf: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m, err := mail.Parse(supportRequest(7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "file:x.eml", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetFlagged(ctx, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := a.Done(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	st, _ := d.StateOf(ctx, m.ID)
	if !st.Flagged || !st.Done {
		t.Errorf("state %+v, want flagged and done", st)
	}
	if _, _, err := a.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.StateOf(ctx, m.ID); st.Done || !st.Flagged {
		t.Errorf("after undo: %+v, want flagged, not done", st)
	}
	if err := a.SetSeen(ctx, "nope", true); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("an unknown email: %v, want ErrNotFound", err)
	}
}

// TestStateServerDown: with the server gone, read, star and done still
// change the store, each says why the server did not follow (a notice),
// and nothing fails.
func TestStateServerDown(t *testing.T) {
	ctx := context.Background()
	srv, err := mailtest.StartIMAP("support", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Append("INBOX", supportRequest(1)); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: &fixedClassifier{conf: 0.5},
		Accounts: []mail.Account{{Name: "support", IMAP: srv.Config()}}, NoClaims: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Sync(ctx, app.SyncOptions{NoTriage: true}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	sub := a.Bus().Subscribe()
	id := mail.EmailID("<req1@client.example>")
	if err := a.MarkSeen(ctx, id); err != nil {
		t.Errorf("read with the server down: %v", err)
	}
	if err := a.SetFlagged(ctx, id, true); err != nil {
		t.Errorf("star with the server down: %v", err)
	}
	if err := a.Done(ctx, id); err != nil {
		t.Errorf("done with the server down: %v", err)
	}
	sub.Finish()
	notices := 0
	for e := range sub.C() {
		if n, ok := e.(app.Notice); ok && n.Error && strings.Contains(n.Text, "support:") {
			notices++
		}
	}
	if notices != 3 {
		t.Errorf("%d error notices, want one per action", notices)
	}
	st, _ := d.StateOf(ctx, id)
	if !st.Seen || !st.Flagged || !st.Done {
		t.Errorf("the store's state %+v, want read, starred and done", st)
	}
	if locs, _ := d.MessageLocations(ctx, id); len(locs) != 1 || locs[0].Mailbox != "INBOX" {
		t.Errorf("a move that failed changed the locations: %+v", locs)
	}
}
