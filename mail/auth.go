package mail

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-sasl"
)

// Auth mechanisms accepted in ServerConfig.Auth.
const (
	AuthPlain       = "plain"
	AuthXOAUTH2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
	// AuthOAuth2 is smista's built-in OAuth2: XOAUTH2 with the access
	// token of ServerConfig.OAuth2.
	AuthOAuth2 = "oauth2"
)

// AccessTokener hands out a valid OAuth2 access token (an *OAuth2Source).
type AccessTokener interface {
	AccessToken(ctx context.Context) (string, error)
}

// credentials is a resolved login: the SASL client, for plain auth the
// password (for servers offering only LOGIN), and the redactor of every
// form of the secret a server may echo. It is never printed.
type credentials struct {
	sasl     sasl.Client
	password string
	redact   redactor
}

// credentials resolves s's password or token into a SASL client.
func (s ServerConfig) credentials(ctx context.Context) (credentials, error) {
	switch s.Auth {
	case "", AuthPlain:
		pw, err := s.Password.Resolve(ctx, "password", s.Getenv)
		if err != nil {
			return credentials{}, err
		}
		return credentials{sasl: sasl.NewPlainClient("", s.Username, pw), password: pw,
			redact: newRedactor([]string{pw}, initialResponse(sasl.NewPlainClient("", s.Username, pw)))}, nil
	case AuthXOAUTH2:
		tok, err := s.Token.Resolve(ctx, "token", s.Getenv)
		if err != nil {
			return credentials{}, err
		}
		c := &xoauth2Client{user: s.Username, token: tok}
		return credentials{sasl: c, redact: newRedactor([]string{tok}, initialResponse(c))}, nil
	case AuthOAuth2:
		if s.OAuth2 == nil {
			return credentials{}, errors.New(`auth "oauth2": no [account.oauth2] client configured`)
		}
		tok, err := s.OAuth2.AccessToken(ctx)
		if err != nil {
			return credentials{}, err
		}
		c := &xoauth2Client{user: s.Username, token: tok}
		return credentials{sasl: c, redact: newRedactor([]string{tok}, initialResponse(c))}, nil
	case AuthOAuthBearer:
		tok, err := s.Token.Resolve(ctx, "token", s.Getenv)
		if err != nil {
			return credentials{}, err
		}
		opts := &sasl.OAuthBearerOptions{Username: s.Username, Token: tok, Host: s.Host, Port: s.Port}
		return credentials{sasl: sasl.NewOAuthBearerClient(opts),
			redact: newRedactor([]string{tok}, initialResponse(sasl.NewOAuthBearerClient(opts)))}, nil
	default:
		return credentials{}, fmt.Errorf("auth %q: want plain, xoauth2, oauthbearer or oauth2", s.Auth)
	}
}

// initialResponse is what client sends first (base64-encoded on the
// wire), computed on a client of its own: a server may echo it.
func initialResponse(client sasl.Client) [][]byte {
	if _, ir, err := client.Start(); err == nil && len(ir) > 0 {
		return [][]byte{ir}
	}
	return nil
}

// xoauth2Client is Google's XOAUTH2 SASL mechanism (also accepted by
// Microsoft 365), which go-sasl does not ship: one initial response
// "user=U^Aauth=Bearer T^A^A"; on failure the server sends a JSON challenge
// that must be answered with an empty response before it reports NO.
type xoauth2Client struct {
	user, token string
}

// Start implements sasl.Client.
func (c *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next implements sasl.Client: the only challenge is the error report.
func (c *xoauth2Client) Next([]byte) ([]byte, error) { return []byte{}, nil }
