// Package mailtest runs real mail servers on 127.0.0.1 for tests and the
// demo: an in-process IMAP server (go-imap/v2 imapserver + imapmemserver),
// an in-process SMTP sink (go-smtp), Dovecot when it is installed, and a
// TCP proxy that can cut connections.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"smista/mail"
)

// IMAPServer is an in-process IMAP server on 127.0.0.1 holding one user.
// It has IDLE, UIDPLUS and MOVE; it has no CONDSTORE.
type IMAPServer struct {
	// Addr is host:port of the listener.
	Addr     string
	Username string
	Password string

	user  *imapmemserver.User
	srv   *imapserver.Server
	wg    sync.WaitGroup
	oauth oauthState
	mode  string
	roots *x509.CertPool
}

// StartIMAP starts an in-process IMAP server on 127.0.0.1:0 with one user
// and the given mailboxes created (INBOX always). Close stops it.
func StartIMAP(username, password string, mailboxes ...string) (*IMAPServer, error) {
	return startIMAP(username, password, "", mailboxes)
}

// StartIMAPTLS is StartIMAP with TLS mode "tls" (implicit TLS) or
// "starttls", using a fresh self-signed certificate that Config trusts.
func StartIMAPTLS(mode, username, password string, mailboxes ...string) (*IMAPServer, error) {
	return startIMAP(username, password, mode, mailboxes)
}

// StartIMAPCaps is StartIMAP with the server's base capabilities given:
// {IMAP4rev1} alone is a server without MOVE and UIDPLUS, {IMAP4rev1,
// UIDPLUS} one without MOVE (the fallbacks of mail.Remote.Move).
func StartIMAPCaps(caps imap.CapSet, username, password string, mailboxes ...string) (*IMAPServer, error) {
	return startIMAPCaps(username, password, "", caps, mailboxes)
}

func startIMAP(username, password, mode string, mailboxes []string) (*IMAPServer, error) {
	return startIMAPCaps(username, password, mode, imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}, mailboxes)
}

func startIMAPCaps(username, password, mode string, caps imap.CapSet, mailboxes []string) (*IMAPServer, error) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(username, password)
	for _, mb := range append([]string{"INBOX"}, mailboxes...) {
		if err := user.Create(mb, nil); err != nil {
			var ie *imap.Error
			if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
				continue
			}
			return nil, fmt.Errorf("start imap: create %s: %w", mb, err)
		}
	}
	mem.AddUser(user)
	var serverTLS, implicitTLS *tls.Config
	var pool *x509.CertPool
	if mode != "" {
		cfg, p, err := SelfSigned()
		if err != nil {
			return nil, fmt.Errorf("start imap: %w", err)
		}
		pool = p
		if mode == mail.TLSStart {
			serverTLS = cfg
		} else {
			implicitTLS = cfg
		}
	}
	s := &IMAPServer{mode: mode, roots: pool, Username: username, Password: password, user: user}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			sess := idleSession{mem.NewSession().(imapserver.SessionIMAP4rev2)}
			if s.oauth.enabled() {
				return &oauthSession{Session: sess, srv: s}, nil, nil
			}
			return sess, nil, nil
		},
		Caps:         caps,
		InsecureAuth: mode == "",
		TLSConfig:    serverTLS,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start imap: %w", err)
	}
	if mode == mail.TLSImplicit {
		ln = tls.NewListener(ln, implicitTLS)
	}
	s.Addr, s.srv = ln.Addr().String(), srv
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv.Serve(ln)
	}()
	return s, nil
}

// idleSession mends a lost-update race in imapmemserver's IDLE (go-imap
// v2.0.0-beta.8): the server sends "+ idling" before its tracker registers
// for notifications, so a message appended in between is reported only
// with the next change, or never (the bug cyrus-imapd#3668 fixed in
// Cyrus). Like a real server, this IDLE reports what is pending at once,
// then polls the session's queue every idlePoll until DONE.
type idleSession struct{ imapserver.SessionIMAP4rev2 }

const idlePoll = 5 * time.Millisecond

func (s idleSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

// Close stops the server and waits for its accept loop.
func (s *IMAPServer) Close() error {
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// Config returns a ServerConfig that logs in as the server's user over
// plain text on loopback; the password comes through the config's own
// Getenv, never the process environment.
func (s *IMAPServer) Config() mail.ServerConfig {
	c := serverConfig(s.Addr, s.Username, s.Password)
	if s.mode != "" {
		c.TLS, c.RootCAs = s.mode, s.roots
	}
	return c
}

// Append stores raw in mailbox with the given flags, as a delivery would.
func (s *IMAPServer) Append(mailbox string, raw []byte, flags ...imap.Flag) error {
	_, err := s.user.Append(mailbox, bytes.NewReader(raw), &imap.AppendOptions{Flags: flags})
	if err != nil {
		return fmt.Errorf("append to %s: %w", mailbox, err)
	}
	return nil
}

// serverConfig is a loopback, plain-text, password-from-memory config.
func serverConfig(addr, user, password string) mail.ServerConfig {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return mail.ServerConfig{
		Host: host, Port: p, TLS: mail.TLSInsecure, Username: user,
		Password: mail.Secret{Env: "MAILTEST_PASSWORD"},
		Getenv: func(k string) string {
			if k == "MAILTEST_PASSWORD" {
				return password
			}
			return ""
		},
	}
}
