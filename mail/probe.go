package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
)

// IMAPCapabilities are the IMAP extensions smista uses, in the order a
// report names them.
var imapCapabilities = []imap.Cap{imap.CapIdle, imap.CapCondStore, imap.CapMove, imap.CapUIDPlus}

// IMAPProbe is what an IMAP server offers smista after login.
type IMAPProbe struct {
	// Has and Missing name the capabilities of interest (IDLE, CONDSTORE,
	// MOVE, UIDPLUS) the server has and lacks.
	Has, Missing []string
	// Keywords is true when mailbox accepts new keywords (PERMANENTFLAGS
	// holds \*), which the claims on a shared mailbox need.
	Keywords bool
}

// ProbeIMAP connects and logs in as s, reads the capabilities, selects
// mailbox and logs out, changing nothing. Its errors are DialIMAP's (wrong
// credentials wrap ErrAuthFailed), redacted the same way.
func ProbeIMAP(ctx context.Context, s ServerConfig, mailbox string) (IMAPProbe, error) {
	c, red, err := dialIMAP(ctx, s, nil)
	if err != nil {
		return IMAPProbe{}, red.err(err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	caps, err := c.Capability().Wait()
	if err != nil {
		return IMAPProbe{}, red.err(fmt.Errorf("imap %s: capability: %w", s.Addr(), err))
	}
	var p IMAPProbe
	for _, cp := range imapCapabilities {
		// IMAP4rev2 includes MOVE and UIDPLUS.
		has := caps.Has(cp) || (caps.Has(imap.CapIMAP4rev2) && (cp == imap.CapMove || cp == imap.CapUIDPlus))
		if has {
			p.Has = append(p.Has, string(cp))
		} else {
			p.Missing = append(p.Missing, string(cp))
		}
	}
	// Read-write: EXAMINE answers an empty PERMANENTFLAGS (RFC 3501
	// 6.3.2). Nothing is stored; only \Recent may be cleared.
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		return p, red.err(fmt.Errorf("imap %s: select %s: %w", s.Addr(), mailbox, err))
	}
	p.Keywords = slices.Contains(sel.PermanentFlags, imap.FlagWildcard)
	c.Logout().Wait()
	return p, nil
}

// ProbeSMTP connects to s, says EHLO, authenticates when a username is
// set, and quits: no mail is sent. Wrong credentials give an error that
// wraps ErrAuthFailed; the password or token never appears in it.
func ProbeSMTP(ctx context.Context, s ServerConfig) error {
	var creds credentials
	if s.Username != "" {
		c, err := s.credentials(ctx)
		if err != nil {
			return fmt.Errorf("smtp %s: %w", s.Addr(), err)
		}
		creds = c
	}
	return creds.redact.err(probeSMTP(ctx, s, creds))
}

func probeSMTP(ctx context.Context, s ServerConfig, creds credentials) error {
	conn, err := s.dialConn(ctx)
	if err != nil {
		return fmt.Errorf("smtp connect %s: %w", s.Addr(), err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *smtp.Client
	if s.TLS == TLSStart {
		if c, err = smtp.NewClientStartTLS(conn, s.tlsConfig()); err != nil {
			conn.Close()
			return fmt.Errorf("smtp starttls %s: %w", s.Addr(), err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp ehlo %s: %w", s.Addr(), err)
	}
	if s.Username != "" {
		if err := c.Auth(creds.sasl); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) && (se.Code == 535 || se.Code == 534) {
				return fmt.Errorf("smtp %s as %s: %w (server said: %d %s)", s.Addr(), s.Username, ErrAuthFailed, se.Code, se.Message)
			}
			return fmt.Errorf("smtp auth %s as %s: %w", s.Addr(), s.Username, err)
		}
	}
	return c.Quit()
}
