package mail_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"smista/db/dbtest"
	"smista/mail"
)

const (
	echoUser     = "agent@example.com"
	echoPassword = "IMAPpw_s3cr3t!Zq"
	echoToken    = "ya29.a0AfH6SM-token-XYZ"
)

// secretForms are the ways a server can hand back the secret of a login:
// as typed, and base64 as sent in AUTHENTICATE PLAIN, XOAUTH2, AUTH LOGIN
// (checkNoSecret also decodes every base64 run, at every alignment).
func secretForms() []string {
	b64 := base64.StdEncoding.EncodeToString
	return []string{
		echoPassword, echoToken,
		b64([]byte(echoPassword)), b64([]byte(echoToken)),
		b64([]byte("\x00" + echoUser + "\x00" + echoPassword)),
		b64([]byte("user=" + echoUser + "\x01auth=Bearer " + echoToken + "\x01\x01")),
	}
}

// checkNoSecret fails when s carries any form of the secrets, including
// inside a run of base64 that decodes, at any alignment, to text holding
// one.
func checkNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, f := range secretForms() {
		if strings.Contains(s, f) {
			t.Errorf("%s carries a secret (%q):\n%s", where, f, s)
		}
	}
	isB64 := func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/'
	}
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return !isB64(r) }) {
		for off := 0; off < 4 && off < len(run); off++ {
			chunk := run[off:]
			chunk = chunk[:len(chunk)/4*4]
			dec, err := base64.StdEncoding.DecodeString(chunk)
			if err != nil {
				continue
			}
			for _, secret := range []string{echoPassword, echoToken} {
				if strings.Contains(string(dec), secret) {
					t.Errorf("%s carries base64 %q, which decodes to the secret:\n%s", where, run, s)
				}
			}
		}
	}
}

// echoIMAP is an in-process IMAP server (go-imap/v2 imapserver) on
// 127.0.0.1 that repeats the client's secret in its rejections: in LOGIN,
// in AUTHENTICATE (decoded and base64), or — after a good login — in the
// answer to SELECT.
type echoIMAP struct {
	addr string
	mode string // "login", "plain", "xoauth2", "oauthbearer", "select", "ok"
	srv  *imapserver.Server
	wg   sync.WaitGroup
}

func startEchoIMAP(t *testing.T, mode string) *echoIMAP {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(echoUser, echoPassword)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	e := &echoIMAP{mode: mode}
	e.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &echoSession{Session: mem.NewSession(), mode: mode}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.wg.Go(func() { e.srv.Serve(ln) })
	t.Cleanup(func() { e.srv.Close(); e.wg.Wait() })
	return e
}

// config is a loopback plain-text login with the secret from the
// config's own environment.
func (e *echoIMAP) config() mail.ServerConfig { return echoConfig(e.addr, e.mode) }

func echoConfig(addr, mode string) mail.ServerConfig {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c := mail.ServerConfig{Host: host, Port: p, TLS: mail.TLSInsecure, Username: echoUser,
		Password: mail.Secret{Env: "PW"}, Token: mail.Secret{Env: "TOKEN"},
		Getenv: func(k string) string {
			return map[string]string{"PW": echoPassword, "TOKEN": echoToken}[k]
		}}
	switch mode {
	case "xoauth2":
		c.Auth = mail.AuthXOAUTH2
	case "oauthbearer":
		c.Auth = mail.AuthOAuthBearer
	}
	return c
}

type echoSession struct {
	imapserver.Session
	mode string
}

var _ imapserver.SessionSASL = (*echoSession)(nil)

func (s *echoSession) Login(user, pass string) error {
	if s.mode == "select" || s.mode == "ok" {
		return s.Session.Login(user, pass)
	}
	b64 := base64.StdEncoding.EncodeToString
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
		Text: fmt.Sprintf("invalid credentials: %s is not the password of %s (%s, %s, %s)", pass, user,
			b64([]byte("pw="+pass)), b64([]byte("the pw "+pass)), b64([]byte("pw: "+pass+"!")))}
}

func (s *echoSession) Select(mailbox string, opts *imap.SelectOptions) (*imap.SelectData, error) {
	if s.mode == "select" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "mailbox locked by the session of " + echoPassword}
	}
	return s.Session.Select(mailbox, opts)
}

