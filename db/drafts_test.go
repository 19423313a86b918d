package db_test

import (
	"context"
	"errors"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

func TestApproveReply(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	st, _ := d.OpenMailbox(ctx, "work", "INBOX")
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Messages: []mail.SyncedMessage{syncMsg(1, 1)}}); err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateDraft(ctx, mail.EmailID("<s1@example.org>"), "hello")
	if err != nil {
		t.Fatal(err)
	}
	var queued int
	count := func() int {
		d.Reader().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE kind = 'smtp' AND draft_id = ? AND queue = 'smtp:work'`, id).Scan(&queued)
		return queued
	}
	if n := count(); n != 0 {
		t.Fatalf("%d deliveries before approval", n)
	}
	if _, err := d.ApproveReply(ctx, id, "human:ann", "work", "<r1@example.com>"); err != nil {
		t.Fatal(err)
	}
	dr, err := d.Draft(ctx, id)
	if err != nil || dr.Status != "approved" || dr.ReplyMessageID != "<r1@example.com>" || dr.ApprovedBy != "human:ann" || dr.ApprovedAt.IsZero() {
		t.Fatalf("draft %+v %v", dr, err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d deliveries after approval, want 1", n)
	}
	if _, err := d.ApproveReply(ctx, id, "human:ann", "work", "<r2@example.com>"); !errors.Is(err, db.ErrDraftNotPending) {
		t.Fatalf("second approval: %v, want ErrDraftNotPending", err)
	}
	if _, err := d.ApproveReply(ctx, 999, "human:ann", "work", "<r3@example.com>"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("missing draft: %v, want ErrNotFound", err)
	}
	if n := count(); n != 1 {
		t.Fatalf("refused approvals queued deliveries: %d", n)
	}
}

func TestDraftEdits(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ids := seedInbox(t, d, 1)
	for _, st := range []string{"pending", "sent"} {
		if _, err := d.Writer().Exec(`INSERT INTO drafts (message_id, body, status, created_at, updated_at) VALUES (?, 'b', ?, 0, 0)`, ids[0], st); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.EditDraft(ctx, 1, "new body"); err != nil {
		t.Fatal(err)
	}
	if err := d.EditDraft(ctx, 2, "x"); !errors.Is(err, db.ErrDraftNotPending) {
		t.Errorf("saving a sent draft: err = %v, want ErrDraftNotPending", err)
	}
	drafts, err := d.Drafts(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(drafts) != 2 || drafts[0].ID != 1 || drafts[0].Body != "new body" {
		t.Fatalf("drafts = %+v, want the pending one first with the new body", drafts)
	}
	if err := d.DiscardDraft(ctx, 1); err != nil {
		t.Fatal(err)
	}
	drafts, _ = d.Drafts(ctx, 10)
	if len(drafts) != 1 || drafts[0].ID != 2 {
		t.Errorf("after discard drafts = %+v, want only the sent one", drafts)
	}
}
