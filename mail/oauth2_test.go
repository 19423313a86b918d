package mail_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"smista/mail"
	"smista/mail/mailtest"
)

// browser plays the user's browser: it opens the authorization URL and
// follows the redirect back to the loopback listener.
func browser(t *testing.T) func(string) error {
	return func(u string) error {
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}

func client(a *mailtest.AuthServer) *mail.OAuth2Client {
	return &mail.OAuth2Client{Endpoint: a.Endpoint(), ClientID: a.ClientID}
}

func TestLoopbackLoginWithPKCE(t *testing.T) {
	a := mailtest.StartAuthServer("cid-123")
	defer a.Close()
	a.ClientSecret = "csecret"
	c := client(a)
	c.ClientSecret = mail.Secret{Cmd: "echo csecret"}
	var opened string
	tok, err := c.LoopbackLogin(context.Background(), "me@example.com", func(u string) error {
		opened = u
		return browser(t)(u)
	})
	if err != nil {
		t.Fatalf("loopback login: %v", err)
	}
	if pkce, _, _ := a.Stats(); pkce != 1 || !a.Valid(tok.Access) || tok.Refresh == "" {
		t.Fatalf("pkce exchanges %d, token %+v: want one PKCE-checked exchange and a valid token", pkce, tok)
	}
	q, _ := url.ParseQuery(opened[strings.Index(opened, "?")+1:])
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		!strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") || q.Get("login_hint") != "me@example.com" {
		t.Fatalf("authorization URL %s: want an S256 challenge, a 127.0.0.1 redirect and the login hint", opened)
	}
	if strings.Contains(opened, "csecret") {
		t.Fatal("the client secret went into the browser's URL")
	}
}

