package app

import (
	"context"
	"strings"
	"testing"

	"smista/db"
	"smista/mail"
)

// TestReplyStaysInThread: a reply to an email of a conversation is listed
// in that conversation once sent — as the reply sent from smista while the
// Sent folder is not synced, then as the stored copy once it is (never
// both). Against the in-process server and Dovecot.
func TestReplyStaysInThread(t *testing.T) {
	for _, server := range []string{"in-process", "dovecot"} {
		t.Run(server, func(t *testing.T) {
			ctx := context.Background()
			e := newComposeEnv(t, server)
			legal := mail.EmailID("<legal-3@cliente.it>")
			md, err := e.app.Store().MessageDetail(ctx, legal)
			if err != nil {
				t.Fatal(err)
			}
			thread := md.Message.ThreadID
			e.write(t, legal, db.DraftReply, func(start string) string { return start + "Forwarded to legal." })
			e.drain(t)
			items, err := e.app.Store().Thread(ctx, thread)
			if err != nil {
				t.Fatal(err)
			}
			last := items[len(items)-1]
			if last.SentDraft == 0 || last.SentBy != "human:anna" || last.Subject != "Re: Refund refused" {
				t.Fatalf("the conversation's last mail: %+v, want the reply sent by anna", last)
			}
			n := len(items)

			e.app.accounts[0].Mailboxes = []string{"INBOX", "Sent"}
			if _, err := e.app.Sync(ctx, SyncOptions{NoTriage: true}); err != nil {
				t.Fatal(err)
			}
			items, err = e.app.Store().Thread(ctx, thread)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != n {
				t.Fatalf("after syncing Sent the conversation has %d mails, want %d (the reply once)", len(items), n)
			}
			last = items[len(items)-1]
			if last.SentDraft != 0 || last.ID == "" || !strings.EqualFold(last.FromAddr, "agent@example.com") {
				t.Errorf("after syncing Sent the reply is %+v, want the stored copy", last)
			}
		})
	}
}
