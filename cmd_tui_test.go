package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/triage"
	"smista/ui"
	"smista/webhook"
)

// tuiTestBuffer is an io.Writer the test reads while the program writes.
type tuiTestBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *tuiTestBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *tuiTestBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunTUIErrors(t *testing.T) {
	tests := map[string]struct {
		args     []string
		terminal bool
		code     int
		stderr   string
	}{
		"not a terminal": {args: []string{"tui"}, code: 1, stderr: "not a terminal"},
		"extra argument": {args: []string{"tui", "x"}, terminal: true, code: 2, stderr: "tui takes no arguments"},
		"bad flag":       {args: []string{"tui", "--nope"}, terminal: true, code: 2, stderr: "flag provided but not defined"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			a := &App{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" },
				IsTerminal: tc.terminal, DBPath: filepath.Join(t.TempDir(), "s.db")}
			if code := a.Run(context.Background(), tc.args); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
		})
	}
}

// TestTUIApproveDraftSendsReply drives the real wiring (runTUIWith: UI,
// outbox sender, SMTP transport, draft approver) through its input: open
// the drafts, approve, confirm; an SMTP server on 127.0.0.1 must receive
// the reply, and nothing before the confirmation.
func TestTUIApproveDraftSendsReply(t *testing.T) {
	ctx := context.Background()
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	d := dbtest.MustOpen(t)
	raw := "From: Maria <maria@cliente.example>\r\nTo: agent@example.com\r\nSubject: Login rotto\r\n" +
		"Message-ID: <login-1@cliente.example>\r\nDate: Tue, 03 Mar 2026 09:00:00 +0100\r\n\r\nNon entro.\r\n"
	m, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	draftID, err := d.CreateDraft(ctx, m.ID, "Ciao Maria, è risolto.")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	cfg := DefaultConfig()
	cfg.Accounts = []AccountConfig{{Name: "work", From: "Supporto <agent@example.com>",
		IMAP: ServerConfig{Host: "127.0.0.1", Port: 1, TLS: "insecure"},
		SMTP: ServerConfig{Host: host, Port: p, TLS: "insecure"}}}
	a := &App{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		if k == "USER" {
			return "tester"
		}
		return ""
	}, Now: time.Now}

	in, keys := io.Pipe()
	out := &tuiTestBuffer{}
	done := make(chan error, 1)
	go func() {
		accounts, err := mailAccounts(cfg, a.Getenv, "")
		if err != nil {
			done <- err
			return
		}
		s := tuiSetup{cfg: cfg, d: d, send: true, accounts: accounts}
		done <- a.runTUIWith(ctx, s, tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(100, 30))
	}()
	send := func(s string) {
		t.Helper()
		if _, err := keys.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(s string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("the screen never showed %q", s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("Inbox")
	send("2")
	waitFor("Ciao Maria") // the draft itself: the list has loaded
	send("a")
	waitFor("[y/n]")
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d mails sent before confirmation", n)
	}
	send("y")
	select {
	case <-sink.Arrived():
	case <-time.After(15 * time.Second):
		dr, _ := d.Draft(ctx, draftID)
		var dl string
		if dls, _ := d.Deliveries(ctx, db.DeliveryFilter{}); len(dls) > 0 {
			dl = dls[0].Status + " " + dls[0].LastError
		}
		t.Fatalf("the SMTP server got no reply (draft %s %q, delivery %q)", dr.Status, dr.LastError, dl)
	}
	send("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the TUI did not quit")
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "risolto") || msgs[0].To[0] != "maria@cliente.example" {
		t.Fatalf("received %+v", msgs)
	}
	dr, err := d.Draft(ctx, draftID)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Status != "sent" || dr.ApprovedBy != "human:tester" {
		t.Errorf("draft %s by %q, want sent by human:tester", dr.Status, dr.ApprovedBy)
	}
}

func TestForwardNotices(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	events := make(chan webhook.Notice, 2)
	events <- webhook.Notice{Kind: webhook.NoticeDisabled, EndpointID: "ep_1", Error: "auto-disabled: 30 failed attempts in 30m"}
	events <- webhook.Notice{Kind: webhook.NoticeDelivered, DeliveryID: "dlv_1", URL: "http://127.0.0.1/x", StatusCode: 200}
	close(events)
	out := make(chan any, 8)
	forwardNotices(ctx, d, fakeSender{events: events, inFlight: 3}, out)
	close(out)
	var got []any
	for v := range out {
		got = append(got, v)
	}
	if len(got) != 5 {
		t.Fatalf("got %d messages, want 5 (stats, then notice and stats twice): %+v", len(got), got)
	}
	if n, ok := got[1].(ui.Notice); !ok || !n.Error || !strings.Contains(n.Text, "ep_1 auto-disabled") {
		t.Errorf("disable notice = %+v", got[1])
	}
	if n, ok := got[3].(ui.Notice); !ok || n.Error || !strings.Contains(n.Text, "delivered dlv_1") {
		t.Errorf("delivered notice = %+v", got[3])
	}
	if st, ok := got[4].(ui.SenderStats); !ok || st.InFlight != 3 {
		t.Errorf("last message = %#v, want ui.SenderStats with the sender's 3 in flight", got[4])
	}
}

// fakeSender stands in for a running webhook.Sender in TestForwardNotices.
type fakeSender struct {
	events   chan webhook.Notice
	inFlight int
}

func (f fakeSender) Events() <-chan webhook.Notice { return f.events }
func (f fakeSender) Stats() (int, int)             { return 0, f.inFlight }

func TestRegenerateDraft(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	raw := []byte("From: Giulia Rossi <giulia@example.com>\r\nTo: support@acme.example\r\nSubject: Non riesco ad accedere\r\n" +
		"Message-ID: <regen@example.com>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0100\r\n\r\n" +
		"Buongiorno, da stamattina non riesco ad accedere al mio account: la pagina di login da' errore 500. Potete aiutarmi?\r\n")
	m, err := mail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateDraft(ctx, m.ID, "a human edit that regenerate replaces")
	if err != nil {
		t.Fatal(err)
	}
	c, err := triage.NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	r := &draftRegenerator{d: d, c: c}
	if err := r.RegenerateDraft(ctx, id); err != nil {
		t.Fatal(err)
	}
	dr, err := d.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dr.Body, "human edit") || !strings.Contains(dr.Body, "Giulia") {
		t.Fatalf("regenerated body = %q, want the classifier's reply greeting Giulia", dr.Body)
	}
	if err := d.DiscardDraft(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.RegenerateDraft(ctx, id); !errors.Is(err, db.ErrDraftNotPending) {
		t.Fatalf("regenerate a discarded draft: %v, want ErrDraftNotPending", err)
	}
}