// The fake server really checks the verifier: a code exchanged with
// another verifier than the challenge's is refused.
func TestAuthServerChecksVerifier(t *testing.T) {
	a := mailtest.StartAuthServer("cid")
	defer a.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	exchange := func(verifier string) int {
		q := url.Values{"client_id": {"cid"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/"},
			"code_challenge_method": {"S256"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "state": {"s"}}
		resp, err := noFollow.Get(a.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "client_id": {"cid"},
			"redirect_uri": {"http://127.0.0.1:9/"}, "code_verifier": {verifier}}
		resp, err = http.PostForm(a.URL+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := exchange("not-the-verifier-not-the-verifier-not-the-verifier"); st != http.StatusBadRequest {
		t.Fatalf("wrong verifier: status %d, want 400", st)
	}
	// RFC 7636 appendix B: this verifier's S256 challenge is the one above.
	if st := exchange("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); st != http.StatusOK {
		t.Fatalf("right verifier: status %d, want 200", st)
	}
	if pkce, _, _ := a.Stats(); pkce != 1 {
		t.Fatalf("%d exchanges passed the PKCE check, want 1", pkce)
	}
}

func TestLoopbackLoginRefusals(t *testing.T) {
	a := mailtest.StartAuthServer("cid")
	defer a.Close()
	c := client(a)

	// A redirect whose state is not the one sent is refused.
	_, err := c.LoopbackLogin(context.Background(), "", func(u string) error {
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		resp, err := http.Get(q.Get("redirect_uri") + "?code=stolen&state=forged")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("forged state: err = %v", err)
	}

	a.Deny()
	if _, err := c.LoopbackLogin(context.Background(), "", browser(t)); !errors.Is(err, mail.ErrAccessDenied) {
		t.Fatalf("declined: err = %v, want ErrAccessDenied", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.LoopbackLogin(ctx, "", func(string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("no browser, ctx cancelled: err = %v", err)
	}
}

func TestDeviceLoginHonoursSlowDown(t *testing.T) {
	a := mailtest.StartAuthServer("cid")
	defer a.Close()
	a.DeviceAnswers("authorization_pending", "slow_down", "authorization_pending", "slow_down")
	c := client(a)
	var waits []time.Duration
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	c.Sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		now = now.Add(d)
		return nil
	}
	var shown mail.DeviceCode
	tok, err := c.DeviceLogin(context.Background(), func(d mail.DeviceCode) { shown = d })
	if err != nil {
		t.Fatalf("device login: %v", err)
	}
	if !a.Valid(tok.Access) || shown.UserCode != "WDJB-MJHT" || !strings.Contains(shown.String(), "/activate") {
		t.Fatalf("token %+v, shown %+v", tok, shown)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second, 15 * time.Second}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits between polls %v, want %v (5 s more after each slow_down)", waits, want)
	}
	if _, _, polls := a.Stats(); polls != 5 {
		t.Fatalf("%d polls, want 5", polls)
	}

	a.DeviceAnswers("authorization_pending", "access_denied")
	if _, err := c.DeviceLogin(context.Background(), func(mail.DeviceCode) {}); !errors.Is(err, mail.ErrAccessDenied) {
		t.Fatalf("declined: %v", err)
	}
	// A user who never answers: the code expires (900 s) and polling stops.
	a.DeviceAnswers(slices.Repeat([]string{"authorization_pending"}, 1000)...)
	_, err = c.DeviceLogin(context.Background(), func(mail.DeviceCode) {})
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("never answered: %v", err)
	}
}

// memStore is a TokenStore in memory that counts saves.
type memStore struct {
	mu    sync.Mutex
	toks  map[string]mail.Token
	saves int
}

func (m *memStore) LoadToken(_ context.Context, acct string) (mail.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.toks[acct]
	if !ok {
		return t, mail.ErrNoToken
	}
	return t, nil
}

func (m *memStore) SaveToken(_ context.Context, acct string, t mail.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.toks[acct] = t
	m.saves++
	return nil
}

func (m *memStore) Where() string { return "memory" }

func TestOAuth2SourceRefreshesBeforeExpiryAndReportsRevocation(t *testing.T) {
	a := mailtest.StartAuthServer("cid")
	defer a.Close()
	srv, err := mailtest.StartIMAP("me@example.com", "unused")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.EnableOAuthCheck(a.Valid)

	c := client(a)
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	first, err := c.DeviceLogin(context.Background(), func(mail.DeviceCode) {})
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{toks: map[string]mail.Token{"work": first}}
	src := &mail.OAuth2Source{Client: c, Store: store, Account: "work"}
	cfg := srv.Config()
	cfg.Auth, cfg.OAuth2 = mail.AuthOAuth2, src

	login := func() error {
		cl, err := mail.DialIMAP(context.Background(), cfg, nil)
		if err == nil {
			cl.Close()
		}
		return err
	}
	if err := login(); err != nil {
		t.Fatalf("login with the stored token: %v", err)
	}
	if _, refreshes, _ := a.Stats(); refreshes != 0 {
		t.Fatalf("%d refreshes of a fresh token", refreshes)
	}
	// 59 minutes on: one minute before expiry, inside the 2-minute skew.
	now = now.Add(59 * time.Minute)
	if err := login(); err != nil {
		t.Fatalf("login after refresh: %v", err)
	}
	if _, refreshes, _ := a.Stats(); refreshes != 1 || store.saves != 1 || store.toks["work"].Access == first.Access {
		t.Fatalf("refreshes %d, saves %d: want the token refreshed before expiry and saved", refreshes, store.saves)
	}

	a.RevokeAll()
	now = now.Add(2 * time.Hour)
	err = login()
	if !errors.Is(err, mail.ErrTokenRevoked) {
		t.Fatalf("revoked: err = %v, want ErrTokenRevoked", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "run 'smista init --reauth work'") || strings.Contains(msg, "\n") ||
		strings.Contains(msg, "rt-") || strings.Contains(msg, "at-") {
		t.Fatalf("revoked: %q: want one line naming the command and no token", msg)
	}

	empty := &mail.OAuth2Source{Client: c, Store: &memStore{toks: map[string]mail.Token{}}, Account: "new"}
	if _, err := empty.AccessToken(context.Background()); !errors.Is(err, mail.ErrNoToken) ||
		!strings.Contains(err.Error(), "smista init --reauth new") {
		t.Fatalf("no token: %v", err)
	}
}

func TestFileTokenStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st := mail.OpenTokenStore(context.Background(), dir, func(string) string { return "" }, nil)
	if _, err := st.LoadToken(context.Background(), "work"); !errors.Is(err, mail.ErrNoToken) {
		t.Fatalf("empty store: %v", err)
	}
	tok := mail.Token{Access: "at-secret", Refresh: "rt-secret", Expiry: time.Unix(1e9, 0).UTC()}
	if err := st.SaveToken(context.Background(), "work/../x y", tok); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoadToken(context.Background(), "work/../x y")
	if err != nil || got != tok {
		t.Fatalf("load = %+v, %v", got, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "oauth2", "*"))
	if len(files) != 1 {
		t.Fatalf("files %v: want one, inside the store's folder", files)
	}
	fi, _ := os.Stat(files[0])
	di, _ := os.Stat(filepath.Join(dir, "oauth2"))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes file %o dir %o, want 600 and 700", fi.Mode().Perm(), di.Mode().Perm())
	}
	if !strings.Contains(st.Where(), "file ") {
		t.Fatalf("Where = %q", st.Where())
	}
}

// The keyring is used when a Secret Service answers, and skipped for the
// file when none does (this machine has none: no D-Bus session).
func TestOpenTokenStoreKeyringOrFallback(t *testing.T) {
	bin := t.TempDir()
	items := t.TempDir()
	// A stand-in for libsecret's secret-tool that keeps items in files.
	fake := `#!/bin/sh
case "$1" in
store) shift; while [ "$1" = --label ]; do shift 2; done; cat > "` + items + `/$4" ;;
lookup) [ "$4" = probe ] && exit 1; [ -f "` + items + `/$5" ] || exit 1; cat "` + items + `/$5" ;;
esac
`
	broken := "#!/bin/sh\necho 'secret-tool: Cannot autolaunch D-Bus without X11 $DISPLAY' >&2\nexit 1\n"
	for name, tc := range map[string]struct {
		script, dbus string
		keyring      bool
	}{
		"no D-Bus session":         {script: fake, dbus: "", keyring: false},
		"no Secret Service answer": {script: broken, dbus: "unix:path=/nonexistent", keyring: false},
		"a keyring answers":        {script: fake, dbus: "unix:path=/run/user/0/bus", keyring: true},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(bin, strings.ReplaceAll(name, " ", "-"))
			if err := os.WriteFile(p, []byte(tc.script), 0o755); err != nil {
				t.Fatal(err)
			}
			env := func(k string) string {
				if k == "DBUS_SESSION_BUS_ADDRESS" {
					return tc.dbus
				}
				return ""
			}
			data := t.TempDir()
			st := mail.OpenTokenStore(context.Background(), data, env, func(string) (string, error) { return p, nil })
			if got := strings.HasPrefix(st.Where(), "keyring"); got != tc.keyring {
				t.Fatalf("store %q, want keyring=%v", st.Where(), tc.keyring)
			}
			tok := mail.Token{Access: "a", Refresh: "r"}
			if err := st.SaveToken(context.Background(), "work", tok); err != nil {
				t.Fatal(err)
			}
			if got, err := st.LoadToken(context.Background(), "work"); err != nil || got.Refresh != "r" {
				t.Fatalf("load: %+v %v", got, err)
			}
			_, err := os.Stat(filepath.Join(data, "oauth2"))
			if tc.keyring == (err == nil) {
				t.Fatalf("token file present = %v with keyring = %v", err == nil, tc.keyring)
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	os.WriteFile(p, []byte("  cs-value\n"), 0o600)
	if v, err := (mail.Secret{File: p}).Resolve(context.Background(), "client_secret", nil); err != nil || v != "cs-value" {
		t.Fatalf("0600 file: %q %v", v, err)
	}
	os.Chmod(p, 0o644)
	_, err := (mail.Secret{File: p}).Resolve(context.Background(), "client_secret", nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "cs-value") {
		t.Fatalf("0644 file: %v", err)
	}
}
