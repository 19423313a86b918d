package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/webhook"
)

// replyEnv is a synced original message, its pending draft, an SMTP sink
// and the account that ties them together.
type replyEnv struct {
	dbPath  string
	d       *db.DB
	imap    *mailtest.IMAPServer
	sink    *mailtest.SMTPSink
	acct    mail.Account
	draftID int64
	emailID string
}

func newReplyEnv(t *testing.T) *replyEnv {
	t.Helper()
	ctx := context.Background()
	srv, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	raw := "From: Maria <maria@cliente.it>\r\nTo: agent@example.com\r\nSubject: Login rotto\r\n" +
		"Message-ID: <login-1@cliente.it>\r\nDate: Tue, 03 Mar 2026 09:00:00 +0100\r\n\r\nNon entro.\r\n"
	if err := srv.Append("INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e := &replyEnv{dbPath: filepath.Join(t.TempDir(), "smista.db"), imap: srv, sink: sink}
	e.acct = mail.Account{Name: "work", From: mail.Address{Name: "Supporto", Addr: "agent@example.com"},
		IMAP: srv.Config(), SMTP: sink.Config()}
	e.open(t)
	s := &mail.Syncer{Store: e.d, Account: e.acct, Parse: mail.Parse}
	if _, err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.emailID = mail.EmailID("<login-1@cliente.it>")
	if e.draftID, err = e.d.CreateDraft(ctx, e.emailID, "Ciao Maria, è risolto."); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *replyEnv) open(t *testing.T) {
	t.Helper()
	d, err := db.Open(context.Background(), e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	t.Cleanup(func() { d.Close() })
}

// drain runs a fresh outbox sender with the SMTP transport until nothing
// is pending or retrying.
func (e *replyEnv) drain(t *testing.T) {
	t.Helper()
	tr := newSMTPTransport(e.d, []mail.Account{e.acct})
	tr.Logf = t.Logf
	tr.Retries = 2
	s := webhook.NewSender(e.d, webhook.Options{
		Retries:    []time.Duration{10 * time.Millisecond, 10 * time.Millisecond},
		Transports: map[string]webhook.Transport{"smtp": tr},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *replyEnv) approve(t *testing.T) {
	t.Helper()
	a := &draftApprover{db: e.d, accounts: []mail.Account{e.acct}}
	if err := a.ApproveDraft(context.Background(), e.draftID, "human:test"); err != nil {
		t.Fatal(err)
	}
}

func (e *replyEnv) delivery(t *testing.T) (status string, attempts int, lastErr string) {
	t.Helper()
	dl := e.smtpDelivery(t)
	return dl.Status, dl.Attempts, dl.LastError
}

// smtpDelivery returns the only SMTP delivery: the draft's, approved once.
func (e *replyEnv) smtpDelivery(t *testing.T) db.DeliveryItem {
	t.Helper()
	dls, err := e.d.Deliveries(context.Background(), db.DeliveryFilter{Kind: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 {
		t.Fatalf("%d SMTP deliveries, want the draft's one", len(dls))
	}
	return dls[0]
}

func (e *replyEnv) draft(t *testing.T) db.Draft {
	t.Helper()
	dr, err := e.d.Draft(context.Background(), e.draftID)
	if err != nil {
		t.Fatal(err)
	}
	return dr
}

func TestSMTPOutbox(t *testing.T) {
	t.Run("nothing is sent without approval", func(t *testing.T) {
		e := newReplyEnv(t)
		e.drain(t)
		if n := dbtest.Count(t, e.d, "deliveries"); n != 0 {
			t.Fatalf("%d deliveries queued without approval", n)
		}
		// Even a delivery of an unapproved draft (no public path queues
		// one) is refused for good: the sender makes it dead at once.
		dl := webhook.Delivery{ID: "dlv_x", Kind: "smtp", Queue: "smtp:work", DraftID: e.draftID}
		if r := newSMTPTransport(e.d, []mail.Account{e.acct}).Deliver(context.Background(), dl); r.OK() || !r.Permanent {
			t.Fatalf("delivery of an unapproved draft: %+v, want a permanent failure", r)
		}
		if n := len(e.sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages without approval", n)
		}
	})
	t.Run("4xx is retried then delivered, filed in Sent, original answered", func(t *testing.T) {
		e := newReplyEnv(t)
		e.sink.FailNext(451, "greylisted, try again")
		e.approve(t)
		e.drain(t)
		if n := len(e.sink.Messages()); n != 1 {
			t.Fatalf("sink got %d messages, want 1", n)
		}
		if st, n, _ := e.delivery(t); st != "delivered" || n != 2 {
			t.Fatalf("delivery %s after %d attempts, want delivered after 2", st, n)
		}
		if dr := e.draft(t); dr.Status != "sent" {
			t.Fatalf("draft %s, want sent", dr.Status)
		}
		c, err := mail.DialIMAP(context.Background(), e.imap.Config(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sent, err := c.Status("Sent", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || *sent.NumMessages != 1 {
			t.Fatalf("Sent: %v %v, want 1 message", err, sent)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagAnswered}}, nil).Wait()
		if err != nil || len(data.AllUIDs()) != 1 {
			t.Fatalf("original not \\Answered: %v", err)
		}
	})
	t.Run("5xx fails visibly with the server's text", func(t *testing.T) {
		e := newReplyEnv(t)
		e.sink.FailNext(550, "5.1.1 <maria@cliente.it>: no such user")
		e.approve(t)
		e.drain(t)
		if n := len(e.sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages", n)
		}
		st, n, lastErr := e.delivery(t)
		if st != "dead" || n != 1 {
			t.Fatalf("delivery %s after %d attempts, want dead after 1 (no retry of a 5xx)", st, n)
		}
		dr := e.draft(t)
		if dr.Status != "failed" || !strings.Contains(dr.LastError, "no such user") || !strings.Contains(lastErr, "550") {
			t.Fatalf("draft %s %q, delivery error %q: want failed with the server's text", dr.Status, dr.LastError, lastErr)
		}
	})
	t.Run("4xx on every attempt ends dead with the draft failed", func(t *testing.T) {
		e := newReplyEnv(t)
		for range 3 {
			e.sink.FailNext(421, "service not available, closing channel")
		}
		e.approve(t)
		e.drain(t)
		if st, n, _ := e.delivery(t); st != "dead" || n != 3 {
			t.Fatalf("delivery %s after %d attempts, want dead after 3", st, n)
		}
		if dr := e.draft(t); dr.Status != "failed" || !strings.Contains(dr.LastError, "service not available") {
			t.Fatalf("draft %s %q, want failed with the server's text", dr.Status, dr.LastError)
		}
		if n := len(e.sink.Messages()); n != 0 {
			t.Fatalf("sink got %d", n)
		}
	})
	t.Run("crash between queueing and sending sends exactly once", func(t *testing.T) {
		e := newReplyEnv(t)
		e.approve(t)
		want := e.draft(t).ReplyMessageID
		e.d.Close() // the process dies with the reply queued
		e.open(t)
		e.drain(t)
		e.drain(t)
		got := e.sink.Messages()
		if len(got) != 1 {
			t.Fatalf("sink got %d messages after restart, want exactly 1", len(got))
		}
		m, err := mail.Parse(got[0].Data)
		if err != nil || m.MessageID != want {
			t.Fatalf("sent Message-ID %q (%v), want the one fixed at approval %q", m.MessageID, err, want)
		}
	})
	t.Run("crash after the server accepted does not send again", func(t *testing.T) {
		e := newReplyEnv(t)
		e.approve(t)
		dl, err := e.d.Delivery(context.Background(), e.smtpDelivery(t).ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The worker sends, then the process dies before the outbox records it.
		if r := newSMTPTransport(e.d, []mail.Account{e.acct}).Deliver(context.Background(), dl); !r.OK() {
			t.Fatalf("deliver: %s", r.Err)
		}
		e.d.Close()
		e.open(t)
		e.drain(t)
		if n := len(e.sink.Messages()); n != 1 {
			t.Fatalf("sink got %d messages, want 1", n)
		}
		if st, _, _ := e.delivery(t); st != "delivered" {
			t.Fatalf("delivery %s, want delivered", st)
		}
	})
}
