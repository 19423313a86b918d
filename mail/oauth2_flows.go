package mail

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoopbackLogin signs in with the authorization code flow, PKCE (S256) and
// a loopback redirect (RFC 8252 7.3): it listens on 127.0.0.1 on a free
// port, hands the authorization URL to open (which starts a browser or
// prints it), waits for the browser to come back with the code, checks the
// state and exchanges the code with the verifier. It returns
// ErrAccessDenied when the user declines, and ctx's error when ctx ends
// first.
func (c *OAuth2Client) LoopbackLogin(ctx context.Context, loginHint string, open func(authURL string) error) (Token, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Token{}, fmt.Errorf("oauth2 loopback: %w", err)
	}
	redirect := "http://" + ln.Addr().String() + "/"
	verifier, challenge := pkce()
	state := rand.Text()

	done := make(chan loopbackResult, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: loopbackHandler(state, done)}
	var wg sync.WaitGroup
	defer wg.Wait() // after Close (deferred below, so run first) ends Serve
	wg.Go(func() { srv.Serve(ln) })
	defer srv.Close()

	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {redirect},
		"scope":                 {strings.Join(c.Endpoint.Scopes, " ")},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		// offline access: Google sends a refresh token only when asked.
		"access_type": {"offline"},
		"prompt":      {"consent"},
	}
	if loginHint != "" {
		q.Set("login_hint", loginHint)
	}
	authURL := c.Endpoint.AuthURL + sep(c.Endpoint.AuthURL) + q.Encode()
	if err := open(authURL); err != nil {
		return Token{}, fmt.Errorf("oauth2 loopback: %w", err)
	}
	var res loopbackResult
	select {
	case <-ctx.Done():
		return Token{}, fmt.Errorf("oauth2 loopback: waiting for the browser: %w", ctx.Err())
	case res = <-done:
	}
	if res.err != nil {
		return Token{}, res.err
	}
	tok, err := c.token(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {res.code},
		"redirect_uri":  {redirect},
		"code_verifier": {verifier},
	})
	if err != nil {
		return Token{}, fmt.Errorf("oauth2 code exchange: %w", err)
	}
	if tok.Refresh == "" {
		return Token{}, errors.New("oauth2 code exchange: no refresh token in the answer (the provider needs offline access granted)")
	}
	return tok, nil
}

// loopbackResult is what the browser brought back: a code, or why not.
type loopbackResult struct {
	code string
	err  error
}

// loopbackHandler answers the browser's return to the loopback redirect:
// it checks the state, sends the code (or the refusal) on done, and tells
// the user to go back to the terminal.
func loopbackHandler(state string, done chan<- loopbackResult) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") == "" && q.Get("code") == "" && q.Get("error") == "" {
			http.NotFound(w, r) // a favicon or a stray request
			return
		}
		var res loopbackResult
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			res.err = errors.New("oauth2 loopback: the answer's state does not match (a stale or forged redirect)")
		case q.Get("error") == "access_denied":
			res.err = fmt.Errorf("oauth2 loopback: %w", ErrAccessDenied)
		case q.Get("error") != "":
			res.err = fmt.Errorf("oauth2 loopback: %w", &oauthError{Code: q.Get("error"), Description: q.Get("error_description")})
		case q.Get("code") == "":
			res.err = errors.New("oauth2 loopback: the answer carries no code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, "smista: the sign-in did not complete; see the terminal.")
		} else {
			fmt.Fprintln(w, "smista: signed in. You can close this tab and return to the terminal.")
		}
		select {
		case done <- res:
		default: // a second answer after the first: ignored
		}
	})
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// DeviceCode is what the user is shown during the device flow: where to
// go and what to type there.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	// Complete is the URI with the code already in it, when the provider
	// sends one.
	Complete  string
	ExpiresIn time.Duration
}

// deviceResponse is the device authorization endpoint's answer (RFC 8628
// 3.2; Google spells the URI verification_url).
type deviceResponse struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	VerificationURL string `json:"verification_url"`
	Complete        string `json:"verification_uri_complete"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

// DeviceLogin signs in with the device authorization grant (RFC 8628),
// for machines where no browser runs: it asks for a code, hands it to
// show, and polls the token endpoint at the server's interval, five
// seconds slower at every slow_down (3.5). It returns ErrAccessDenied when
// the user declines, and an error when the code expires first.
func (c *OAuth2Client) DeviceLogin(ctx context.Context, show func(DeviceCode)) (Token, error) {
	if c.Endpoint.DeviceURL == "" {
		return Token{}, errors.New("oauth2 device: this provider has no device flow; use the browser sign-in")
	}
	var dr deviceResponse
	if err := c.post(ctx, c.Endpoint.DeviceURL, url.Values{"scope": {strings.Join(c.Endpoint.Scopes, " ")}}, &dr); err != nil {
		return Token{}, fmt.Errorf("oauth2 device: %w", err)
	}
	if dr.VerificationURI == "" {
		dr.VerificationURI = dr.VerificationURL
	}
	if dr.DeviceCode == "" || dr.UserCode == "" || dr.VerificationURI == "" {
		return Token{}, errors.New("oauth2 device: the answer lacks device_code, user_code or verification_uri")
	}
	show(DeviceCode{UserCode: dr.UserCode, VerificationURI: dr.VerificationURI, Complete: dr.Complete,
		ExpiresIn: time.Duration(dr.ExpiresIn) * time.Second})
	interval := time.Duration(dr.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 3.2: the default
	}
	deadline := c.now().Add(time.Duration(dr.ExpiresIn) * time.Second)
	if dr.ExpiresIn <= 0 {
		deadline = c.now().Add(15 * time.Minute)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dr.DeviceCode}}
	for {
		if err := c.sleep(ctx, interval); err != nil {
			return Token{}, fmt.Errorf("oauth2 device: %w", err)
		}
		if !c.now().Before(deadline) {
			return Token{}, errors.New("oauth2 device: the code expired before the sign-in completed; run the command again")
		}
		tok, err := c.token(ctx, cloneForm(form))
		var oe *oauthError
		switch {
		case err == nil:
			if tok.Refresh == "" {
				return Token{}, errors.New("oauth2 device: no refresh token in the answer")
			}
			return tok, nil
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
		case errors.As(err, &oe) && oe.Code == "slow_down":
			interval += 5 * time.Second
		case errors.As(err, &oe) && oe.Code == "access_denied":
			return Token{}, fmt.Errorf("oauth2 device: %w", ErrAccessDenied)
		case errors.As(err, &oe) && oe.Code == "expired_token":
			return Token{}, errors.New("oauth2 device: the code expired before the sign-in completed; run the command again")
		default:
			return Token{}, fmt.Errorf("oauth2 device: %w", err)
		}
	}
}

// cloneForm copies v: post adds the client's fields to the form it gets.
func cloneForm(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// String is the line that tells the user what to do.
func (d DeviceCode) String() string {
	s := "open " + d.VerificationURI + " and enter the code " + d.UserCode
	if d.ExpiresIn > 0 {
		s += " (valid " + strconv.Itoa(int(d.ExpiresIn.Minutes())) + " min)"
	}
	return s
}
