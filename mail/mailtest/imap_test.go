package mailtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"smista/mail"
	"smista/mail/mailtest"
)

// TestIdleReportsAppendAtOnce appends a message right after each IDLE
// starts: the server must report it at once, never with the next change.
// imapmemserver alone loses the update when the append lands between its
// "+ idling" and its tracker's registration.
func TestIdleReportsAppendAtOnce(t *testing.T) {
	s, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	exists := make(chan uint32, 16)
	c, err := mail.DialIMAP(context.Background(), s.Config(), &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	const rounds = 200
	for i := 1; i <= rounds; i++ {
		idle, err := c.Idle()
		if err != nil {
			t.Fatal(err)
		}
		raw := fmt.Sprintf("Message-ID: <idle%d@example.org>\r\nSubject: %d\r\n\r\nbody\r\n", i, i)
		if err := s.Append("INBOX", []byte(raw), imap.FlagSeen); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-exists:
			if n != uint32(i) {
				t.Fatalf("round %d: EXISTS %d, want %d", i, n, i)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: no EXISTS within 2s of the append", i)
		}
		if err := idle.Close(); err != nil {
			t.Fatal(err)
		}
		if err := idle.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
