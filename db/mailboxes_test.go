package db_test

import (
	"context"
	"fmt"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

// The store the IMAP sync consumes is the DB.
var _ mail.SyncStore = (*db.DB)(nil)

func syncMsg(uid uint32, n int, flags ...string) mail.SyncedMessage {
	mid := fmt.Sprintf("<s%d@example.org>", n)
	return mail.SyncedMessage{UID: uid, Flags: flags, Message: &mail.Message{
		ID: mail.EmailID(mid), MessageID: mid, ThreadID: mail.EmailID(mid), Subject: fmt.Sprint("m", n),
		Raw: []byte("Subject: x\r\n\r\nbody"), Header: map[string][]string{},
	}}
}

func TestApplySync(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	st, err := d.OpenMailbox(ctx, "work", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.OpenMailbox(ctx, "work", "INBOX")
	if err != nil || again.ID != st.ID {
		t.Fatalf("reopen: %v, id %d want %d", err, again.ID, st.ID)
	}
	b := mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/INBOX",
		Messages: []mail.SyncedMessage{syncMsg(1, 1), syncMsg(2, 2, `\Seen`)}, UIDNext: 3, HighestModSeq: 9}
	ap, err := d.ApplySync(ctx, b)
	if err != nil || len(ap.New) != 2 {
		t.Fatalf("first apply: %v %v", ap, err)
	}
	// Replaying the same batch (a resume after a crash) adds nothing.
	if ap, err = d.ApplySync(ctx, b); err != nil || len(ap.New) != 0 {
		t.Fatalf("replayed apply inserted %v (%v)", ap.New, err)
	}
	st, _ = d.OpenMailbox(ctx, "work", "INBOX")
	if st.UIDNext != 3 || st.HighestModSeq != 9 || st.Known != 2 {
		t.Fatalf("state %+v, want uidnext 3 modseq 9 known 2", st)
	}
	// The same mail in a second mailbox is one message with two locations.
	arch, _ := d.OpenMailbox(ctx, "work", "Archive")
	if ap, _ := d.ApplySync(ctx, mail.SyncBatch{MailboxID: arch.ID, Messages: []mail.SyncedMessage{syncMsg(7, 1)}}); len(ap.New) != 0 {
		t.Fatalf("same mail in another mailbox inserted again: %v", ap.New)
	}
	locs, err := d.MessageLocations(ctx, mail.EmailID("<s1@example.org>"))
	if err != nil || len(locs) != 2 {
		t.Fatalf("locations %v %v, want 2", locs, err)
	}
	// Flags, expunge; zero state fields leave the stored ones.
	flagBatch := mail.SyncBatch{MailboxID: st.ID,
		Flags: []mail.FlagUpdate{{UID: 1, Flags: []string{`\Flagged`}}}, Removed: []uint32{2}}
	if ap, err := d.ApplySync(ctx, flagBatch); err != nil || ap.FlagChanges != 1 {
		t.Fatalf("flag change: %+v %v, want 1 change", ap, err)
	}
	if ap, err := d.ApplySync(ctx, flagBatch); err != nil || ap.FlagChanges != 0 {
		t.Fatalf("same flags again: %+v %v, want 0 changes", ap, err)
	}
	uids, _ := d.MailboxUIDs(ctx, st.ID)
	if len(uids) != 1 || uids[0] != 1 {
		t.Fatalf("uids %v, want [1]", uids)
	}
	if _, err := d.Message(ctx, mail.EmailID("<s2@example.org>")); err != nil {
		t.Fatalf("expunged message row removed: %v", err)
	}
	st, _ = d.OpenMailbox(ctx, "work", "INBOX")
	if st.UIDNext != 3 || st.HighestModSeq != 9 {
		t.Fatalf("state changed by a batch without state: %+v", st)
	}
	if err := d.ResetMailbox(ctx, st.ID, 77); err != nil {
		t.Fatal(err)
	}
	st, _ = d.OpenMailbox(ctx, "work", "INBOX")
	if st.UIDValidity != 77 || st.UIDNext != 0 || st.Known != 0 {
		t.Fatalf("after reset %+v", st)
	}
	if n, _ := d.CountMessages(ctx); n != 2 {
		t.Fatalf("reset dropped messages: %d left", n)
	}
}
