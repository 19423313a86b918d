package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/app/config"
	"smista/app/setup"
	"smista/ui"
)

// initFlags are the answers of "smista init" given as flags, for scripts.
type initFlags struct {
	address, name, account, provider           string
	imap, smtp, username, auth                 string
	passwordCmd, passwordEnv                   string
	clientID, secretCmd, secretFile            string
	tenant, flow, authURL, tokenURL, deviceURL string
	triage, model, apiKeyEnv, baseURL          string
	endpoint                                   string
	force                                      bool
	reauth                                     string
}

func (f *initFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "address", "", "your email `address` (answers every other question from flags and defaults: no prompt)")
	fs.StringVar(&f.name, "name", "", "your display `name` in replies")
	fs.StringVar(&f.account, "account", "", "the account's `name` in the config (default: the domain's first label)")
	fs.StringVar(&f.provider, "provider", "", "provider `id` (gmail, microsoft, fastmail, icloud, yahoo, generic); default: recognised from the domain or its MX")
	fs.StringVar(&f.imap, "imap", "", "IMAP server as `\"host:port tls\"` (tls, starttls, insecure for loopback); default: the provider's")
	fs.StringVar(&f.smtp, "smtp", "", "SMTP server as `\"host:port tls\"`; default: the provider's")
	fs.StringVar(&f.username, "username", "", "login `name` (default: the address)")
	fs.StringVar(&f.auth, "auth", "", "sign-in: `password` or oauth2 (default: the provider's)")
	fs.StringVar(&f.passwordCmd, "password-cmd", "", "`command` printing the password (e.g. \"pass show mail/work\")")
	fs.StringVar(&f.passwordEnv, "password-env", "", "environment `variable` holding the password")
	fs.StringVar(&f.clientID, "client-id", "", "your OAuth2 client `id`")
	fs.StringVar(&f.secretCmd, "client-secret-cmd", "", "`command` printing the OAuth2 client secret (Google wants one)")
	fs.StringVar(&f.secretFile, "client-secret-file", "", "0600 `file` holding the OAuth2 client secret")
	fs.StringVar(&f.tenant, "tenant", "", "Microsoft tenant (`common`, organizations, or a tenant id)")
	fs.StringVar(&f.flow, "flow", "", "OAuth2 sign-in: `browser` (loopback redirect) or device (a code to type on another device)")
	fs.StringVar(&f.authURL, "oauth2-auth-url", "", "authorization `URL` of a provider not in the table")
	fs.StringVar(&f.tokenURL, "oauth2-token-url", "", "token `URL` of a provider not in the table")
	fs.StringVar(&f.deviceURL, "oauth2-device-url", "", "device authorization `URL` of a provider not in the table")
	fs.StringVar(&f.triage, "triage", "offline", "classifier: `offline`, openai, anthropic or ollama")
	fs.StringVar(&f.model, "model", "", "the LLM's `model` name")
	fs.StringVar(&f.apiKeyEnv, "api-key-env", "", "environment `variable` holding the LLM's API key (default by provider)")
	fs.StringVar(&f.baseURL, "base-url", "", "`URL` of an OpenAI-compatible server")
	fs.StringVar(&f.endpoint, "endpoint", "", "webhook endpoint `URL` for tickets; a test event is sent at once")
	fs.BoolVar(&f.force, "force", false, "replace an existing config file")
	fs.StringVar(&f.reauth, "reauth", "", "sign the `account` in again with OAuth2 (after a revoked or expired sign-in); nothing else changes")
}

