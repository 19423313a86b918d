package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// SendError is a failed SMTP send, classified: Temporary errors (4xx
// replies, network failures) are worth retrying; the rest (5xx) are not.
// Text is the server's reply text, shown to the user as is.
type SendError struct {
	Temporary bool
	Code      int
	Text      string
	Err       error
}

// Error implements error.
func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	if e.Code != 0 {
		return fmt.Sprintf("smtp %s failure: %d %s", kind, e.Code, e.Text)
	}
	return fmt.Sprintf("smtp %s failure: %v", kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether err is a SendError worth retrying. Errors
// that are not SendErrors count as temporary (network trouble).
func IsTemporary(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return err != nil
}

// SendSMTP delivers raw to rcpts through s, with envelope sender from. It
// connects with implicit TLS, STARTTLS or (loopback only) plain text as
// configured, authenticates when a username is set, and returns a
// *SendError on failure. The password or token never appears in it, not
// even when the server repeats it in a reply (it is replaced by Redacted).
func SendSMTP(ctx context.Context, s ServerConfig, from string, rcpts []string, raw []byte) error {
	if len(rcpts) == 0 {
		return &SendError{Err: errors.New("no recipients")}
	}
	var creds credentials
	if s.Username != "" {
		c, err := s.credentials(ctx)
		if err != nil {
			return &SendError{Err: fmt.Errorf("smtp %s: %w", s.Addr(), err)}
		}
		creds = c
	}
	return creds.redact.err(sendSMTP(ctx, s, creds, from, rcpts, raw))
}

// sendSMTP is SendSMTP after the credentials are resolved; its errors are
// not redacted yet.
func sendSMTP(ctx context.Context, s ServerConfig, creds credentials, from string, rcpts []string, raw []byte) error {
	conn, err := s.dialConn(ctx)
	if err != nil {
		if errors.Is(err, ErrInsecureRemote) {
			return &SendError{Err: err}
		}
		return &SendError{Temporary: true, Err: fmt.Errorf("smtp connect %s: %w", s.Addr(), err)}
	}
	deadline := time.Now().Add(2 * time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	if s.TLS == TLSStart {
		c, err = smtp.NewClientStartTLS(conn, s.tlsConfig())
		if err != nil {
			conn.Close()
			return classify(fmt.Errorf("smtp starttls %s: %w", s.Addr(), err))
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if s.Username != "" {
		if err := c.Auth(creds.sasl); err != nil {
			return classify(fmt.Errorf("smtp auth %s as %s: %w", s.Addr(), s.Username, err))
		}
	}
	if err := c.SendMail(from, rcpts, bytes.NewReader(raw)); err != nil {
		return classify(fmt.Errorf("smtp send %s: %w", s.Addr(), err))
	}
	c.Quit()
	return nil
}

func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &SendError{Temporary: se.Temporary(), Code: se.Code, Text: strings.TrimSpace(se.Message), Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
		return &SendError{Temporary: true, Err: err}
	}
	return &SendError{Temporary: true, Err: err}
}
