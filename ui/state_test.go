package ui_test

import (
	"context"
	"strings"
	"testing"

	"smista/db"
	"smista/mail"
	"smista/ui/internal/fixture"
)

// TestInboxStateKeys: U, * and e on the selected row change its read,
// star and done state in the store (a done email leaves the inbox), and u
// undoes the last of them.
func TestInboxStateKeys(t *testing.T) {
	ctx := context.Background()
	d := seededDB(t)
	m := newModel(t, testDeps(d), 100, 24)
	id := fixture.OrderID
	state := func() db.MessageState {
		t.Helper()
		st, err := d.StateOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := state(); st.Seen || st.Flagged || st.Done {
		t.Fatalf("fixture state %+v", st)
	}
	press(t, m, "U")
	if !state().Seen {
		t.Error("U did not mark the email read")
	}
	press(t, m, "U")
	if state().Seen {
		t.Error("U again did not mark it unread")
	}
	press(t, m, "*")
	if !state().Flagged {
		t.Error("* did not star the email")
	}
	if out := plain(m); !strings.Contains(out, "●★") {
		t.Errorf("the starred row shows no star:\n%s", out)
	}
	press(t, m, "e")
	if !state().Done {
		t.Error("e did not mark the email done")
	}
	if out := plain(m); strings.Contains(out, "Order #5531") {
		t.Errorf("a done email is still in the inbox:\n%s", out)
	}
	press(t, m, "u")
	if st := state(); st.Done || !st.Flagged {
		t.Errorf("u after done: %+v, want back in the inbox, still starred", st)
	}
	if out := plain(m); !strings.Contains(out, "Order #5531") || !strings.Contains(out, "undone: back in the inbox") {
		t.Errorf("after u the email is not back:\n%s", out)
	}
}

// TestThreadNavigation: Enter on an email of a conversation opens the
// conversation with that email selected; Enter opens an email, n and p
// walk the conversation, esc and q lead back to the conversation, then
// to the inbox.
func TestThreadNavigation(t *testing.T) {
	ctx := context.Background()
	d := seededDB(t)
	if err := fixture.SeedConversation(ctx, d); err != nil {
		t.Fatal(err)
	}
	m := newModel(t, testDeps(d), 100, 30)
	press(t, m, "enter")
	if out := plain(m); !strings.Contains(out, "Conversation · Re: Cannot log in") {
		t.Fatalf("enter on a conversation's email:\n%s", out)
	}
	press(t, m, "enter")
	if out := plain(m); !strings.Contains(out, "The reset link says it expired.") {
		t.Fatalf("enter in the conversation did not open the selected (follow-up) email:\n%s", out)
	}
	press(t, m, "p")
	if out := plain(m); !strings.Contains(out, "could you try a new password reset link") {
		t.Errorf("p did not open the conversation's previous email:\n%s", out)
	}
	press(t, m, "q")
	if out := plain(m); !strings.Contains(out, "Conversation ·") {
		t.Errorf("q in the message did not lead back to the conversation:\n%s", out)
	}
	press(t, m, "esc")
	if out := plain(m); !strings.Contains(out, "Inbox ·") {
		t.Errorf("esc in the conversation did not lead back to the inbox:\n%s", out)
	}
	// t opens the conversation of an email whatever its size.
	press(t, m, "j", "t")
	if out := plain(m); !strings.Contains(out, "1 mail, oldest first") {
		t.Errorf("t on a single email:\n%s", out)
	}
}

// TestMailboxSwitcher: M lists the unified inbox, each account and its
// folders; choosing a folder shows its emails only, done or not; the
// unified inbox comes back with the first choice.
func TestMailboxSwitcher(t *testing.T) {
	ctx := context.Background()
	d := seededDB(t)
	for _, box := range []struct {
		name, mid, subject string
	}{{"INBOX", "<w1@x>", "Work inbox mail"}, {"Archive", "<w2@x>", "Archived work mail"}} {
		st, err := d.OpenMailbox(ctx, "work", box.name)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.Parse([]byte("Message-ID: " + box.mid + "\r\nSubject: " + box.subject + "\r\n\r\nx\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		msg.Date = fixture.Now()
		if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/" + box.name,
			Messages: []mail.SyncedMessage{{UID: 1, Message: msg}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.SetState(ctx, mail.EmailID("<w2@x>"), "done", true); err != nil {
		t.Fatal(err)
	}
	m := newModel(t, testDeps(d), 100, 24)
	if out := plain(m); strings.Contains(out, "Archived work mail") {
		t.Errorf("the unified inbox shows a done email:\n%s", out)
	}
	press(t, m, "M")
	out := plain(m)
	for _, want := range []string{"All accounts", "work (every folder)", "work / Archive · 1", "work / INBOX · 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the switcher lacks %q:\n%s", want, out)
		}
	}
	press(t, m, "j", "j", "enter") // work / Archive
	out = plain(m)
	if !strings.Contains(out, "Archived work mail") || strings.Contains(out, "Work inbox mail") || strings.Contains(out, "Order #5531") {
		t.Errorf("the Archive folder's inbox:\n%s", out)
	}
	if !strings.Contains(out, "work/Archive") {
		t.Errorf("the inbox does not say which folder it shows:\n%s", out)
	}
	press(t, m, "M", "g", "enter") // the switcher opens on the current choice
	if out := plain(m); !strings.Contains(out, "Order #5531") {
		t.Errorf("the unified inbox did not come back:\n%s", out)
	}
}
