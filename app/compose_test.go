package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/webhook"
)

// composeMails are the emails answered: a follow-up threatening legal
// action (triage flags it legal and suggests, no draft), copied to a
// colleague, and spam.
var composeMails = []string{
	"From: Maria Rossi <maria@cliente.it>\r\nTo: agent@example.com, Luca <luca@cliente.it>\r\nCc: legal@cliente.it\r\n" +
		"Subject: Re: Refund refused\r\nMessage-ID: <legal-3@cliente.it>\r\nIn-Reply-To: <legal-2@cliente.it>\r\n" +
		"References: <legal-1@cliente.it> <legal-2@cliente.it>\r\nDate: Tue, 03 Mar 2026 09:00:00 +0100\r\n\r\n" +
		"Our lawyer will start legal action next week unless the refund arrives.\r\n",
	"From: Winner Desk <prize@lotto.example>\r\nTo: agent@example.com\r\nSubject: You WON 1,000,000 USD\r\n" +
		"Message-ID: <spam-1@lotto.example>\r\nDate: Tue, 03 Mar 2026 10:00:00 +0100\r\n\r\n" +
		"Click here to claim your prize now! Free money, act now, limited offer, casino bonus.\r\n",
}

// composeEnv is an App syncing one account from an IMAP server (the
// in-process one, or Dovecot) and sending through a go-smtp sink.
type composeEnv struct {
	app  *App
	sink *mailtest.SMTPSink
	imap mail.ServerConfig
}

