package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// TLS modes accepted in ServerConfig.TLS.
const (
	TLSImplicit = "tls"
	TLSStart    = "starttls"
	TLSInsecure = "insecure"
)

// ErrInsecureRemote is returned when TLS "insecure" is configured for a host
// that is not on the loopback interface: plain text is allowed only where
// nothing can listen in.
var ErrInsecureRemote = errors.New(`tls = "insecure" is allowed only for loopback hosts (127.0.0.1, ::1, localhost); use "tls" or "starttls"`)

// ErrAuthFailed is returned when the server rejects the credentials.
var ErrAuthFailed = errors.New("authentication failed: check username and password_cmd/password_env")

// ServerConfig is one IMAP or SMTP server of an account.
type ServerConfig struct {
	Host string
	Port int
	// TLS is "tls" (default), "starttls" or "insecure" (loopback only).
	TLS      string
	Username string
	// Password is used with Auth "plain" (the default).
	Password Secret
	// Auth is "plain" (default), "xoauth2", "oauthbearer" (with Token) or
	// "oauth2" (with OAuth2).
	Auth string
	// Token is used with Auth "xoauth2" and "oauthbearer".
	Token Secret
	// OAuth2 hands out access tokens with Auth "oauth2".
	OAuth2 AccessTokener
	// Getenv reads the environment for Secret.Env; nil means none.
	Getenv func(string) string
	// DialTimeout bounds connecting and the greeting; 0 means 30 s.
	DialTimeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system
	// roots (a private CA, or a test server's self-signed certificate).
	RootCAs *x509.CertPool
}

// tlsConfig is the client TLS configuration: verified against RootCAs (or
// the system roots) for Host.
func (s ServerConfig) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
}

// Account is a mailbox account: where mail is read, where replies go out.
type Account struct {
	Name string
	From Address
	// Mailboxes to sync; empty means INBOX.
	Mailboxes []string
	// SentMailbox receives a copy of sent replies; empty means "Sent".
	SentMailbox string
	// Archive receives the emails a person marks done; empty means
	// "Archive".
	Archive string
	IMAP    ServerConfig
	SMTP    ServerConfig
}

// SyncMailboxes returns the mailboxes to sync (INBOX by default).
func (a Account) SyncMailboxes() []string {
	if len(a.Mailboxes) == 0 {
		return []string{"INBOX"}
	}
	return a.Mailboxes
}

// Sent returns the mailbox sent replies are appended to.
func (a Account) Sent() string {
	if a.SentMailbox == "" {
		return "Sent"
	}
	return a.SentMailbox
}

// ArchiveMailbox returns the mailbox done emails are moved into.
func (a Account) ArchiveMailbox() string {
	if a.Archive == "" {
		return "Archive"
	}
	return a.Archive
}

// Addr returns host:port.
func (s ServerConfig) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Check validates the TLS mode against the host; it returns
// ErrInsecureRemote for plain text to a non-loopback host.
func (s ServerConfig) Check() error {
	if s.Host == "" {
		return errors.New("host is required")
	}
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("port %d: want 1-65535", s.Port)
	}
	switch s.TLS {
	case "", TLSImplicit, TLSStart:
	case TLSInsecure:
		if !isLoopback(s.Host) {
			return fmt.Errorf("%s: %w", s.Host, ErrInsecureRemote)
		}
	default:
		return fmt.Errorf("tls %q: want tls, starttls or insecure", s.TLS)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s ServerConfig) timeout() time.Duration {
	if s.DialTimeout > 0 {
		return s.DialTimeout
	}
	return 30 * time.Second
}

// dialConn opens the TCP (or implicit TLS) connection honouring ctx.
func (s ServerConfig) dialConn(ctx context.Context) (net.Conn, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: s.timeout()}
	conn, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		return nil, err
	}
	if s.TLS == "" || s.TLS == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		hctx, cancel := context.WithTimeout(ctx, s.timeout())
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return conn, nil
}

// DialIMAP connects to the account's IMAP server and logs in. opts may be
// nil. Wrong credentials yield an error wrapping ErrAuthFailed; the
// password or token never appears in any error, not even when the server
// repeats it in its answer (it is replaced by Redacted).
func DialIMAP(ctx context.Context, s ServerConfig, opts *imapclient.Options) (*imapclient.Client, error) {
	c, red, err := dialIMAP(ctx, s, opts)
	return c, red.err(err)
}

// dialIMAP is DialIMAP returning the redactor of the secret it used, for
// the errors of the commands that follow, and errors not yet redacted.
func dialIMAP(ctx context.Context, s ServerConfig, opts *imapclient.Options) (*imapclient.Client, redactor, error) {
	if opts == nil {
		opts = &imapclient.Options{}
	}
	// Resolve the secret before connecting so a failing password_cmd is
	// reported as such, not as a network error.
	auth, err := s.credentials(ctx)
	if err != nil {
		return nil, redactor{}, fmt.Errorf("imap %s: %w", s.Addr(), err)
	}
	red := auth.redact
	conn, err := s.dialConn(ctx)
	if err != nil {
		return nil, red, fmt.Errorf("imap connect %s: %w", s.Addr(), err)
	}
	var c *imapclient.Client
	if s.TLS == TLSStart {
		o := *opts
		o.TLSConfig = s.tlsConfig()
		c, err = imapclient.NewStartTLS(conn, &o)
		if err != nil {
			conn.Close()
			return nil, red, fmt.Errorf("imap starttls %s: %w", s.Addr(), err)
		}
	} else {
		c = imapclient.New(conn, opts)
	}
	// Closing the client on ctx cancellation unblocks any pending command.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, red, fmt.Errorf("imap greeting %s: %w", s.Addr(), err)
	}
	if err := login(c, s, auth); err != nil {
		c.Close()
		return nil, red, fmt.Errorf("imap %s as %s: %w", s.Addr(), s.Username, err)
	}
	return c, red, nil
}

func login(c *imapclient.Client, s ServerConfig, auth credentials) error {
	var err error
	if auth.password != "" && !c.Caps().Has(imap.AuthCap("PLAIN")) {
		err = c.Login(s.Username, auth.password).Wait()
	} else {
		err = c.Authenticate(auth.sasl)
	}
	if err == nil {
		return nil
	}
	var ie *imap.Error
	if errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAuthenticationFailed || ie.Type == imap.StatusResponseTypeNo) {
		return fmt.Errorf("%w (server said: %s)", ErrAuthFailed, ie.Text)
	}
	var oe *sasl.OAuthBearerError
	if errors.As(err, &oe) {
		return fmt.Errorf("%w (server said: %s)", ErrAuthFailed, oe.Status)
	}
	return err
}
