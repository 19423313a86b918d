package mail_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"smista/db/dbtest"
	"smista/mail"
)

// TestDateFallback: a missing, malformed or absurd Date header gives way
// to the newest Received: date (or none: the store then takes the import
// time), and an IMAP server's INTERNALDATE wins over both.
func TestDateFallback(t *testing.T) {
	const received = "Received: from a by b; Tue, 23 Jul 2002 03:49:05 -0500 (CDT)\r\n" +
		"Received: from c by d; Tue, 23 Jul 2002 03:48:58 -0500\r\n"
	newest := time.Date(2002, 7, 23, 8, 49, 5, 0, time.UTC)
	tests := map[string]struct {
		header   string
		want     time.Time
		fallback bool
	}{
		"good":             {"Date: Mon, 22 Jul 2002 10:00:00 +0000\r\n" + received, time.Date(2002, 7, 22, 10, 0, 0, 0, time.UTC), false},
		"year 102":         {"Date: Tue, 23 Jul 0102 17:15:40 +0800\r\n" + received, newest, true},
		"malformed":        {"Date: Thu, 06 Jun 2002 01:38:14 Eastern Daylight Time\r\n" + received, newest, true},
		"missing":          {received, newest, true},
		"after receipt":    {"Date: Wed, 05 Aug 2020 04:01:50 -0100\r\n" + received, newest, true},
		"skew within 48 h": {"Date: Wed, 24 Jul 2002 08:00:00 +0000\r\n" + received, time.Date(2002, 7, 24, 8, 0, 0, 0, time.UTC), false},
		"nothing":          {"Date: garbage\r\n", time.Time{}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := mail.ParseHeader([]byte(tc.header + "Subject: x\r\nMessage-ID: <d@x>\r\n\r\nbody\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			if !m.Date.Equal(tc.want) || m.DateFallback != tc.fallback {
				t.Errorf("date %v (fallback %v), want %v (%v)", m.Date, m.DateFallback, tc.want, tc.fallback)
			}
			internal := time.Date(2002, 7, 23, 9, 0, 0, 0, time.UTC)
			m.UseInternalDate(internal)
			if tc.fallback && !m.Date.Equal(internal) || !tc.fallback && !m.Date.Equal(tc.want) {
				t.Errorf("with INTERNALDATE: %v", m.Date)
			}
		})
	}
}

// TestDateFallbackCorpus: real SpamAssassin mails whose Date header is
// absurd (year 0102, a year from the future) or malformed (a time zone
// spelled out, "+-0500") get their newest Received: date.
func TestDateFallbackCorpus(t *testing.T) {
	dir := corpusDir(t)
	for name, want := range map[string]time.Time{
		"spam-2/00588.44b644374b89ba4885f91f0ed836e622.txt": {},
		"spam-2/00622.7c8edc50203f6a2dc87e97e9eefddce7.txt": time.Date(2002, 6, 6, 5, 38, 14, 0, time.UTC),
		"spam-2/00645.dd7d8ec1eb687c5966c516b720fcc3d5.txt": {},
		"spam-2/01399.2319643317e2c5193d574e40a71809c2.txt": {},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ParseHeader(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !m.DateFallback || m.Date.Year() != 2002 {
			t.Errorf("%s: date %v (fallback %v), want a 2002 Received: date", name, m.Date, m.DateFallback)
		}
		if !want.IsZero() && !m.Date.Equal(want) {
			t.Errorf("%s: date %v, want %v", name, m.Date, want)
		}
	}
}

// TestSyncInternalDate: a synced mail whose Date is absurd is stored at
// the server's INTERNALDATE (before its Received: date), on the in-process
// server and Dovecot (ParseHeader, as the TUI and sync store mail).
func TestSyncInternalDate(t *testing.T) {
	peers := map[string]func(testing.TB) imapPeer{
		"in-process": startMemIMAP,
		"dovecot":    func(tb testing.TB) imapPeer { p, _ := startDovecot(tb); return p },
	}
	for name, start := range peers {
		t.Run(name, func(t *testing.T) {
			p := start(t)
			c := adminClient(t, p)
			internal := time.Date(2002, 7, 23, 12, 0, 0, 0, time.UTC)
			raw := []byte("Message-ID: <year102@x>\r\nDate: Tue, 23 Jul 0102 17:15:40 +0800\r\n" +
				"Received: from a by b; Tue, 23 Jul 2002 03:49:05 -0500\r\nSubject: cheap\r\n\r\nbuy\r\n")
			cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: internal})
			if _, err := cmd.Write(raw); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			d := dbtest.MustOpen(t)
			s := &mail.Syncer{Store: d, Account: mail.Account{Name: "work", IMAP: p.cfg}, Parse: mail.ParseHeader}
			if _, err := s.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			m, err := d.Message(context.Background(), mail.EmailID("<year102@x>"))
			if err != nil {
				t.Fatal(err)
			}
			if !m.Date.Equal(internal) {
				t.Errorf("stored date %v, want the INTERNALDATE %v", m.Date.UTC(), internal)
			}
		})
	}
}