func (s *echoSession) AuthenticateMechanisms() []string {
	switch s.mode {
	case "login":
		return nil // no AUTH=: the client falls back to LOGIN
	case "xoauth2":
		return []string{"XOAUTH2"}
	case "oauthbearer":
		return []string{"OAUTHBEARER"}
	}
	return []string{"PLAIN"}
}

func (s *echoSession) Authenticate(mech string) (sasl.Server, error) {
	if s.mode == "select" || s.mode == "ok" {
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.Session.Login(user, pass) }), nil
	}
	return echoSASL{}, nil
}

// echoSASL rejects the initial response, quoting it decoded and base64.
type echoSASL struct{}

func (echoSASL) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil {
		return []byte{}, false, nil
	}
	return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
		Text: fmt.Sprintf("rejected %s = %q", base64.StdEncoding.EncodeToString(resp), resp)}
}

// TestIMAPLoginErrorCarriesNoSecret: a server that repeats the password or
// token (as typed and base64) in its rejection does not get it into the
// error DialIMAP returns, which still says what happened.
func TestIMAPLoginErrorCarriesNoSecret(t *testing.T) {
	for _, mode := range []string{"login", "plain", "xoauth2", "oauthbearer"} {
		t.Run(mode, func(t *testing.T) {
			e := startEchoIMAP(t, mode)
			c, err := mail.DialIMAP(context.Background(), e.config(), nil)
			if err == nil {
				c.Close()
				t.Fatal("login succeeded")
			}
			if !errors.Is(err, mail.ErrAuthFailed) {
				t.Errorf("err = %v, want it to wrap ErrAuthFailed", err)
			}
			if !strings.Contains(err.Error(), mail.Redacted) {
				t.Errorf("err = %v, want the server's words with %s in place of the secret", err, mail.Redacted)
			}
			checkNoSecret(t, "DialIMAP error", err.Error())
			t.Logf("DialIMAP: %v", err)
			err = mail.FileReply(context.Background(), mail.Account{IMAP: e.config()}, []byte("Subject: x\r\n\r\nx\r\n"), "INBOX", 1)
			if !errors.Is(err, mail.ErrAuthFailed) {
				t.Errorf("FileReply = %v, want ErrAuthFailed", err)
			}
			checkNoSecret(t, "FileReply error", err.Error())
		})
	}
}

// TestSyncErrorsAndLogsCarryNoSecret: after a good login, a server
// repeating the password in a command's answer (SELECT) or in its
// farewell (LOGOUT) gets it into no error of Sync, no Logf line and no
// Watcher event.
func TestSyncErrorsAndLogsCarryNoSecret(t *testing.T) {
	e := startEchoIMAP(t, "select")
	var mu sync.Mutex
	var logs []string
	s := &mail.Syncer{Store: dbtest.MustOpen(t), Account: mail.Account{Name: "work", IMAP: e.config()}, Parse: mail.Parse,
		Logf: func(format string, args ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(format, args...))
			mu.Unlock()
		}}
	_, err := s.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "mailbox locked") {
		t.Fatalf("Sync = %v, want the SELECT refusal", err)
	}
	checkNoSecret(t, "Sync error", err.Error())

	events := make(chan mail.WatchEvent, 16)
	w := &mail.Watcher{Syncer: s, Sleep: func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}, OnEvent: func(ev mail.WatchEvent) { events <- ev }}
	watchRun(t, w)
	ev := watchWaitFor(t, events, 20*time.Second, "an error event", func(ev mail.WatchEvent) bool { return ev.Kind == "error" })
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), mail.Redacted) {
		t.Fatalf("watch error event %v, want the refusal with %s", ev.Err, mail.Redacted)
	}
	checkNoSecret(t, "WatchEvent.Err", ev.Err.Error())

	// A good session whose LOGOUT is answered with the password (a proxy
	// rewrites the server's OK): Sync succeeds and logs the refusal.
	good := startEchoIMAP(t, "ok")
	proxy := startLogoutEcho(t, good.addr, "logout refused for "+echoPassword)
	s2 := &mail.Syncer{Store: dbtest.MustOpen(t), Account: mail.Account{Name: "work", IMAP: echoConfig(proxy, "ok")},
		Parse: mail.Parse, Logf: s.Logf}
	if _, err := s2.Sync(context.Background()); err != nil {
		t.Fatalf("sync through the proxy: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, l := range logs {
		checkNoSecret(t, "Logf line", l)
		if strings.Contains(l, "logout") && strings.Contains(l, mail.Redacted) {
			found = true
		}
	}
	if !found {
		t.Errorf("no Logf line reports the LOGOUT refusal with %s: %q", mail.Redacted, logs)
	}
}

