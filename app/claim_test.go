package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"smista/app"
	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/webhook"
)

// supportRequest is a clear support request, the i-th of a shared inbox.
func supportRequest(i int) []byte {
	return fmt.Appendf(nil, "From: Customer %d <c%d@client.example>\r\nTo: support@example.com\r\n"+
		"Subject: Cannot log in (%d)\r\nDate: Mon, 02 Mar 2026 09:%02d:00 +0000\r\nMessage-ID: <req%d@client.example>\r\n"+
		"\r\nSince this morning I cannot log in to my account. Please help.\r\n", i, i, i, i%60, i)
}

// installation is one agent's smista: its own store, the shared account.
func installation(t *testing.T, acct mail.Account, receiverURL string, noClaims bool) *app.App {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: &fixedClassifier{conf: 0.95}, Accounts: []mail.Account{acct},
		Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}}, NoClaims: noClaims})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.AddEndpoint(context.Background(), receiverURL, ""); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTwoInstallationsOneMailbox: two installations, each with its own
// store, sync and triage one shared mailbox of 100 clear support requests
// at the same time, then send. With claims on Dovecot (CONDSTORE) the
// receiver gets exactly 100 requests under 100 webhook-ids; without
// claims (turned off, or a server without CONDSTORE) both send, and the
// receiver still sees only 100 distinct webhook-ids.
func TestTwoInstallationsOneMailbox(t *testing.T) {
	const n = 100
	tests := map[string]struct {
		dovecot, noClaims bool
		exact             bool // exactly n requests
	}{
		"dovecot with claims":      {dovecot: true, exact: true},
		"dovecot claims off":       {dovecot: true, noClaims: true},
		"in-process, no CONDSTORE": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var cfg mail.ServerConfig
			if tc.dovecot {
				dv := mailtest.DovecotForTest(t, "support")
				for i := range n {
					if err := dv.Deliver("INBOX", supportRequest(i)); err != nil {
						t.Fatal(err)
					}
				}
				cfg = dv.Config()
			} else {
				srv, err := mailtest.StartIMAP("support", "pw")
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				for i := range n {
					if err := srv.Append("INBOX", supportRequest(i)); err != nil {
						t.Fatal(err)
					}
				}
				cfg = srv.Config()
			}
			rcv := newReceiver(t)
			acct := mail.Account{Name: "support", IMAP: cfg}
			apps := []*app.App{
				installation(t, acct, rcv.srv.URL+"/hook", tc.noClaims),
				installation(t, acct, rcv.srv.URL+"/hook", tc.noClaims),
			}
			ctx := context.Background()
			sub := apps[0].Bus().Subscribe()
			var wg sync.WaitGroup
			for _, a := range apps {
				wg.Go(func() {
					if _, err := a.Sync(ctx, app.SyncOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			// A second sync: the server's lack of claims is said once.
			if _, err := apps[0].Sync(ctx, app.SyncOptions{}); err != nil {
				t.Error(err)
			}
			sub.Finish()
			said := 0
			for e := range sub.C() {
				if nt, ok := e.(app.Notice); ok && strings.Contains(nt.Text, "cannot claim") {
					said++
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tc.exact || tc.noClaims]; said != want {
				t.Errorf("the sync said %d times that the server cannot hold claims, want %d", said, want)
			}
			for _, a := range apps {
				wg.Go(func() {
					if err := a.RunSender(ctx, true); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			req, distinct := rcv.counts()
			tickets := dbtest.Count(t, apps[0].Store(), "tickets") + dbtest.Count(t, apps[1].Store(), "tickets")
			t.Logf("%d requests, %d webhook-ids, %d tickets queued by the two installations", req, distinct, tickets)
			if distinct != n {
				t.Errorf("receiver saw %d distinct webhook-ids, want %d", distinct, n)
			}
			if tc.exact && (req != n || tickets != n) {
				t.Errorf("with claims: %d requests and %d tickets queued, want %d and %d", req, tickets, n, n)
			}
			if !tc.exact && tickets != 2*n {
				t.Errorf("without claims: %d tickets queued, want %d (each installation its own)", tickets, 2*n)
			}
		})
	}
}

// TestOverrideKeywordsShowEverywhere: a person's "not a ticket" in one
// installation is set as a keyword on the shared mailbox, and the other
// installation's next sync reads it.
func TestOverrideKeywordsShowEverywhere(t *testing.T) {
	dv := mailtest.DovecotForTest(t, "support")
	if err := dv.Deliver("INBOX", supportRequest(1)); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	acct := mail.Account{Name: "support", IMAP: dv.Config()}
	a := installation(t, acct, rcv.srv.URL+"/hook", false)
	b := installation(t, acct, rcv.srv.URL+"/hook", false)
	ctx := context.Background()
	for _, x := range []*app.App{a, b} {
		if _, err := x.Sync(ctx, app.SyncOptions{NoTriage: true}); err != nil {
			t.Fatal(err)
		}
	}
	id := mail.EmailID("<req1@client.example>")
	if _, err := a.NotTicket(ctx, id, "giulia"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sync(ctx, app.SyncOptions{NoTriage: true}); err != nil {
		t.Fatal(err)
	}
	md, err := b.Store().MessageDetail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Locations) != 1 || !slices.Contains(md.Locations[0].Flags, mail.KeywordNotTicket) {
		t.Errorf("the other installation's locations %+v, want the %s keyword", md.Locations, mail.KeywordNotTicket)
	}
}
