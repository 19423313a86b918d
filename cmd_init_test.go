package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/app/config"
	"smista/db"
	"smista/mail/mailtest"
	"smista/ui"
)

// noMX answers every MX lookup with "no such host": no DNS is asked.
type noMX struct{}

func (noMX) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// capture is a receiver that keeps every request, to verify afterwards
// with the secret "smista init" printed.
type capture struct {
	mu   sync.Mutex
	reqs []struct {
		h    http.Header
		body []byte
	}
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, struct {
		h    http.Header
		body []byte
	}{r.Header.Clone(), b})
}

// initEnv is a Main for "smista init" with every path in a temp folder.
type initEnv struct {
	dir, cfg string
	env      map[string]string
}

func newInitEnv(t *testing.T) *initEnv {
	dir := t.TempDir()
	return &initEnv{dir: dir, cfg: filepath.Join(dir, "conf", "config.toml"), env: map[string]string{
		"XDG_DATA_HOME": filepath.Join(dir, "data"), "HOME": dir,
	}}
}

func (e *initEnv) main(stdin string) (*Main, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Resolver: noMX{},
		Getenv: func(k string) string { return e.env[k] }, ConfigPath: e.cfg,
		DBPath: filepath.Join(e.dir, "smista.db")}, &out, &errb
}

func (e *initEnv) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, out, errb := e.main(stdin)
	code := m.Run(ctx, args)
	return code, out.String(), errb.String()
}

