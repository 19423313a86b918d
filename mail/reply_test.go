package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
)

func replyOriginal(t *testing.T) *mail.Message {
	t.Helper()
	raw := "From: Maria Rossi <maria@cliente.it>\r\nTo: support@example.com\r\n" +
		"Reply-To: Helpdesk Cliente <help@cliente.it>\r\nSubject: Re: RE: Non funziona il login\r\n" +
		"Date: Tue, 03 Mar 2026 09:00:00 +0100\r\nMessage-ID: <orig-3@cliente.it>\r\n" +
		"In-Reply-To: <orig-2@cliente.it>\r\nReferences: <orig-1@cliente.it> <orig-2@cliente.it>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nNon riesco ad accedere.\r\nGrazie\r\n"
	m, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReplySubject(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"plain":       {"Hello", "Re: Hello"},
		"already re":  {"Re: Hello", "Re: Hello"},
		"stacked":     {"RE: re: Re:Hello", "Re: Hello"},
		"empty":       {"", "Re: "},
		"newline":     {"a\r\nBcc: x@y", "Re: a Bcc: x@y"},
		"re inside":   {"Price: re-think", "Re: Price: re-think"},
		"non-ascii":   {"Re: Perché?", "Re: Perché?"},
		"only spaces": {"   Re:   x  ", "Re: x"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := mail.ReplySubject(tc.in); got != tc.want {
				t.Fatalf("ReplySubject(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestThreadedReplyArrivesOverSMTP(t *testing.T) {
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	orig := replyOriginal(t)
	from := mail.Address{Name: "Supporto Èxample", Addr: "support@example.com"}
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	raw, id := mail.BuildReply(orig, from, "Ciao Maria,\nprova a reimpostare la password: è semplice.", true, now)
	if !strings.HasSuffix(id, "@example.com>") {
		t.Fatalf("Message-ID %q not in the sender's domain", id)
	}
	rcpts := []string{}
	for _, a := range mail.ReplyRecipients(orig) {
		rcpts = append(rcpts, a.Addr)
	}
	if err := mail.SendSMTP(context.Background(), sink.Config(), from.Addr, rcpts, raw); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	if got[0].To[0] != "help@cliente.it" {
		t.Fatalf("envelope to %v, want Reply-To help@cliente.it", got[0].To)
	}
	m, err := mail.Parse(got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]struct{ got, want string }{
		"subject":      {m.Subject, "Re: Non funziona il login"},
		"message-id":   {m.MessageID, id},
		"in-reply-to":  {m.InReplyTo, "<orig-3@cliente.it>"},
		"references":   {strings.Join(m.References, " "), "<orig-1@cliente.it> <orig-2@cliente.it> <orig-3@cliente.it>"},
		"to":           {m.To[0].Addr, "help@cliente.it"},
		"from name":    {m.From.Name, "Supporto Èxample"},
		"content-type": {m.Get("Content-Type"), "text/plain; charset=utf-8"},
		"encoding":     {m.Get("Content-Transfer-Encoding"), "quoted-printable"},
		"mime":         {m.Get("Mime-Version"), "1.0"},
		"thread":       {m.ThreadID, orig.ThreadID},
		"date":         {m.Date.UTC().Format(time.RFC3339), "2026-03-03T10:00:00Z"},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", name, c.got, c.want)
		}
	}
	if !strings.Contains(m.Text, "è semplice") {
		t.Errorf("body lost its UTF-8: %q", m.Text)
	}
	if !strings.Contains(m.Text, "> Non riesco ad accedere.") {
		t.Errorf("original not quoted: %q", m.Text)
	}
	if strings.Contains(string(got[0].Data), "è") {
		t.Errorf("raw body not quoted-printable encoded")
	}
}

func TestSendSMTPClassifiesReplies(t *testing.T) {
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	raw, _ := mail.BuildReply(replyOriginal(t), mail.Address{Addr: "support@example.com"}, "ok", false, time.Now())
	send := func() error {
		return mail.SendSMTP(context.Background(), sink.Config(), "support@example.com", []string{"help@cliente.it"}, raw)
	}
	for name, tc := range map[string]struct {
		code      int
		text      string
		temporary bool
	}{
		"4xx is temporary": {451, "greylisted, try again later", true},
		"5xx is permanent": {550, "mailbox unavailable", false},
	} {
		t.Run(name, func(t *testing.T) {
			sink.FailNext(tc.code, tc.text)
			err := send()
			var se *mail.SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *mail.SendError", err)
			}
			if se.Temporary != tc.temporary || se.Code != tc.code || !strings.Contains(se.Text, tc.text) {
				t.Fatalf("got %+v, want code %d temporary %v text %q", se, tc.code, tc.temporary, tc.text)
			}
			if mail.IsTemporary(err) != tc.temporary {
				t.Fatalf("IsTemporary = %v", !tc.temporary)
			}
		})
	}
	if err := send(); err != nil {
		t.Fatalf("send after failures: %v", err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("sink got %d, want 1", n)
	}
	bad := sink.Config()
	bad.Host = "192.0.2.1" // never dialled: refused before connecting
	if err := mail.SendSMTP(context.Background(), bad, "a@b.c", []string{"d@e.f"}, raw); err == nil || mail.IsTemporary(err) || !errors.Is(err, mail.ErrInsecureRemote) {
		t.Fatalf("plain text to a remote host: err = %v, want permanent ErrInsecureRemote", err)
	}
}

func TestFileReplyAppendsToSentAndFlagsAnswered(t *testing.T) {
	p := startMemIMAP(t)
	c := adminClient(t, p)
	imapAppendN(t, c, "INBOX", 0, 1)
	acct := mail.Account{Name: "work", IMAP: p.cfg}
	raw, id := mail.BuildReply(replyOriginal(t), mail.Address{Addr: "support@example.com"}, "done", false, time.Now())
	if err := mail.FileReply(context.Background(), acct, raw, "INBOX", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("Sent", nil).Wait(); err != nil {
		t.Fatalf("Sent not created: %v", err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
	if err != nil || len(data.AllUIDs()) != 1 {
		t.Fatalf("reply not in Sent: %v %v", err, data)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err = c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagAnswered}}, nil).Wait()
	if err != nil || len(data.AllUIDs()) != 1 {
		t.Fatalf("original not \\Answered: %v %v", err, data)
	}
}

func TestTLSModes(t *testing.T) {
	for _, mode := range []string{mail.TLSImplicit, mail.TLSStart} {
		t.Run(mode, func(t *testing.T) {
			srv, err := mailtest.StartIMAPTLS(mode, "agent@example.com", "pw-tls")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			if err := srv.Append("INBOX", syncTestMessage(1)); err != nil {
				t.Fatal(err)
			}
			d := dbtest.MustOpen(t)
			if r := syncOne(t, newSyncer(d, imapPeer{cfg: srv.Config()})); r.Fetched != 1 {
				t.Fatalf("IMAP over %s fetched %d, want 1", mode, r.Fetched)
			}
			untrusted := srv.Config()
			untrusted.RootCAs = nil // the system roots do not know the test CA
			if _, err := mail.DialIMAP(context.Background(), untrusted, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("untrusted certificate accepted: %v", err)
			}

			sink, err := mailtest.StartSMTPTLS(mode)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			raw, _ := mail.BuildReply(replyOriginal(t), mail.Address{Addr: "support@example.com"}, "ok", false, time.Now())
			if err := mail.SendSMTP(context.Background(), sink.Config(), "support@example.com", []string{"help@cliente.it"}, raw); err != nil {
				t.Fatalf("SMTP over %s: %v", mode, err)
			}
			if n := len(sink.Messages()); n != 1 {
				t.Fatalf("sink got %d", n)
			}
		})
	}
}
