package config

import (
	"context"
	"fmt"
	netmail "net/mail"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"smista/app"
	"smista/mail"
	"smista/triage"
	"smista/webhook"
)

// AppOptions maps the configuration onto the App's options, all but the
// store, the classifier and the accounts (see Accounts and Classifier).
func (cfg Config) AppOptions(now func() time.Time) app.Options {
	var own []string
	for _, ac := range cfg.Accounts {
		if addr, err := netmail.ParseAddress(ac.From); err == nil {
			own = append(own, addr.Address)
		}
		if strings.Contains(ac.IMAP.Username, "@") {
			own = append(own, ac.IMAP.Username)
		}
	}
	w := cfg.Webhook
	retries := make([]time.Duration, 0, len(w.Retries))
	for _, r := range w.Retries {
		retries = append(retries, r.Duration)
	}
	return app.Options{
		Triage: triage.Options{
			Context:       triage.Context{VIP: cfg.Triage.VIP, Own: own},
			Policy:        triage.Policy{Threshold: cfg.Triage.Threshold},
			RawEmailURL:   cfg.Triage.RawEmailURL,
			PromptVersion: promptVersionFor(cfg.Triage.Provider),
		},
		Concurrency: cfg.Triage.Concurrency,
		Sender: webhook.Options{
			Timeout:       w.Timeout.Duration,
			Retries:       retries,
			DisableAfter:  w.DisableAfter,
			DisableWindow: w.DisableWindow.Duration,
			Guard:         webhook.Guard{AllowPrivate: w.AllowPrivate},
			UserAgent:     UserAgent(),
		},
		RotationGrace: w.RotationGrace.Duration,
		Now:           now,
	}
}

// UserAgent is "smista/<module version>" ("smista/dev" for local builds).
func UserAgent() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "smista/" + bi.Main.Version
	}
	return "smista/dev"
}

func promptVersionFor(provider string) string {
	if provider == "" || provider == "offline" {
		return ""
	}
	return triage.PromptVersion
}

// Classifier builds the configured classifier: the offline one, or an
// LLM (combined with the offline one) with its key read from the
// environment variable the config names and the store as its answer cache.
func Classifier(tc TriageConfig, getenv func(string) string, cache triage.Cache) (triage.Classifier, error) {
	cc := triage.ClassifierConfig{
		Provider:    tc.Provider,
		Model:       tc.Model,
		BaseURL:     tc.BaseURL,
		Timeout:     tc.Timeout.Duration,
		Concurrency: tc.Concurrency,
	}
	cc.Cache = cache
	if env := tc.KeyEnv(); tc.Provider != "" && tc.Provider != "offline" && env != "" {
		cc.APIKey = getenv(env)
	}
	c, err := triage.NewClassifier(cc)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", tc.Provider, err)
	}
	return c, nil
}

// MailAccounts converts the configured accounts (all, or the one named)
// into mail accounts, checking what the config parser cannot.
func (cfg Config) MailAccounts(getenv func(string) string, only string) ([]mail.Account, error) {
	if len(cfg.Accounts) == 0 {
		return nil, app.ErrNoAccounts
	}
	var out []mail.Account
	tokens := &lazyTokens{dir: DataDir(getenv), getenv: getenv}
	for _, ac := range cfg.Accounts {
		if only != "" && ac.Name != only {
			continue
		}
		acct, err := mailAccount(ac, getenv, tokens)
		if err != nil {
			return nil, err
		}
		out = append(out, acct)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no account named %q in the configuration", only)
	}
	return out, nil
}

