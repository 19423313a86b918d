package mail_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"smista/mail"
	"smista/mail/mailtest"
)

// uidsIn returns the UIDs in mailbox and the flags of each.
func uidsIn(t *testing.T, c *imapclient.Client, mailbox string) map[imap.UID][]imap.Flag {
	t.Helper()
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[imap.UID][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bufs {
		out[b.UID] = b.Flags
	}
	return out
}

// TestRemoteMove: an archive is a MOVE where the server has it, else COPY,
// \Deleted and UID EXPUNGE of that one UID, and without UIDPLUS the
// original is only marked \Deleted (ErrLeftDeleted): never a plain
// EXPUNGE, which would remove a message another client marked \Deleted.
// The destination UID is reported, and a move back by Message-ID finds it.
func TestRemoteMove(t *testing.T) {
	tests := map[string]struct {
		caps       imap.CapSet
		leftBehind bool // the original stays, \Deleted
	}{
		"MOVE":                {caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}},
		"COPY + UID EXPUNGE":  {caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}},
		"COPY, no UIDPLUS":    {caps: imap.CapSet{imap.CapIMAP4rev1: {}}, leftBehind: true},
		"IMAP4rev2 (MOVE in)": {caps: imap.CapSet{imap.CapIMAP4rev2: {}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv, err := mailtest.StartIMAPCaps(tc.caps, "u", "pw", "Archive")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			for _, raw := range []string{
				"Message-ID: <keep@x>\r\nSubject: another client's deleted mail\r\n\r\nkeep\r\n",
				"Message-ID: <done@x>\r\nSubject: done\r\n\r\ndone\r\n",
			} {
				if err := srv.Append("INBOX", []byte(raw)); err != nil {
					t.Fatal(err)
				}
			}
			other, err := mail.DialIMAP(ctx, srv.Config(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if _, err := other.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			// Another client marks UID 1 \Deleted without expunging it.
			if err := other.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
				Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				t.Fatal(err)
			}

			r := &mail.Remote{Account: mail.Account{Name: "u", IMAP: srv.Config()}}
			defer r.Close()
			mv, err := r.Move(ctx, "INBOX", 2, "<done@x>", "Archive")
			switch {
			case tc.leftBehind && !errors.Is(err, mail.ErrLeftDeleted):
				t.Fatalf("move without MOVE and UIDPLUS: %v, want ErrLeftDeleted", err)
			case !tc.leftBehind && err != nil:
				t.Fatal(err)
			}
			inbox := uidsIn(t, other, "INBOX")
			if _, ok := inbox[1]; !ok {
				t.Error("another client's \\Deleted message was expunged")
			}
			flags, still := inbox[2]
			if still != tc.leftBehind {
				t.Errorf("the original in INBOX: %v, want %v", still, tc.leftBehind)
			}
			if still && !slices.Contains(flags, imap.FlagDeleted) {
				t.Errorf("the original left behind has %v, want \\Deleted", flags)
			}
			archive := uidsIn(t, other, "Archive")
			if len(archive) != 1 {
				t.Fatalf("Archive holds %d messages, want 1", len(archive))
			}
			if _, ok := archive[imap.UID(mv.UID)]; !ok || mv.UIDValidity == 0 {
				t.Errorf("reported destination %+v, Archive holds %v", mv, archive)
			}
			if tc.leftBehind {
				return
			}
			// Back, by Message-ID (as an undo does when the UID is unknown).
			if _, err := r.Move(ctx, "Archive", 0, "<done@x>", "INBOX"); err != nil {
				t.Fatal(err)
			}
			if n := len(uidsIn(t, other, "Archive")); n != 0 {
				t.Errorf("Archive holds %d messages after the move back", n)
			}
			if n := len(uidsIn(t, other, "INBOX")); n != 2 {
				t.Errorf("INBOX holds %d messages after the move back, want 2", n)
			}
		})
	}
}

// TestRemoteSetFlag sets and clears \Seen and \Flagged.
func TestRemoteSetFlag(t *testing.T) {
	ctx := context.Background()
	srv, err := mailtest.StartIMAP("u", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Append("INBOX", []byte("Message-ID: <a@x>\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	r := &mail.Remote{Account: mail.Account{Name: "u", IMAP: srv.Config()}}
	defer r.Close()
	other, err := mail.DialIMAP(ctx, srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, step := range []struct {
		flag string
		on   bool
		want []imap.Flag
	}{
		{mail.FlagSeen, true, []imap.Flag{imap.FlagSeen}},
		{mail.FlagFlagged, true, []imap.Flag{imap.FlagSeen, imap.FlagFlagged}},
		{mail.FlagSeen, false, []imap.Flag{imap.FlagFlagged}},
	} {
		if err := r.SetFlag(ctx, "INBOX", 1, step.flag, step.on); err != nil {
			t.Fatal(err)
		}
		got := uidsIn(t, other, "INBOX")[1]
		slices.Sort(got)
		slices.Sort(step.want)
		if !slices.Equal(got, step.want) {
			t.Errorf("after %s %v: %v, want %v", step.flag, step.on, got, step.want)
		}
	}
}