// startLogoutEcho starts a TCP proxy on 127.0.0.1 to the IMAP server at
// backend that turns the server's "OK LOGOUT completed" into a NO with
// text, and returns its address.
func startLogoutEcho(t *testing.T, backend, text string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() {
				defer b.Close()
				io.Copy(b, c)
			})
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(b)
				for {
					line, err := br.ReadString('\n')
					if tag, ok := strings.CutSuffix(line, " OK LOGOUT completed\r\n"); ok {
						line = tag + " NO " + text + "\r\n"
					}
					if _, werr := io.WriteString(c, line); werr != nil || err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

// echoSMTP is an in-process SMTP server (go-smtp) on 127.0.0.1 that
// repeats the client's secret: in its AUTH rejection ("auth", with the
// decoded and base64 initial response) or, after a good login, in its
// answer to DATA ("data").
func startEchoSMTP(t *testing.T, mode string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(echoSMTPBackend{mode: mode})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return ln.Addr().String()
}

type echoSMTPBackend struct{ mode string }

func (b echoSMTPBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &echoSMTPSession{mode: b.mode}, nil
}

type echoSMTPSession struct{ mode string }

var _ smtp.AuthSession = (*echoSMTPSession)(nil)

func (s *echoSMTPSession) AuthMechanisms() []string { return []string{sasl.Plain, "XOAUTH2"} }

func (s *echoSMTPSession) Auth(mech string) (sasl.Server, error) {
	return echoSMTPAuth{accept: s.mode != "auth"}, nil
}

func (s *echoSMTPSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *echoSMTPSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *echoSMTPSession) Reset()                               {}
func (s *echoSMTPSession) Logout() error                        { return nil }

func (s *echoSMTPSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "message refused: it quotes the password " + echoPassword}
}

type echoSMTPAuth struct{ accept bool }

func (a echoSMTPAuth) Next(resp []byte) ([]byte, bool, error) {
	if a.accept {
		return nil, true, nil
	}
	return nil, true, &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
		Message: fmt.Sprintf("authentication failed for %s = %q", base64.StdEncoding.EncodeToString(resp), resp)}
}

// TestSMTPErrorCarriesNoSecret: an SMTP server repeating the password or
// token in a reply does not get it into the *SendError SendSMTP returns
// (its text is stored in the attempt log and shown), which keeps its code
// and its permanent/temporary class.
func TestSMTPErrorCarriesNoSecret(t *testing.T) {
	tests := map[string]struct {
		mode, auth string
		wantCode   int
	}{
		"auth plain":   {mode: "auth", wantCode: 535},
		"auth xoauth2": {mode: "auth", auth: "xoauth2", wantCode: 535},
		"data":         {mode: "data", wantCode: 554},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := echoConfig(startEchoSMTP(t, tc.mode), tc.auth)
			err := mail.SendSMTP(context.Background(), cfg, "support@example.com", []string{"c@example.org"},
				[]byte("Subject: hi\r\n\r\nhello\r\n"))
			var se *mail.SendError
			if !errors.As(err, &se) || se.Code != tc.wantCode || mail.IsTemporary(err) {
				t.Fatalf("SendSMTP = %v (%#v), want a permanent *SendError with code %d", err, se, tc.wantCode)
			}
			if !strings.Contains(se.Text, mail.Redacted) {
				t.Errorf("Text = %q, want the server's words with %s", se.Text, mail.Redacted)
			}
			checkNoSecret(t, "SendError.Text", se.Text)
			checkNoSecret(t, "SendSMTP error", err.Error())
			t.Logf("SendSMTP: %v", err)
		})
	}
}
