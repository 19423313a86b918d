package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors of the OAuth2 flows.
var (
	// ErrTokenRevoked is returned when the authorization server refuses
	// the stored refresh token (invalid_grant): the user must sign in
	// again.
	ErrTokenRevoked = errors.New("the OAuth2 sign-in was revoked or has expired")
	// ErrNoToken is returned when no token is stored for an account yet.
	ErrNoToken = errors.New("no OAuth2 token stored")
	// ErrAccessDenied is returned when the user declines the sign-in.
	ErrAccessDenied = errors.New("the sign-in was declined")
)

// OAuth2Endpoint is where an authorization server takes requests: the
// browser's authorization URL, the token URL and the device authorization
// URL (RFC 8628; "" when the provider has none), and the scopes smista
// asks for.
type OAuth2Endpoint struct {
	AuthURL   string
	TokenURL  string
	DeviceURL string
	Scopes    []string
}

// OAuth2Client runs the OAuth2 flows of one account's provider with the
// user's own client id (and, for providers that want one, client secret).
// Its errors never hold a token, a code or the client secret.
type OAuth2Client struct {
	Endpoint OAuth2Endpoint
	ClientID string
	// ClientSecret is optional: public clients (Microsoft's) have none.
	ClientSecret Secret
	// Getenv reads the environment for ClientSecret.Env.
	Getenv func(string) string
	// HTTP is the client for the token and device endpoints (nil:
	// a client with a 30 s timeout).
	HTTP *http.Client
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Sleep waits between device-flow polls (nil: a timer honouring ctx).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Token is what a sign-in yields: a short-lived access token, the
// refresh token that renews it, and when the access token expires.
type Token struct {
	Access  string    `json:"access_token"`
	Refresh string    `json:"refresh_token"`
	Expiry  time.Time `json:"expiry"`
}

// tokenResponse is a token endpoint's answer (RFC 6749 5.1 and 5.2).
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
	Error        string      `json:"error"`
	Description  string      `json:"error_description"`
}

// oauthError is an error answer of the token or device endpoint.
type oauthError struct {
	Code, Description string
	Status            int
}

func (e *oauthError) Error() string {
	s := "oauth2: " + e.Code
	if e.Description != "" {
		s += " (" + foldLine(e.Description, 160) + ")"
	}
	return s
}

func (c *OAuth2Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *OAuth2Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (c *OAuth2Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Refresh trades refresh for a new access token. A refused refresh token
// (invalid_grant) yields ErrTokenRevoked. When the server sends no new
// refresh token the old one is kept.
func (c *OAuth2Client) Refresh(ctx context.Context, refresh string) (Token, error) {
	tok, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if err != nil {
		var oe *oauthError
		if errors.As(err, &oe) && oe.Code == "invalid_grant" {
			return Token{}, fmt.Errorf("oauth2 refresh: %w", ErrTokenRevoked)
		}
		return Token{}, fmt.Errorf("oauth2 refresh: %w", err)
	}
	if tok.Refresh == "" {
		tok.Refresh = refresh
	}
	return tok, nil
}

// token posts form (plus the client's id and secret) to the token
// endpoint and decodes the answer.
func (c *OAuth2Client) token(ctx context.Context, form url.Values) (Token, error) {
	var tr tokenResponse
	if err := c.post(ctx, c.Endpoint.TokenURL, form, &tr); err != nil {
		return Token{}, err
	}
	if tr.AccessToken == "" {
		return Token{}, errors.New("oauth2: the token endpoint sent no access_token")
	}
	tok := Token{Access: tr.AccessToken, Refresh: tr.RefreshToken}
	if secs, err := strconv.ParseInt(string(tr.ExpiresIn), 10, 64); err == nil && secs > 0 {
		tok.Expiry = c.now().Add(time.Duration(secs) * time.Second)
	}
	return tok, nil
}

// post sends an application/x-www-form-urlencoded request with the
// client's credentials and decodes a JSON answer into out; an OAuth2
// error answer becomes an *oauthError.
func (c *OAuth2Client) post(ctx context.Context, endpoint string, form url.Values, out any) error {
	form.Set("client_id", c.ClientID)
	if !c.ClientSecret.IsZero() {
		secret, err := c.ClientSecret.Resolve(ctx, "client_secret", c.Getenv)
		if err != nil {
			return err
		}
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oauth2: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// url.Error holds the URL only, never the form: no secret in it.
		return fmt.Errorf("oauth2: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("oauth2: read answer: %w", err)
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return &oauthError{Code: e.Error, Description: e.Description, Status: resp.StatusCode}
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("oauth2: %s answered %s", endpoint, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("oauth2: %s: not JSON: %w", endpoint, err)
	}
	return nil
}

// pkce returns a fresh RFC 7636 code verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = rand.Text() + rand.Text() // 52 base32 characters: 260 bits
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// foldLine folds s onto one line of at most n bytes.
func foldLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
