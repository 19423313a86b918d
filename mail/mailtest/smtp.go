package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"sync"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"smista/mail"
)

// Received is one message an SMTPSink accepted.
type Received struct {
	From string
	To   []string
	Data []byte
}

// SMTPSink is an in-process SMTP server on 127.0.0.1 that keeps what it
// receives. It can be told to reject the next messages with given replies
// (4xx to exercise retries, 5xx for permanent failures).
type SMTPSink struct {
	Addr string

	srv  *smtp.Server
	wg   sync.WaitGroup
	mu   sync.Mutex
	msgs []Received
	fail []*smtp.SMTPError
	// notify is closed and replaced whenever a message arrives.
	notify chan struct{}
	mode   string
	roots  *x509.CertPool
	// user and pass, when set, are the only login AUTH PLAIN accepts.
	user, pass string
}

// RequireAuth makes the sink offer AUTH PLAIN and accept only user and
// pass; Config then logs in with them.
func (s *SMTPSink) RequireAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

// StartSMTP starts a plain-text sink on 127.0.0.1:0.
func StartSMTP() (*SMTPSink, error) { return StartSMTPTLS("") }

// StartSMTPTLS starts a sink speaking TLS mode "tls" (implicit),
// "starttls", or plain text for "", with a fresh self-signed certificate
// that Config trusts.
func StartSMTPTLS(mode string) (*SMTPSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start smtp: %w", err)
	}
	s := &SMTPSink{Addr: ln.Addr().String(), notify: make(chan struct{}), mode: mode}
	s.srv = smtp.NewServer(sinkBackend{s})
	if mode != "" {
		cfg, pool, err := SelfSigned()
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("start smtp: %w", err)
		}
		s.roots = pool
		if mode == mail.TLSImplicit {
			ln = tls.NewListener(ln, cfg)
		} else {
			s.srv.TLSConfig = cfg
		}
	}
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the sink.
func (s *SMTPSink) Close() error {
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// Config returns a loopback ServerConfig without login, in the sink's TLS
// mode.
func (s *SMTPSink) Config() mail.ServerConfig {
	s.mu.Lock()
	user, pass := s.user, s.pass
	s.mu.Unlock()
	c := serverConfig(s.Addr, user, pass)
	if user == "" {
		c.Password = mail.Secret{}
	}
	if s.mode != "" {
		c.TLS, c.RootCAs = s.mode, s.roots
	}
	return c
}

// FailNext makes the next message's DATA fail with code and text; calls
// queue up.
func (s *SMTPSink) FailNext(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text})
}

// Messages returns a copy of what was accepted so far.
func (s *SMTPSink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Arrived returns a channel closed at the next accepted message.
func (s *SMTPSink) Arrived() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

type sinkBackend struct{ s *SMTPSink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct {
	s    *SMTPSink
	from string
	to   []string
}

var _ smtp.AuthSession = (*sinkSession)(nil)

func (ss *sinkSession) AuthMechanisms() []string {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if user != ss.s.user || pass != ss.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil
	}), nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		e := s.fail[0]
		s.fail = s.fail[1:]
		return e
	}
	s.msgs = append(s.msgs, Received{From: ss.from, To: ss.to, Data: data})
	close(s.notify)
	s.notify = make(chan struct{})
	return nil
}