func newComposeEnv(t *testing.T, server string) *composeEnv {
	t.Helper()
	ctx := context.Background()
	e := &composeEnv{}
	switch server {
	case "dovecot":
		dv := mailtest.DovecotForTest(t, "agent")
		for _, raw := range composeMails {
			if err := dv.Deliver("INBOX", []byte(raw)); err != nil {
				t.Fatal(err)
			}
		}
		e.imap = dv.Config()
	default:
		srv, err := mailtest.StartIMAP("agent@example.com", "pw")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		for _, raw := range composeMails {
			if err := srv.Append("INBOX", []byte(raw)); err != nil {
				t.Fatal(err)
			}
		}
		e.imap = srv.Config()
	}
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e.sink = sink
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	acct := mail.Account{Name: "work", From: mail.Address{Name: "Supporto", Addr: "agent@example.com"},
		IMAP: e.imap, SMTP: sink.Config()}
	e.app, err = New(Options{Store: d, Accounts: []mail.Account{acct},
		Sender: webhook.Options{Retries: []time.Duration{10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.app.Close() })
	if _, err := e.app.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// write starts a mail of kind on emailID, replaces the editor's text with
// edit (called with the starting text), saves and approves it.
func (e *composeEnv) write(t *testing.T, emailID, kind string, edit func(start string) string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := e.app.StartReply(ctx, emailID, kind)
	if err != nil {
		t.Fatalf("start %s: %v", kind, err)
	}
	if err := e.app.SaveDraftText(ctx, st.ID, edit(st.Text), "anna"); err != nil {
		t.Fatalf("save %s: %v", kind, err)
	}
	if err := e.app.ApproveDraft(ctx, st.ID, "anna"); err != nil {
		t.Fatalf("approve %s: %v", kind, err)
	}
	return st.ID
}

func (e *composeEnv) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.app.RunSender(ctx, true); err != nil {
		t.Fatal(err)
	}
}

// sent returns the mails the sink received, by Message-ID.
func (e *composeEnv) sent(t *testing.T) map[string]mailtest.Received {
	t.Helper()
	out := map[string]mailtest.Received{}
	for _, r := range e.sink.Messages() {
		m, err := mail.Parse(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		out[m.MessageID] = r
	}
	return out
}

// TestReplyToAnyEmail: an email triage only flagged (legal: a suggestion,
// no draft) and a spam one are answered all the same; each reply reaches
// the SMTP server threaded under its email (In-Reply-To, References) and
// is filed in Sent, the originals flagged \Answered. A reply to all copies
// the other recipients but not the account; a forward and a new message
// go where the person wrote, unthreaded. Against the in-process IMAP
// server and Dovecot.
func TestReplyToAnyEmail(t *testing.T) {
	for _, server := range []string{"in-process", "dovecot"} {
		t.Run(server, func(t *testing.T) { testReplyToAnyEmail(t, server) })
	}
}

func testReplyToAnyEmail(t *testing.T, server string) {
	ctx := context.Background()
	e := newComposeEnv(t, server)
	if _, err := e.app.Triage(ctx, TriageRequest{}); err != nil {
		t.Fatal(err)
	}
	legal, spam := mail.EmailID("<legal-3@cliente.it>"), mail.EmailID("<spam-1@lotto.example>")
	md, err := e.app.Store().MessageDetail(ctx, legal)
	if err != nil {
		t.Fatal(err)
	}
	if md.Triage == nil || !slices.Contains(md.Triage.Flags, "legal") || md.Triage.Action == "ticket" || len(md.Drafts) != 0 {
		t.Fatalf("the legal email's triage = %+v, drafts %d: want flagged legal, no ticket, no draft", md.Triage, len(md.Drafts))
	}
	body := func(text string) func(string) string {
		return func(start string) string { return start + text }
	}
	replyID := e.write(t, legal, db.DraftReply, body("We have forwarded your letter to our legal team."))
	e.write(t, spam, db.DraftReply, body("Please remove this address."))
	e.write(t, legal, db.DraftReplyAll, body("Copying everyone."))
	e.write(t, legal, db.DraftForward, func(start string) string {
		return strings.Replace(start, "To: \n", "To: Legal <legal@example.com>\n", 1)
	})
	e.write(t, "", db.DraftNew, func(string) string {
		return "To: someone@example.org\nSubject: A new message\n\nHello."
	})
	e.drain(t)

	sent := e.sent(t)
	if len(sent) != 5 {
		t.Fatalf("the SMTP server got %d mails, want 5", len(sent))
	}
	dr, err := e.app.Store().Draft(ctx, replyID)
	if err != nil || dr.Status != "sent" {
		t.Fatalf("the reply's draft: %+v, %v; want sent", dr, err)
	}
	type want struct {
		rcpts      []string
		subject    string
		inReplyTo  string
		references []string
	}
	wants := map[string]want{
		"We have forwarded": {[]string{"maria@cliente.it"}, "Re: Refund refused", "<legal-3@cliente.it>",
			[]string{"<legal-1@cliente.it>", "<legal-2@cliente.it>", "<legal-3@cliente.it>"}},
		"Please remove": {[]string{"prize@lotto.example"}, "Re: You WON 1,000,000 USD", "<spam-1@lotto.example>",
			[]string{"<spam-1@lotto.example>"}},
		"Copying everyone": {[]string{"maria@cliente.it", "luca@cliente.it", "legal@cliente.it"}, "Re: Refund refused",
			"<legal-3@cliente.it>", []string{"<legal-1@cliente.it>", "<legal-2@cliente.it>", "<legal-3@cliente.it>"}},
		"Forwarded message": {[]string{"legal@example.com"}, "Fwd: Re: Refund refused", "", nil},
		"Hello.":            {[]string{"someone@example.org"}, "A new message", "", nil},
	}
	for _, r := range sent {
		m, _ := mail.Parse(r.Data)
		var w want
		found := false
		for k, v := range wants {
			if strings.Contains(m.Text, k) {
				w, found = v, true
				delete(wants, k)
				break
			}
		}
		if !found {
			t.Errorf("unexpected mail: %s", r.Data)
			continue
		}
		if !slices.Equal(r.To, w.rcpts) || m.Subject != w.subject || m.InReplyTo != w.inReplyTo || !slices.Equal(m.References, w.references) {
			t.Errorf("%q: rcpt %v subject %q in-reply-to %q references %v;\nwant %v %q %q %v", m.Text, r.To, m.Subject,
				m.InReplyTo, m.References, w.rcpts, w.subject, w.inReplyTo, w.references)
		}
		if r.From != "agent@example.com" || m.From.Addr != "agent@example.com" {
			t.Errorf("%q sent from %q (%q), want the account", m.Text, r.From, m.From.Addr)
		}
	}
	if len(wants) > 0 {
		t.Errorf("never sent: %v", wants)
	}

	c, err := mail.DialIMAP(ctx, e.imap, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status("Sent", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || st.NumMessages == nil || *st.NumMessages != 5 {
		t.Fatalf("Sent: %+v, %v; want the 5 mails filed", st, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ans, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagAnswered}}, nil).Wait()
	if err != nil || len(ans.AllUIDs()) != 2 {
		t.Fatalf("\\Answered originals: %v, %v; want both answered emails", ans, err)
	}
}

// TestComposeChecks: approving asks about another agent's answer for every
// kind of reply (team mode); a draft without recipient, or with a broken
// address, is refused at approval and nothing is queued; a reply continues
// the email's pending reply draft instead of starting a second one.
func TestComposeChecks(t *testing.T) {
	ctx := context.Background()
	e := newComposeEnv(t, "in-process")
	legal := mail.EmailID("<legal-3@cliente.it>")
	e.write(t, legal, db.DraftReply, func(s string) string { return s + "giulia's answer" })
	for _, kind := range []string{db.DraftReplyAll, db.DraftForward} {
		st, err := e.app.StartReply(ctx, legal, kind)
		if err != nil {
			t.Fatal(err)
		}
		// write approved the reply as anna: to giulia, anna answered.
		others, err := e.app.OthersAnswered(ctx, st.ID, "giulia")
		if err != nil || len(others) != 1 || others[0].By != "human:anna" {
			t.Errorf("%s: others answered = %+v, %v; want anna's reply", kind, others, err)
		}
	}

	st, err := e.app.StartReply(ctx, "", db.DraftNew)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.ApproveDraft(ctx, st.ID, "anna"); !errors.Is(err, ErrNoRecipient) {
		t.Errorf("approving a mail to nobody: %v, want ErrNoRecipient", err)
	}
	// A broken list is kept as written (the person's words are not lost)
	// and refused at approval.
	if err := e.app.SaveDraftText(ctx, st.ID, "To: a@, <b\n\nhi", "anna"); err != nil {
		t.Fatal(err)
	}
	if err := e.app.ApproveDraft(ctx, st.ID, "anna"); !errors.Is(err, ErrDraftHeader) {
		t.Errorf("approving a mail to a broken address: %v, want ErrDraftHeader", err)
	}
	if err := e.app.SaveDraftText(ctx, st.ID, "Bcc: x@example.com\nTo: y@example.com\n\nhi", "anna"); err != nil {
		t.Errorf("a text not starting with a header is all body: %v", err)
	}
	if err := e.app.SaveDraftText(ctx, st.ID, "To: y@example.com\nBcc: x@example.com\n\nhi", "anna"); !errors.Is(err, ErrDraftHeader) {
		t.Errorf("an unknown header in the block: %v, want ErrDraftHeader", err)
	}
	dls, err := e.app.Store().Deliveries(ctx, db.DeliveryFilter{Kind: KindSMTP})
	if err != nil || len(dls) != 1 {
		t.Errorf("%d smtp deliveries (%v), want only the approved reply's", len(dls), err)
	}

	spam := mail.EmailID("<spam-1@lotto.example>")
	first, err := e.app.StartReply(ctx, spam, db.DraftReply)
	if err != nil || !first.Created {
		t.Fatalf("first reply: %+v, %v", first, err)
	}
	again, err := e.app.StartReply(ctx, spam, db.DraftReply)
	if err != nil || again.Created || again.ID != first.ID || !strings.HasPrefix(again.Text, "To: Winner Desk <prize@lotto.example>\nCc: \nSubject: Re: You WON") {
		t.Errorf("second reply = %+v, %v; want the same draft, its headers first", again, err)
	}
}