func runInit(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("init", "[--address ADDR [flags]] [--force] | --reauth ACCOUNT")
	var f initFlags
	f.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	env := m.setup()
	if f.reauth != "" {
		cfg, err := m.Config()
		if err != nil {
			return err
		}
		return env.Reauth(ctx, cfg, f.reauth, f.flow)
	}
	path, _ := m.configFile()
	if path == "" {
		return errors.New("no config path: set --config, XDG_CONFIG_HOME or HOME")
	}
	_, statErr := os.Stat(path)
	exists := statErr == nil
	w := &ui.Wizard{Recognise: env.Recognise, ConfigPath: path, ConfigExists: exists}
	var ans ui.InitAnswers
	var err error
	switch {
	case f.address != "":
		if exists && !f.force {
			return fmt.Errorf("%s: %w: not replaced (add --force to replace it, or edit it)", path, config.ErrExists)
		}
		ans, err = m.initFromFlags(ctx, env, f)
	case m.StdinIsTerminal && m.IsTerminal:
		ans, err = ui.RunInitForm(ctx, w, tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
	default:
		fmt.Fprintln(m.Stdout, "smista init — connect your own mailbox (an empty answer takes the [default])")
		ans, err = ui.RunPrompts(ctx, w, m.Stdin, m.Stdout, !m.StdinIsTerminal)
	}
	if err != nil {
		return err
	}
	if !ans.Write {
		fmt.Fprintf(m.Stdout, "nothing written: %s is as it was\n", path)
		return nil
	}
	return m.finishInit(ctx, path, exists, ans)
}

// setup is what the steps of "smista init" need from m.
func (m *Main) setup() setup.Env {
	return setup.Env{
		Getenv: m.Getenv, Now: m.Now, Resolver: m.Resolver, OpenURL: m.OpenURL,
		Progress: func(s setup.Step) { ui.WriteSetupStep(m.Stdout, s) },
		OpenApp: func(ctx context.Context, cfg config.Config) (*app.App, error) {
			return m.appFor(ctx, cfg, wiring{accounts: true})
		},
	}
}

// finishInit writes the config, signs in when the account uses OAuth2,
// checks the mailbox, and adds the endpoint with a test event.
func (m *Main) finishInit(ctx context.Context, path string, replace bool, ans ui.InitAnswers) error {
	try, err := m.setup().Finish(ctx, path, replace, ans.Setup, ans.Endpoint)
	if err != nil {
		return err
	}
	m.ConfigPath = path
	if try != nil {
		if err := testOutcome(m, try.Outcome.Delivery.EndpointID, *try); err != nil {
			return err
		}
	}
	fmt.Fprintln(m.Stdout, "next: 'smista doctor' checks everything, 'smista sync' fetches and triages, 'smista' opens the TUI")
	return nil
}

// initFromFlags builds the answers from flags, the provider's defaults
// filling what they leave out.
func (m *Main) initFromFlags(ctx context.Context, env setup.Env, f initFlags) (ui.InitAnswers, error) {
	p, how, err := env.Recognise(ctx, f.address)
	if err != nil {
		return ui.InitAnswers{}, err
	}
	if f.provider != "" {
		if p, _ = config.ProviderByID(f.provider); p.ID == "" && f.provider != "generic" {
			return ui.InitAnswers{}, fmt.Errorf("%w: --provider %q: want gmail, microsoft, fastmail, icloud, yahoo or generic", errUsage, f.provider)
		}
		how = "--provider"
	}
	fmt.Fprintf(m.Stdout, "provider: %s (%s)\n", orText(p.Name, "generic IMAP/SMTP"), how)
	s := config.Setup{Address: f.address, Name: f.name, Account: f.account, Provider: p.ID, IMAP: p.IMAP, SMTP: p.SMTP,
		Username: f.username, Auth: orText(f.auth, orText(p.Auth, "password")), PasswordCmd: f.passwordCmd, PasswordEnv: f.passwordEnv,
		TriageProvider: f.triage, Model: f.model, APIKeyEnv: f.apiKeyEnv, BaseURL: f.baseURL}
	if s.Account == "" {
		s.Account = ui.DefaultAccountName(f.address)
	}
	if s.Username == "" {
		s.Username = f.address
	}
	for _, sv := range []struct {
		flag, v string
		dst     *config.ServerDefaults
	}{{"--imap", f.imap, &s.IMAP}, {"--smtp", f.smtp, &s.SMTP}} {
		if sv.v == "" {
			continue
		}
		if *sv.dst, err = ui.ParseServer(sv.v); err != nil {
			return ui.InitAnswers{}, fmt.Errorf("%w: %s %q: %v", errUsage, sv.flag, sv.v, err)
		}
	}
	if s.Auth == "oauth2" {
		s.OAuth2 = config.OAuth2Config{ClientID: f.clientID, ClientSecretCmd: f.secretCmd, ClientSecretFile: f.secretFile,
			Tenant: f.tenant, Flow: f.flow, AuthURL: f.authURL, TokenURL: f.tokenURL, DeviceURL: f.deviceURL}
	}
	return ui.InitAnswers{Setup: s, Endpoint: f.endpoint, Write: true}, nil
}

func orText(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
