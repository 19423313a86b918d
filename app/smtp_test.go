package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/webhook"
)

// replyEnv is a synced original message, its pending draft, an SMTP sink
// and the App with the account that ties them together.
type replyEnv struct {
	dbPath  string
	app     *App
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
	if _, err := e.app.Sync(ctx, SyncOptions{NoTriage: true}); err != nil {
		t.Fatal(err)
	}
	e.emailID = mail.EmailID("<login-1@cliente.it>")
	if e.draftID, err = e.app.Store().CreateDraft(ctx, e.emailID, "Ciao Maria, è risolto."); err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens the store and an App on it, as a fresh process would.
func (e *replyEnv) open(t *testing.T) {
	t.Helper()
	d, err := db.Open(context.Background(), e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Store: d, Accounts: []mail.Account{e.acct},
		Sender: webhook.Options{Retries: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	e.app = a
	t.Cleanup(func() { a.Close() })
}

// drain runs the App's outbox sender until nothing is pending or retrying.
func (e *replyEnv) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.app.RunSender(ctx, true); err != nil {
		t.Fatal(err)
	}
}

func (e *replyEnv) approve(t *testing.T) {
	t.Helper()
	if err := e.app.ApproveDraft(context.Background(), e.draftID, "test"); err != nil {
		t.Fatal(err)
	}
}

// delivery returns the draft's SMTP delivery.
func (e *replyEnv) delivery(t *testing.T) db.DeliveryItem {
	t.Helper()
	dls, err := e.app.Store().Deliveries(context.Background(), db.DeliveryFilter{Kind: KindSMTP})
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 {
		t.Fatalf("%d smtp deliveries, want 1", len(dls))
	}
	return dls[0]
}

func (e *replyEnv) draft(t *testing.T) db.Draft {
	t.Helper()
	dr, err := e.app.Store().Draft(context.Background(), e.draftID)
	if err != nil {
		t.Fatal(err)
	}
	return dr
}

func TestSMTPOutbox(t *testing.T) {
	t.Run("nothing is sent without approval", func(t *testing.T) {
		e := newReplyEnv(t)
		e.drain(t)
		if n := len(e.sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages without approval", n)
		}
		// Even a delivery for a draft that is not approved is refused by
		// the transport, for good.
		r := (&smtpTransport{app: e.app, retries: 2}).Deliver(context.Background(),
			webhook.Delivery{ID: "dlv_x", Kind: KindSMTP, Queue: "smtp:work", Ref: e.draftID})
		if r.OK() || !r.Permanent || !strings.Contains(r.Err, "not approved") {
			t.Fatalf("delivering an unapproved draft: %+v, want a permanent failure", r)
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
		if dl := e.delivery(t); dl.Status != "delivered" || dl.Attempts != 2 {
			t.Fatalf("delivery %s after %d attempts, want delivered after 2", dl.Status, dl.Attempts)
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
		dl := e.delivery(t)
		st, n, lastErr := dl.Status, dl.Attempts, dl.LastError
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
		if dl := e.delivery(t); dl.Status != "dead" || dl.Attempts != 3 {
			t.Fatalf("delivery %s after %d attempts, want dead after 3", dl.Status, dl.Attempts)
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
		e.app.Close() // the process dies with the reply queued
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
		dl, err := e.app.Store().Delivery(context.Background(), e.delivery(t).ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The worker sends, then the process dies before the outbox records it.
		if r := (&smtpTransport{app: e.app, retries: 2}).Deliver(context.Background(), dl); !r.OK() {
			t.Fatalf("deliver: %s", r.Err)
		}
		e.app.Close()
		e.open(t)
		e.drain(t)
		if n := len(e.sink.Messages()); n != 1 {
			t.Fatalf("sink got %d messages, want 1", n)
		}
		if st := e.delivery(t).Status; st != "delivered" {
			t.Fatalf("delivery %s, want delivered", st)
		}
	})
}
