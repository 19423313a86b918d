package db

import (
	"context"
	"path/filepath"
	"testing"

	"smista/mail"
)

// TestMigrateSharedState upgrades a version-10 store: its messages keep
// their read state, gain flagged and done (both off), stay in the unified
// inbox, and a thread's size is counted.
func TestMigrateSharedState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	old := oldStore(t, path, 9) // 0001-0008 and 0010 (there is no 0009): version 10
	for i, id := range []string{"a", "b"} {
		if _, err := old.Exec(`INSERT INTO messages (seq, id, message_id, thread_id, subject, date, received_at, size, seen)
			VALUES (?, ?, ?, 'thr', 'hello', ?, 1, 10, ?)`, i+1, id, "<"+id+"@x>", 1000+i, i); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(`INSERT INTO message_data (seq, raw) VALUES (?, 'Subject: hello')`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, id := range []string{"a", "b"} {
		st, err := d.StateOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Seen != (i == 1) || st.Flagged || st.Done {
			t.Errorf("%s after the migration: %+v", id, st)
		}
	}
	rows, err := d.Inbox(ctx, InboxFilter{}, Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ThreadSize != 2 {
		t.Errorf("inbox after the migration: %+v", rows)
	}
}

// TestSyncMirrorsFlagged: a sync stores \Flagged as a star, on insert and
// when the server's flags change, as it does \Seen.
func TestSyncMirrorsFlagged(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.OpenMailbox(ctx, "work", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.Parse([]byte("Message-ID: <f@x>\r\nSubject: s\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/INBOX",
		Messages: []mail.SyncedMessage{{UID: 1, Flags: []string{mail.FlagFlagged}, Message: m}}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.StateOf(ctx, m.ID); !s.Flagged || s.Seen {
		t.Errorf("inserted with \\Flagged: %+v", s)
	}
	for _, step := range []struct {
		flags         []string
		seen, flagged bool
	}{
		{[]string{mail.FlagSeen}, true, false},
		{[]string{mail.FlagSeen, mail.FlagFlagged}, true, true},
		{nil, false, false},
	} {
		if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID,
			Flags: []mail.FlagUpdate{{UID: 1, Flags: step.flags, ModSeq: 2}}}); err != nil {
			t.Fatal(err)
		}
		if s, _ := d.StateOf(ctx, m.ID); s.Seen != step.seen || s.Flagged != step.flagged {
			t.Errorf("server flags %v: state %+v", step.flags, s)
		}
	}
}

// TestMoveLocation: a move drops the old location and records the new
// one only in a mailbox the store syncs under the same UIDVALIDITY.
func TestMoveLocation(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in, _ := d.OpenMailbox(ctx, "work", "INBOX")
	arch, _ := d.OpenMailbox(ctx, "work", "Archive")
	if err := d.ResetMailbox(ctx, arch.ID, 77); err != nil {
		t.Fatal(err)
	}
	m, _ := mail.Parse([]byte("Message-ID: <mv@x>\r\nSubject: s\r\n\r\nbody\r\n"))
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: in.ID, Source: "imap:work/INBOX",
		Messages: []mail.SyncedMessage{{UID: 5, Flags: []string{mail.FlagSeen}, Message: m}}}); err != nil {
		t.Fatal(err)
	}
	if err := d.MoveLocation(ctx, m.ID, "work", "INBOX", 5, "Archive", mail.Moved{UIDValidity: 77, UID: 9}, true); err != nil {
		t.Fatal(err)
	}
	locs, _ := d.MessageLocations(ctx, m.ID)
	if len(locs) != 1 || locs[0].Mailbox != "Archive" || locs[0].UID != 9 || len(locs[0].Flags) != 1 {
		t.Errorf("locations after the move: %+v", locs)
	}
	// Back into INBOX under another UIDVALIDITY: the next sync finds it.
	if err := d.MoveLocation(ctx, m.ID, "work", "Archive", 9, "INBOX", mail.Moved{UIDValidity: 12, UID: 6}, false); err != nil {
		t.Fatal(err)
	}
	if locs, _ := d.MessageLocations(ctx, m.ID); len(locs) != 0 {
		t.Errorf("locations after a move into an unknown UIDVALIDITY: %+v", locs)
	}
	if s, _ := d.StateOf(ctx, m.ID); s.Done {
		t.Error("done after the move back")
	}
	rows, _ := d.Inbox(ctx, InboxFilter{Account: "work", Mailbox: "Archive"}, Page{Limit: 5})
	if len(rows) != 0 {
		t.Errorf("the Archive view lists %d rows, want none", len(rows))
	}
}

// TestInboxCountDone: the unified inbox counts and lists the emails not
// done, in any order, and a folder counts its done ones too.
func TestInboxCountDone(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, _ := d.OpenMailbox(ctx, "work", "INBOX")
	var batch []mail.SyncedMessage
	for i, mid := range []string{"<c1@x>", "<c2@x>", "<c3@x>"} {
		m, _ := mail.Parse([]byte("Message-ID: " + mid + "\r\nSubject: s\r\n\r\nbody\r\n"))
		batch = append(batch, mail.SyncedMessage{UID: uint32(i + 1), Message: m})
	}
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/INBOX", Messages: batch}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetState(ctx, mail.EmailID("<c2@x>"), "done", true); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    InboxFilter
		want int
	}{
		"unified":               {InboxFilter{}, 2},
		"unified by confidence": {InboxFilter{ByConfidence: true}, 2},
		"unified untriaged":     {InboxFilter{Intent: "untriaged"}, 2},
		"folder":                {InboxFilter{Account: "work", Mailbox: "INBOX"}, 3},
		"account":               {InboxFilter{Account: "work"}, 3},
		"another account":       {InboxFilter{Account: "home"}, 0},
	} {
		n, err := d.InboxCount(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Inbox(ctx, tc.f, Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want || len(rows) != tc.want {
			t.Errorf("%s: count %d, rows %d, want %d", name, n, len(rows), tc.want)
		}
	}
}

// TestSearchLeavesDoneOut: a search of the unified inbox counts and lists
// its matches that are not done, indexed or not yet.
func TestSearchLeavesDoneOut(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var msgs []*mail.Message
	for _, mid := range []string{"<r1@x>", "<r2@x>", "<r3@x>"} {
		m, _ := mail.Parse([]byte("Message-ID: " + mid + "\r\nSubject: Refund request\r\n\r\nplease refund\r\n"))
		msgs = append(msgs, m)
	}
	if _, err := d.SaveMessages(ctx, "test", msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetState(ctx, msgs[1].ID, "done", true); err != nil {
		t.Fatal(err)
	}
	for _, indexed := range []bool{false, true} {
		if indexed {
			for {
				n, err := d.IndexSearch(ctx, 100)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
		}
		f := InboxFilter{Search: "refund"}
		n, err := d.InboxCount(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Inbox(ctx, f, Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || len(rows) != 2 {
			t.Errorf("indexed %v: count %d, rows %d, want 2 (the done one left out)", indexed, n, len(rows))
		}
	}
}
