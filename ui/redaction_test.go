package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"

	"smista/app"
	"smista/db/dbtest"
	"smista/mail"
)

const echoedSecret = "IMAPpw_s3cr3t_9f2b"

// startEchoingIMAP is an IMAP server on 127.0.0.1 that refuses every login
// and repeats the password in its refusal, as a careless server does.
func startEchoingIMAP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tp := textproto.NewConn(c)
				tp.PrintfLine("* OK [CAPABILITY IMAP4rev1] echo ready")
				r := bufio.NewReader(c)
				for range 10 {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					tag, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
					switch cmd, _, _ := strings.Cut(rest, " "); strings.ToUpper(cmd) {
					case "CAPABILITY":
						tp.PrintfLine("* CAPABILITY IMAP4rev1")
						tp.PrintfLine("%s OK done", tag)
					case "LOGOUT":
						tp.PrintfLine("%s OK bye", tag)
						return
					default:
						tp.PrintfLine("%s NO [AUTHENTICATIONFAILED] invalid credentials: %s", tag, rest)
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// A server that repeats the password in its refusal: the TUI shows the
// refusal, never the password.
func TestTUINeverShowsAnEchoedSecret(t *testing.T) {
	addr := startEchoingIMAP(t)
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	acct := mail.Account{Name: "work", IMAP: mail.ServerConfig{Host: host, Port: p, TLS: mail.TLSInsecure,
		Username: "agent", Password: mail.Secret{Env: "PW"},
		Getenv: func(k string) string { return map[string]string{"PW": echoedSecret}[k] }}}
	d := dbtest.MustOpen(t)
	a, err := app.New(app.Options{Store: d, Accounts: []mail.Account{acct}})
	if err != nil {
		t.Fatal(err)
	}
	// What the sync publishes is queued for the screen, which reads it
	// all as it starts; then the channel closes.
	sub := a.Bus().Subscribe()
	_, syncErr := a.Sync(context.Background(), app.SyncOptions{NoTriage: true})
	if syncErr == nil || strings.Contains(syncErr.Error(), echoedSecret) {
		t.Fatalf("Sync = %v: want a refusal without the password", syncErr)
	}
	sub.Finish()
	deps := testDeps(d)
	deps.Actions = a
	deps.Events = func() (<-chan app.Event, func()) { return sub.C(), sub.Close }
	m := newModel(t, deps, 200, 24)
	out := plain(m)
	if strings.Contains(out, echoedSecret) {
		t.Fatalf("the password reached the screen:\n%s", out)
	}
	if !strings.Contains(out, "invalid credentials") {
		t.Errorf("the refusal is not on the screen:\n%s", out)
	}
}
