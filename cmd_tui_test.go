package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/app/config"
	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
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
			m := &Main{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" },
				IsTerminal: tc.terminal, DBPath: filepath.Join(t.TempDir(), "s.db")}
			if code := m.Run(context.Background(), tc.args); code != tc.code {
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
	dbPath := filepath.Join(t.TempDir(), "smista.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	raw := "From: Maria <maria@cliente.example>\r\nTo: agent@example.com\r\nSubject: Login rotto\r\n" +
		"Message-ID: <login-1@cliente.example>\r\nDate: Tue, 03 Mar 2026 09:00:00 +0100\r\n\r\nNon entro.\r\n"
	msg, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{msg}); err != nil {
		t.Fatal(err)
	}
	draftID, err := d.CreateDraft(ctx, msg.ID, "Ciao Maria, è risolto.")
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	cfg := config.Default()
	cfg.Accounts = []config.AccountConfig{{Name: "work", From: "Supporto <agent@example.com>",
		IMAP: config.ServerConfig{Host: "127.0.0.1", Port: 1, TLS: "insecure"},
		SMTP: config.ServerConfig{Host: host, Port: p, TLS: "insecure"}}}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		if k == "USER" {
			return "tester"
		}
		return ""
	}, Now: time.Now, DBPath: dbPath}
	a, err := m.appFor(ctx, cfg, wiring{accounts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	d = a.Store()

	in, keys := io.Pipe()
	out := &tuiTestBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- m.runTUIWith(ctx, a, app.RunOptions{Send: true}, tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(100, 30))
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
		dls, _ := d.Deliveries(ctx, db.DeliveryFilter{})
		t.Fatalf("the SMTP server got no reply (draft %s %q, deliveries %+v)", dr.Status, dr.LastError, dls)
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
