package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smista/db"
	"smista/mail/mailtest"
)

// syncApp builds an App whose config points at an in-process IMAP server.
func syncApp(t *testing.T, imapAddr, password string, extra string) (*Main, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	host, port, _ := strings.Cut(imapAddr, ":")
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, fmt.Sprintf(`[[account]]
name = "work"
from = "Support <agent@example.com>"
imap = { host = %q, port = %s, tls = "insecure", username = "agent@example.com", password_env = "SMISTA_TEST_IMAP_PW" }
%s`, host, port, extra))
	var stdout, stderr bytes.Buffer
	a := &Main{
		Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "SMISTA_TEST_IMAP_PW" {
				return password
			}
			return ""
		},
		DBPath: filepath.Join(dir, "smista.db"), ConfigPath: cfg,
	}
	return a, &stdout, &stderr
}

func TestSyncCommand(t *testing.T) {
	srv, err := mailtest.StartIMAP("agent@example.com", "pw-cmd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for i := range 3 {
		raw := fmt.Sprintf("From: c%d@example.org\r\nSubject: hello %d\r\nMessage-ID: <cmd%d@example.org>\r\n\r\nbody\r\n", i, i, i)
		if err := srv.Append("INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("syncs and prints a summary", func(t *testing.T) {
		a, stdout, stderr := syncApp(t, srv.Addr, "pw-cmd", "")
		if code := a.Run(ctx, []string{"sync"}); code != 0 {
			t.Fatalf("exit %d, stderr: %s", code, stderr)
		}
		if want := "work/INBOX: 3 new, 3 fetched, 0 removed, 0 flag changes"; !strings.Contains(stdout.String(), want) {
			t.Fatalf("stdout %q, want %q", stdout, want)
		}
		d, err := db.Open(ctx, a.DBPath)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if n, _ := d.CountMessages(ctx); n != 3 {
			t.Fatalf("stored %d messages, want 3", n)
		}
		// New mail flows straight into triage.
		if !strings.Contains(stderr.String(), "3 new message(s) triaged") {
			t.Fatalf("stderr %q: no triage report", stderr)
		}
		if c, err := d.Counts(ctx); err != nil || c.Triaged != 3 {
			t.Fatalf("%d triage results (%v), want 3", c.Triaged, err)
		}
		stdout.Reset()
		if code := a.Run(ctx, []string{"sync"}); code != 0 {
			t.Fatalf("second sync exit %d: %s", code, stderr)
		}
		if want := "work/INBOX: 0 new, 0 fetched"; !strings.Contains(stdout.String(), want) {
			t.Fatalf("second sync stdout %q, want %q", stdout, want)
		}
	})
	for name, tc := range map[string]struct {
		password, extra string
		args            []string
		code            int
		stderr          string
	}{
		"wrong password": {password: "nope-123", args: []string{"sync"}, code: 1, stderr: "authentication failed"},
		"unknown account": {password: "pw-cmd", args: []string{"sync", "--account", "home"}, code: 1,
			stderr: `no account named "home"`},
		"stray argument": {password: "pw-cmd", args: []string{"sync", "now"}, code: 2, stderr: "unexpected argument"},
		"no triage": {password: "pw-cmd", args: []string{"sync", "--no-triage"}, code: 0,
			stderr: "3 new message(s) (not triaged: --no-triage)"},
	} {
		t.Run(name, func(t *testing.T) {
			a, _, stderr := syncApp(t, srv.Addr, tc.password, tc.extra)
			if code := a.Run(ctx, tc.args); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stderr %q, want it to contain %q", stderr, tc.stderr)
			}
			if strings.Contains(stderr.String(), tc.password) {
				t.Fatalf("password in stderr: %q", stderr)
			}
		})
	}
}

// syncLockedBuffer is a bytes.Buffer safe for a command writing in the
// background while the test reads.
type syncLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSyncWatchCommand(t *testing.T) {
	srv, err := mailtest.StartIMAP("agent@example.com", "pw-watch")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	a, _, _ := syncApp(t, srv.Addr, "pw-watch", "")
	var stderr syncLockedBuffer
	a.Stderr = &stderr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- a.Run(ctx, []string{"sync", "--watch", "--idle-refresh", "50ms"}) }()

	waitStderr := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if strings.Contains(stderr.String(), want) {
				return
			}
		}
		t.Fatalf("stderr never said %q: %s", want, stderr.String())
	}
	waitStderr("connected, watching")
	raw := "From: new@example.org\r\nSubject: arrives while watching\r\nMessage-ID: <watch1@example.org>\r\n\r\nhello\r\n"
	if err := srv.Append("INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	waitStderr("1 new message(s) triaged")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sync --watch exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sync --watch did not stop on cancel")
	}
}

func TestSyncProgressBarOnTerminal(t *testing.T) {
	srv, err := mailtest.StartIMAP("agent@example.com", "pw-bar")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for i := range 5 {
		if err := srv.Append("INBOX", []byte(fmt.Sprintf("Subject: %d\r\nMessage-ID: <bar%d@x>\r\n\r\nx\r\n", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	for name, tty := range map[string]bool{"terminal": true, "pipe": false} {
		t.Run(name, func(t *testing.T) {
			a, _, stderr := syncApp(t, srv.Addr, "pw-bar", "")
			a.IsTerminal = tty
			if code := a.Run(context.Background(), []string{"sync", "--no-triage"}); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			bar := strings.Contains(stderr.String(), "work/INBOX [==============================] 5/5")
			if bar != tty {
				t.Fatalf("progress bar shown = %v, want %v; stderr %q", bar, tty, stderr)
			}
		})
	}
}