func mailAccount(ac AccountConfig, getenv func(string) string, tokens mail.TokenStore) (mail.Account, error) {
	acct := mail.Account{
		Name:        ac.Name,
		Mailboxes:   ac.Mailboxes,
		SentMailbox: ac.SentBox,
		Archive:     ac.Archive,
		IMAP:        serverConfig(ac.IMAP, getenv),
		SMTP:        serverConfig(ac.SMTP, getenv),
	}
	if ac.UsesOAuth2() {
		// One source for both servers: a refresh serves IMAP and SMTP.
		src := &mail.OAuth2Source{Client: ac.OAuth2.Client(getenv), Store: tokens, Account: ac.Name}
		acct.IMAP.OAuth2, acct.SMTP.OAuth2 = src, src
	}
	if ac.From != "" {
		a, err := netmail.ParseAddress(ac.From)
		if err != nil {
			return acct, fmt.Errorf("account %q: from %q: %w", ac.Name, ac.From, err)
		}
		acct.From = mail.Address{Name: a.Name, Addr: a.Address}
	} else if strings.Contains(ac.IMAP.Username, "@") {
		acct.From = mail.Address{Addr: ac.IMAP.Username}
	}
	if err := acct.IMAP.Check(); err != nil {
		return acct, fmt.Errorf("account %q: imap: %w", ac.Name, err)
	}
	if ac.SMTP.Host != "" {
		if err := acct.SMTP.Check(); err != nil {
			return acct, fmt.Errorf("account %q: smtp: %w", ac.Name, err)
		}
	}
	return acct, nil
}

func serverConfig(sc ServerConfig, getenv func(string) string) mail.ServerConfig {
	return mail.ServerConfig{
		Host: sc.Host, Port: sc.Port, TLS: sc.TLS, Username: sc.Username,
		Password: mail.Secret{Cmd: sc.PasswordCmd, Env: sc.PasswordEnv},
		Auth:     sc.Auth,
		Token:    mail.Secret{Cmd: sc.TokenCmd},
		Getenv:   getenv,
	}
}

// Client returns the OAuth2 client of the account: the provider's
// endpoints from the table (or the explicit ones, which win), the user's
// client id and the source of the client secret.
func (o OAuth2Config) Client(getenv func(string) string) *mail.OAuth2Client {
	var ep mail.OAuth2Endpoint
	if p, ok := ProviderByID(o.Provider); ok {
		ep = p.OAuth2.Endpoint(o.Tenant)
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&ep.AuthURL, o.AuthURL}, {&ep.TokenURL, o.TokenURL}, {&ep.DeviceURL, o.DeviceURL},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if len(o.Scopes) > 0 {
		ep.Scopes = o.Scopes
	}
	return &mail.OAuth2Client{Endpoint: ep, ClientID: o.ClientID,
		ClientSecret: mail.Secret{Cmd: o.ClientSecretCmd, File: o.ClientSecretFile}, Getenv: getenv}
}

// Tokens returns where OAuth2 tokens are kept: the OS keyring when one
// answers, else 0600 files in DataDir/oauth2.
func Tokens(ctx context.Context, getenv func(string) string) mail.TokenStore {
	return mail.OpenTokenStore(ctx, DataDir(getenv), getenv, nil)
}

// lazyTokens opens the token store when first used, so commands whose
// accounts never sign in with OAuth2 never probe for a keyring.
type lazyTokens struct {
	dir    string
	getenv func(string) string
	mu     sync.Mutex
	st     mail.TokenStore
}

func (l *lazyTokens) store(ctx context.Context) mail.TokenStore {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st == nil {
		l.st = mail.OpenTokenStore(ctx, l.dir, l.getenv, nil)
	}
	return l.st
}

// LoadToken implements mail.TokenStore.
func (l *lazyTokens) LoadToken(ctx context.Context, account string) (mail.Token, error) {
	return l.store(ctx).LoadToken(ctx, account)
}

// SaveToken implements mail.TokenStore.
func (l *lazyTokens) SaveToken(ctx context.Context, account string, t mail.Token) error {
	return l.store(ctx).SaveToken(ctx, account, t)
}

// Where implements mail.TokenStore.
func (l *lazyTokens) Where() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st == nil {
		return "not opened yet"
	}
	return l.st.Where()
}
