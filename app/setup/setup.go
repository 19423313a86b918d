// Package setup runs the steps of "smista init" once its questions are
// answered: writing the configuration, the OAuth2 sign-in (and a later
// one, --reauth), the first login to the mailbox, and the endpoint with
// its test event. It prints nothing on its own: each step it takes goes
// to its caller's Progress callback, for a front end to show.
package setup

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"time"

	"smista/app"
	"smista/app/config"
	"smista/mail"
)

// Env is what the steps need from their caller.
type Env struct {
	// Getenv reads the environment: passwords, tokens' home, DISPLAY.
	Getenv func(string) string
	// Now is the clock (the written file's header).
	Now func() time.Time
	// Progress receives each step as it is taken (nil: none is shown).
	// Its text is untrusted where it came from a server.
	Progress func(Step)
	// Resolver looks MX records up (nil: the system's resolver).
	Resolver config.MXResolver
	// OpenURL shows an OAuth2 authorization URL to the user (nil: report
	// it as an OpenURL step and start a browser where one runs).
	OpenURL func(url string) error
	// OpenApp opens the App on a configuration's store, for the endpoint
	// step; the caller of Finish closes nothing, Finish closes it.
	OpenApp func(ctx context.Context, cfg config.Config) (*app.App, error)
}

// report hands s to e.Progress, when set.
func (e Env) report(s Step) {
	if e.Progress != nil {
		e.Progress(s)
	}
}

// Finish writes s as the configuration file at path (replacing one there
// only when replace), signs its account in when it uses OAuth2, logs in to
// its mailbox, and, when endpoint is not "", adds that endpoint and sends
// it a test event at once. It returns the test event (nil without an
// endpoint): a failed attempt is no error, its outcome says so. It fails
// at the first step that fails; once the file is written, the error says
// how to go on.
func (e Env) Finish(ctx context.Context, path string, replace bool, s config.Setup, endpoint string) (*app.Try, error) {
	b, err := config.Render(s, e.Now())
	if err != nil {
		return nil, err
	}
	if err := config.WriteFile(path, b, replace); err != nil {
		return nil, err
	}
	e.report(Wrote{Path: path})
	cfg, err := config.Load(path, true)
	if err != nil {
		return nil, err
	}
	ac := cfg.Accounts[0]
	if ac.UsesOAuth2() {
		if err := e.SignIn(ctx, ac, ""); err != nil {
			return nil, fmt.Errorf("%w (the config is written: run 'smista init --reauth %s' to try again)", err, ac.Name)
		}
	}
	accounts, err := cfg.MailAccounts(e.Getenv, ac.Name)
	if err != nil {
		return nil, err
	}
	p, err := mail.ProbeIMAP(ctx, accounts[0].IMAP, accounts[0].SyncMailboxes()[0])
	if err != nil {
		return nil, fmt.Errorf("%w (the config is written: fix it, then run 'smista doctor')", err)
	}
	e.report(LoggedIn{Addr: accounts[0].IMAP.Addr(), Username: accounts[0].IMAP.Username, Has: p.Has})
	if endpoint == "" {
		return nil, nil
	}
	return e.addEndpoint(ctx, cfg, endpoint)
}

// addEndpoint adds the endpoint and sends it a test event at once.
func (e Env) addEndpoint(ctx context.Context, cfg config.Config, url string) (*app.Try, error) {
	a, err := e.OpenApp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	ep, err := a.AddEndpoint(ctx, url, "")
	if err != nil {
		return nil, err
	}
	e.report(EndpointAdded{ID: ep.ID, Secret: ep.Secret})
	try, err := a.SendTestEvent(ctx, ep.ID)
	if err != nil {
		return nil, err
	}
	return &try, nil
}

// Recognise finds the provider of address, by its domain or its MX
// records (looked up with e.Resolver), and says how it was found. It
// fails on an address without a domain.
func (e Env) Recognise(ctx context.Context, address string) (config.Provider, string, error) {
	var r config.MXResolver = net.DefaultResolver
	if e.Resolver != nil {
		r = e.Resolver
	}
	return config.Recognise(ctx, r, address)
}

// Reauth signs the account named account of cfg in again with flow ("":
// the account's) and stores the new token. It fails when there is no
// such account, when it does not use OAuth2, or when the sign-in fails.
func (e Env) Reauth(ctx context.Context, cfg config.Config, account, flow string) error {
	for _, ac := range cfg.Accounts {
		if ac.Name != account {
			continue
		}
		if !ac.UsesOAuth2() {
			return fmt.Errorf("account %q does not sign in with OAuth2 (auth = \"oauth2\"): nothing to renew", account)
		}
		return e.SignIn(ctx, ac, flow)
	}
	return fmt.Errorf("no account named %q in the configuration", account)
}

// SignIn runs the account's OAuth2 flow (flow "" is the account's own:
// the browser, or "device") and stores the token outside the config. The
// token is never reported. It fails when the sign-in or the
// storing fails.
func (e Env) SignIn(ctx context.Context, ac config.AccountConfig, flow string) error {
	client := ac.OAuth2.Client(e.Getenv)
	store := config.Tokens(ctx, e.Getenv)
	if flow == "" {
		flow = ac.OAuth2.Flow
	}
	var tok mail.Token
	var err error
	if flow == "device" {
		tok, err = client.DeviceLogin(ctx, func(d mail.DeviceCode) { e.report(DeviceCode{Code: d}) })
	} else {
		e.report(WaitingForBrowser{})
		tok, err = client.LoopbackLogin(ctx, ac.IMAP.Username, e.openURL)
	}
	if err != nil {
		return fmt.Errorf("account %q: %w", ac.Name, err)
	}
	if err := store.SaveToken(ctx, ac.Name, tok); err != nil {
		return fmt.Errorf("account %q: %w", ac.Name, err)
	}
	e.report(SignedIn{Username: ac.IMAP.Username, Where: store.Where()})
	return nil
}

// openURL shows the authorization URL and opens it in a browser where
// one can be started; e.OpenURL replaces it.
func (e Env) openURL(u string) error {
	if e.OpenURL != nil {
		return e.OpenURL(u)
	}
	e.report(OpenURL{URL: u})
	opener := map[string]string{"linux": "xdg-open", "darwin": "open"}[runtime.GOOS]
	if opener == "" || (runtime.GOOS == "linux" && e.Getenv("DISPLAY") == "" && e.Getenv("WAYLAND_DISPLAY") == "") {
		return nil
	}
	if p, err := exec.LookPath(opener); err == nil {
		cmd := exec.Command(p, u)
		if cmd.Start() == nil {
			go cmd.Wait() // reap it; the browser outlives smista
		}
	}
	return nil
}
