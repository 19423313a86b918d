package mailtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"

	"smista/mail"
)

// AuthServer is a fake OAuth2 authorization server on 127.0.0.1 for tests:
// the authorization endpoint (it approves at once and redirects back, as
// a user clicking "Allow" would), the token endpoint (authorization code
// with PKCE checked, refresh, device code) and the device authorization
// endpoint. Access tokens it issued and has not revoked pass Valid, which
// an IMAPServer can use to check logins.
type AuthServer struct {
	URL          string
	ClientID     string
	ClientSecret string // required at the token endpoint when set
	// ExpiresIn is the access token lifetime it announces (default 3600).
	ExpiresIn int

	srv *httptest.Server

	mu        sync.Mutex
	n         int
	codes     map[string]authCode
	access    map[string]bool
	refresh   map[string]bool
	deny      bool
	device    []string // the answers to the next device-flow polls
	devPolls  int
	pkceOK    int
	refreshes int
}

type authCode struct{ challenge, redirect string }

// StartAuthServer starts a fake authorization server for clientID.
func StartAuthServer(clientID string) *AuthServer {
	a := &AuthServer{ClientID: clientID, ExpiresIn: 3600, codes: map[string]authCode{},
		access: map[string]bool{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", a.authorize)
	mux.HandleFunc("POST /token", a.token)
	mux.HandleFunc("POST /device", a.deviceCode)
	a.srv = httptest.NewServer(mux)
	a.URL = a.srv.URL
	return a
}

// Close stops the server.
func (a *AuthServer) Close() { a.srv.Close() }

// Endpoint returns the server's endpoints with one scope.
func (a *AuthServer) Endpoint() mail.OAuth2Endpoint {
	return mail.OAuth2Endpoint{AuthURL: a.URL + "/authorize", TokenURL: a.URL + "/token",
		DeviceURL: a.URL + "/device", Scopes: []string{"mail"}}
}

// Deny makes the authorization endpoint answer access_denied.
func (a *AuthServer) Deny() { a.mu.Lock(); a.deny = true; a.mu.Unlock() }

// DeviceAnswers sets what the next device-flow polls get before the token:
// "authorization_pending", "slow_down", "access_denied"...
func (a *AuthServer) DeviceAnswers(codes ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.device = codes
}

// RevokeAll revokes every refresh and access token issued so far.
func (a *AuthServer) RevokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.refresh)
	clear(a.access)
}

// Valid reports whether token is an access token issued and not revoked.
func (a *AuthServer) Valid(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.access[token]
}

// Stats returns how many code exchanges passed the PKCE check, how many
// refreshes were granted and how many device-flow polls arrived.
func (a *AuthServer) Stats() (pkceOK, refreshes, devicePolls int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pkceOK, a.refreshes, a.devPolls
}

func (a *AuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" {
		http.Error(w, "redirect_uri must be a loopback http URL", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != a.ClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "want client_id, response_type=code and an S256 code_challenge", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	a.mu.Lock()
	if a.deny {
		back.Set("error", "access_denied")
	} else {
		a.n++
		code := fmt.Sprintf("code-%d", a.n)
		a.codes[code] = authCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		back.Set("code", code)
	}
	a.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (a *AuthServer) deviceCode(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("client_id") != a.ClientID {
		oauthFail(w, "invalid_client")
		return
	}
	writeJSON(w, map[string]any{"device_code": "dev-1", "user_code": "WDJB-MJHT",
		"verification_uri": a.URL + "/activate", "expires_in": 900, "interval": 5})
}

func (a *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("client_id") != a.ClientID || r.PostFormValue("client_secret") != a.ClientSecret {
		oauthFail(w, "invalid_client")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		c, ok := a.codes[r.PostFormValue("code")]
		delete(a.codes, r.PostFormValue("code")) // a code is good once
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || c.redirect != r.PostFormValue("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oauthFail(w, "invalid_grant")
			return
		}
		a.pkceOK++
		a.issue(w, "")
	case "refresh_token":
		rt := r.PostFormValue("refresh_token")
		if !a.refresh[rt] {
			oauthFail(w, "invalid_grant")
			return
		}
		a.refreshes++
		a.issue(w, rt)
	case "urn:ietf:params:oauth:grant-type:device_code":
		a.devPolls++
		if len(a.device) > 0 {
			code := a.device[0]
			a.device = a.device[1:]
			oauthFail(w, code)
			return
		}
		a.issue(w, "")
	default:
		oauthFail(w, "unsupported_grant_type")
	}
}

// issue answers with a fresh access token and, unless refreshing with
// keep, a fresh refresh token. The caller holds a.mu.
func (a *AuthServer) issue(w http.ResponseWriter, keep string) {
	a.n++
	at := fmt.Sprintf("at-%d", a.n)
	a.access[at] = true
	out := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": a.ExpiresIn}
	if keep == "" {
		rt := fmt.Sprintf("rt-%d", a.n)
		a.refresh[rt] = true
		out["refresh_token"] = rt
	}
	writeJSON(w, out)
}

func oauthFail(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
