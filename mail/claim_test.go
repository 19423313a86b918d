package mail_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	"smista/mail"
	"smista/mail/mailtest"
)

// TestClaimOneWinner: installations racing to claim the same emails on
// one Dovecot mailbox (CONDSTORE) — for each email exactly one wins; the
// winner's claim holds again after a restart (its own keyword), the
// losers see the others' claim.
func TestClaimOneWinner(t *testing.T) {
	dv := mailtest.DovecotForTest(t, "team")
	const emails, installations = 20, 3
	for i := range emails {
		raw := fmt.Sprintf("From: c%d@example.org\r\nSubject: help %d\r\nMessage-ID: <claim%d@example.org>\r\n\r\nhello\r\n", i, i, i)
		if err := dv.Deliver("INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	acct := mail.Account{Name: "team", IMAP: dv.Config()}
	ctx := context.Background()
	claimers := make([]*mail.Claimer, installations)
	for i := range claimers {
		claimers[i] = &mail.Claimer{Account: acct, Installation: fmt.Sprintf("inst%d", i)}
		defer claimers[i].Close()
		if ok, err := claimers[i].Supported(ctx, "INBOX"); err != nil || !ok {
			t.Fatalf("Dovecot INBOX supports claims = %v (err %v), want true", ok, err)
		}
	}
	wins := make([][]int, emails) // uid-1 → the installations that won
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, cl := range claimers {
		wg.Go(func() {
			for uid := uint32(1); uid <= emails; uid++ {
				won, err := cl.Claim(ctx, "INBOX", uid, mail.KeywordTicket)
				if err != nil {
					t.Error(err)
					return
				}
				if won {
					mu.Lock()
					wins[uid-1] = append(wins[uid-1], i)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for uid, w := range wins {
		if len(w) != 1 {
			t.Errorf("uid %d claimed by %v, want exactly one installation", uid+1, w)
			continue
		}
		// Claiming again (after a crash, say) gives the same answer.
		for i, cl := range claimers {
			won, err := cl.Claim(ctx, "INBOX", uint32(uid+1), mail.KeywordTicket)
			if err != nil || won != (i == w[0]) {
				t.Errorf("uid %d reclaimed by inst%d: won=%v err=%v, want %v", uid+1, i, won, err, i == w[0])
			}
		}
	}
	if _, err := claimers[0].Claim(ctx, "INBOX", 999, mail.KeywordTicket); err == nil {
		t.Error("claim of a missing uid succeeded")
	}
	// A person's override shows to every installation as a keyword.
	if err := claimers[1].Mark(ctx, "INBOX", 1, mail.KeywordNotTicket); err != nil {
		t.Fatal(err)
	}
	c, err := mail.DialIMAP(ctx, dv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("fetch: %v %d", err, len(bufs))
	}
	if !slices.Contains(bufs[0].Flags, imap.Flag(mail.KeywordNotTicket)) || !slices.Contains(bufs[0].Flags, imap.Flag(mail.KeywordTicket)) {
		t.Errorf("flags of uid 1: %v, want the claim and the override", bufs[0].Flags)
	}
}

// TestClaimWithoutCondstore: a server without CONDSTORE cannot hold a
// claim; the Claimer says so instead of pretending.
func TestClaimWithoutCondstore(t *testing.T) {
	srv, err := mailtest.StartIMAP("team", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Append("INBOX", []byte("Subject: x\r\nMessage-ID: <x@y>\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	cl := &mail.Claimer{Account: mail.Account{Name: "team", IMAP: srv.Config()}, Installation: "inst"}
	defer cl.Close()
	ctx := context.Background()
	if ok, err := cl.Supported(ctx, "INBOX"); err != nil || ok {
		t.Errorf("Supported = %v (err %v), want false", ok, err)
	}
	if _, err := cl.Claim(ctx, "INBOX", 1, mail.KeywordTicket); !errors.Is(err, mail.ErrNoClaims) {
		t.Errorf("claim on a server without CONDSTORE: %v, want ErrNoClaims", err)
	}
}