func seedIMAP(t *testing.T, user, pw string) *mailtest.IMAPServer {
	t.Helper()
	srv, err := mailtest.StartIMAP(user, pw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for i := range 3 {
		raw := fmt.Sprintf("From: c%d@example.org\r\nSubject: cannot log in %d\r\nMessage-ID: <init%d@example.org>\r\n\r\nThe login page fails.\r\n", i, i, i)
		if err := srv.Append("INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

func TestInitWithFlagsEndToEnd(t *testing.T) {
	const pw = "imap-and-smtp-pw"
	srv := seedIMAP(t, "agent@example.com", pw)
	sink := startSMTPWithAuth(t)
	sink.RequireAuth("agent@example.com", pw)
	rcv := &capture{}
	hs := httptest.NewServer(rcv)
	t.Cleanup(hs.Close)
	e := newInitEnv(t)
	e.env["SMISTA_TEST_PW"] = pw

	code, out, stderr := e.run(t, "", "init", "--address", "agent@example.com", "--name", "Support Desk",
		"--imap", srv.Addr+" insecure", "--smtp", sink.Addr+" insecure", "--password-env", "SMISTA_TEST_PW",
		"--endpoint", hs.URL+"/hook")
	if code != 0 {
		t.Fatalf("init: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	// The file: 0600, no secret, and it loads.
	b, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(e.cfg); fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %o, want 600", fi.Mode().Perm())
	}
	secret := secretRE.FindString(out)
	if secret == "" {
		t.Fatalf("no signing secret printed:\n%s", out)
	}
	if strings.Contains(string(b), pw) || strings.Contains(string(b), secret) || strings.Contains(string(b), "whsec_") {
		t.Fatalf("a secret went into the config:\n%s", b)
	}
	if _, err := config.Load(e.cfg, true); err != nil {
		t.Fatalf("the written config does not load: %v", err)
	}
	// The test event reached the receiver and verifies with the secret.
	rcv.mu.Lock()
	reqs := rcv.reqs
	rcv.mu.Unlock()
	if len(reqs) != 1 || !strings.Contains(out, "delivered: HTTP 200") {
		t.Fatalf("%d requests at the receiver, want the one test event\n%s", len(reqs), out)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(reqs[0].body, reqs[0].h); err != nil {
		t.Fatalf("the receiver cannot verify the test event: %v", err)
	}
	// The config syncs.
	code, out, stderr = e.run(t, "", "sync")
	if code != 0 || !strings.Contains(out, "3 new") {
		t.Fatalf("sync with the written config: exit %d\n%s\n%s", code, out, stderr)
	}
	// And a second init does not overwrite it.
	code, _, stderr = e.run(t, "", "init", "--address", "other@example.com", "--imap", srv.Addr+" insecure",
		"--smtp", sink.Addr+" insecure", "--password-env", "X")
	if code == 0 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "--force") {
		t.Fatalf("second init: exit %d, stderr %q", code, stderr)
	}
	if b2, _ := os.ReadFile(e.cfg); !bytes.Equal(b, b2) {
		t.Fatal("the second init changed the config")
	}
	d, err := db.Open(context.Background(), filepath.Join(e.dir, "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if eps, _ := d.Endpoints(context.Background()); len(eps) != 1 {
		t.Fatalf("%d endpoints stored, want 1", len(eps))
	}
}

func TestInitOAuth2EndToEnd(t *testing.T) {
	auth := mailtest.StartAuthServer("my-client-id")
	defer auth.Close()
	auth.ExpiresIn = 60 // inside the refresh skew: every use refreshes
	srv := seedIMAP(t, "ada@example.com", "unused")
	srv.EnableOAuthCheck(auth.Valid)
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e := newInitEnv(t)
	browse := func(m *Main) {
		m.OpenURL = func(u string) error {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
	}
	runM := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		m, out, errb := e.main("")
		browse(m)
		code := m.Run(ctx, args)
		return code, out.String(), errb.String()
	}
	code, out, stderr := runM("init", "--address", "ada@example.com", "--account", "work", "--auth", "oauth2",
		"--imap", srv.Addr+" insecure", "--smtp", sink.Addr+" insecure", "--client-id", "my-client-id",
		"--oauth2-auth-url", auth.URL+"/authorize", "--oauth2-token-url", auth.URL+"/token")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, stderr)
	}
	if pkce, _, _ := auth.Stats(); pkce != 1 || !strings.Contains(out, "signed in as ada@example.com") {
		t.Fatalf("PKCE exchanges %d\n%s", pkce, out)
	}
	tokFile := filepath.Join(e.dir, "data", "smista", "oauth2", "work.json")
	fi, err := os.Stat(tokFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v (want it 0600 in the data directory)", err)
	}
	cfgText, _ := os.ReadFile(e.cfg)
	tokText, _ := os.ReadFile(tokFile)
	for _, leak := range regexp.MustCompile(`(at|rt)-\d+`).FindAllString(string(tokText), -1) {
		if strings.Contains(string(cfgText), leak) || strings.Contains(out+stderr, leak) {
			t.Fatalf("token %s leaked into the config or the output", leak)
		}
	}
	if code, out, stderr := runM("sync"); code != 0 || !strings.Contains(out, "3 new") {
		t.Fatalf("sync with OAuth2: exit %d\n%s\n%s", code, out, stderr)
	}

	auth.RevokeAll()
	code, out, stderr = runM("sync")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(stderr, "run 'smista init --reauth work'") {
		t.Fatalf("sync after revocation: exit %d, stderr %q: want one line naming the fix", code, stderr)
	}
	if code, out, stderr := runM("init", "--reauth", "work"); code != 0 {
		t.Fatalf("reauth: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := runM("sync"); code != 0 {
		t.Fatalf("sync after reauth: exit %d\n%s\n%s", code, out, stderr)
	}
	_ = out
}

func TestInitPlainPrompts(t *testing.T) {
	const pw = "prompt-pw"
	srv := seedIMAP(t, "help@shop.example", pw)
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e := newInitEnv(t)
	e.env["SHOP_PW"] = pw
	answers := strings.Join([]string{
		"help@shop.example",    // address
		"",                     // account: the default (shop)
		"Shop Help",            // name
		"nonsense",             // IMAP: refused, asked again
		srv.Addr + " insecure", // IMAP
		sink.Addr + " insecure",
		"", // username: the address
		"", // auth: password (generic provider)
		"$SHOP_PW",
		"", // triage: offline
		"", // no endpoint
		"", // write: yes
	}, "\n") + "\n"
	code, out, stderr := e.run(t, answers, "init")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "✗ want host:port") || !strings.Contains(out, "account [shop]: \n") ||
		!strings.Contains(out, "Your email address: help@shop.example\n") {
		t.Fatalf("prompts:\n%s", out)
	}
	cfg, err := config.Load(e.cfg, true)
	if err != nil || cfg.Accounts[0].Name != "shop" || cfg.Accounts[0].IMAP.PasswordEnv != "SHOP_PW" {
		t.Fatalf("config %+v, %v", cfg.Accounts, err)
	}
	before, _ := os.ReadFile(e.cfg)
	// Run again: every default, so the last question (replace?) is "no".
	code, out, _ = e.run(t, "help@shop.example\n\n\n\n\n\n\n$SHOP_PW\n\n\n\n", "init")
	if after, _ := os.ReadFile(e.cfg); code != 0 || !bytes.Equal(before, after) || !strings.Contains(out, "nothing written") {
		t.Fatalf("an existing config was replaced without a yes (exit %d):\n%s", code, out)
	}
	// Input that ends early writes nothing.
	e2 := newInitEnv(t)
	code, _, stderr = e2.run(t, "x@y.example\n", "init")
	if _, err := os.Stat(e2.cfg); code == 0 || !errors.Is(err, os.ErrNotExist) || !strings.Contains(stderr, "input ended") {
		t.Fatalf("short input: exit %d, %q, file %v", code, stderr, err)
	}
}

// The form, driven key by key under teatest, then the same finish as
// every other way in: the config loads and syncs, the receiver verifies
// the test event.
func TestInitFormEndToEnd(t *testing.T) {
	const pw = "form-pw"
	srv := seedIMAP(t, "desk@form.example", pw)
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	rcv := &capture{}
	hs := httptest.NewServer(rcv)
	t.Cleanup(hs.Close)
	e := newInitEnv(t)
	e.env["FORM_PW"] = pw
	m, out, _ := e.main("")
	m.Now = time.Now
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	w := &ui.Wizard{Recognise: m.setup().Recognise, ConfigPath: e.cfg}
	f := ui.NewInitForm(ctx, w)
	tm := teatest.NewTestModel(t, f, teatest.WithInitialTermSize(100, 30))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	// answer replaces the filled-in default with text ("" keeps it). Keys
	// are handled in order; only the address's provider lookup runs in
	// the background, so the test waits for its result alone.
	answer := func(text string) {
		if text != "" {
			tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
			tm.Type(text)
		}
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	}
	wait("Your email address")
	answer("desk@form.example")
	wait("guessed")
	answer("")          // account: form
	answer("Form Desk") // name
	answer("no-port-here")
	answer(srv.Addr + " insecure")
	answer(sink.Addr + " insecure")
	answer("")         // login: the address
	answer("")         // password
	answer("$FORM_PW") // password source
	answer("")         // offline
	answer(hs.URL + "/hook")
	answer("") // write: yes
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	ans, err := f.Result()
	if err != nil {
		t.Fatal(err)
	}
	if ans.Setup.IMAP.Host != "127.0.0.1" || ans.Setup.Account != "form" || ans.Setup.Name != "Form Desk" || ans.Setup.PasswordEnv != "FORM_PW" || !ans.Write {
		t.Fatalf("answers %+v", ans)
	}
	if err := m.finishInit(ctx, e.cfg, false, ans); err != nil {
		t.Fatalf("finish: %v\n%s", err, out)
	}
	secret := secretRE.FindString(out.String())
	rcv.mu.Lock()
	reqs := rcv.reqs
	rcv.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("secret %v, %d requests\n%s", err, len(reqs), out)
	}
	if err := wh.Verify(reqs[0].body, reqs[0].h); err != nil {
		t.Fatalf("the receiver cannot verify the test event: %v", err)
	}
	if code, sout, serr := e.run(t, "", "sync"); code != 0 || !strings.Contains(sout, "3 new") {
		t.Fatalf("sync: exit %d\n%s\n%s", code, sout, serr)
	}
}

// Esc leaves the form without writing anything; on an existing file the
// last question's default is "no".
func TestInitFormCancelAndExisting(t *testing.T) {
	e := newInitEnv(t)
	w := &ui.Wizard{Recognise: func(context.Context, string) (config.Provider, string, error) {
		p, _ := config.ProviderByID("fastmail")
		return p, "domain", nil
	}, ConfigPath: e.cfg, ConfigExists: true}
	f := ui.NewInitForm(context.Background(), w)
	tm := teatest.NewTestModel(t, f, teatest.WithInitialTermSize(100, 30))
	tm.Type("me@fastmail.com")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Fastmail (domain)")) },
		teatest.WithDuration(10*time.Second))
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if _, err := f.Result(); !errors.Is(err, ui.ErrCancelled) {
		t.Fatalf("esc: %v, want ErrCancelled", err)
	}

	f = ui.NewInitForm(context.Background(), w)
	tm = teatest.NewTestModel(t, f, teatest.WithInitialTermSize(100, 30))
	tm.Type("me@fastmail.com")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("short name")) },
		teatest.WithDuration(10*time.Second))
	for _, v := range []string{"", "", "", "", "", "", "$PW", "", "", ""} {
		if v != "" {
			tm.Type(v)
		}
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	ans, err := f.Result()
	if err != nil || ans.Write || ans.Setup.IMAP.Host != "imap.fastmail.com" {
		t.Fatalf("existing file: %+v %v: want the fastmail defaults and no write without a yes", ans, err)
	}
}
