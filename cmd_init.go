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
	"smista/internal/cli"
	"smista/ui"
)

// initFlags defines the flags of "smista init" on fs, into f.
func initFlags(fs *flag.FlagSet, f *setup.Flags) {
	fs.StringVar(&f.Address, "address", "", "your email `address` (answers every other question from flags and defaults: no prompt)")
	fs.StringVar(&f.Name, "name", "", "your display `name` in replies")
	fs.StringVar(&f.Account, "account", "", "the account's `name` in the config (default: the domain's first label)")
	fs.StringVar(&f.Provider, "provider", "", "provider `id` (gmail, microsoft, fastmail, icloud, yahoo, generic); default: recognised from the domain or its MX")
	fs.StringVar(&f.IMAP, "imap", "", "IMAP server as `\"host:port tls\"` (tls, starttls, insecure for loopback); default: the provider's")
	fs.StringVar(&f.SMTP, "smtp", "", "SMTP server as `\"host:port tls\"`; default: the provider's")
	fs.StringVar(&f.Username, "username", "", "login `name` (default: the address)")
	fs.StringVar(&f.Auth, "auth", "", "sign-in: `password` or oauth2 (default: the provider's)")
	fs.StringVar(&f.PasswordCmd, "password-cmd", "", "`command` printing the password (e.g. \"pass show mail/work\")")
	fs.StringVar(&f.PasswordEnv, "password-env", "", "environment `variable` holding the password")
	fs.StringVar(&f.ClientID, "client-id", "", "your OAuth2 client `id`")
	fs.StringVar(&f.SecretCmd, "client-secret-cmd", "", "`command` printing the OAuth2 client secret (Google wants one)")
	fs.StringVar(&f.SecretFile, "client-secret-file", "", "0600 `file` holding the OAuth2 client secret")
	fs.StringVar(&f.Tenant, "tenant", "", "Microsoft tenant (`common`, organizations, or a tenant id)")
	fs.StringVar(&f.Flow, "flow", "", "OAuth2 sign-in: `browser` (loopback redirect) or device (a code to type on another device)")
	fs.StringVar(&f.AuthURL, "oauth2-auth-url", "", "authorization `URL` of a provider not in the table")
	fs.StringVar(&f.TokenURL, "oauth2-token-url", "", "token `URL` of a provider not in the table")
	fs.StringVar(&f.DeviceURL, "oauth2-device-url", "", "device authorization `URL` of a provider not in the table")
	fs.StringVar(&f.Triage, "triage", "offline", "classifier: `offline`, openai, anthropic or ollama")
	fs.StringVar(&f.Model, "model", "", "the LLM's `model` name")
	fs.StringVar(&f.APIKeyEnv, "api-key-env", "", "environment `variable` holding the LLM's API key (default by provider)")
	fs.StringVar(&f.BaseURL, "base-url", "", "`URL` of an OpenAI-compatible server")
	fs.StringVar(&f.Endpoint, "endpoint", "", "webhook endpoint `URL` for tickets; a test event is sent at once")
	fs.BoolVar(&f.Force, "force", false, "replace an existing config file")
	fs.StringVar(&f.Reauth, "reauth", "", "sign the `account` in again with OAuth2 (after a revoked or expired sign-in); nothing else changes")
}

func runInit(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("init", "[--address ADDR [flags]] [--force] | --reauth ACCOUNT")
	var f setup.Flags
	initFlags(fs, &f)
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	env := m.setup()
	if f.Reauth != "" {
		cfg, err := m.Config()
		if err != nil {
			return err
		}
		return env.Reauth(ctx, cfg, f.Reauth, f.Flow)
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
	case f.Address != "":
		if exists && !f.Force {
			return fmt.Errorf("%s: %w: not replaced (add --force to replace it, or edit it)", path, config.ErrExists)
		}
		ans = ui.InitAnswers{Endpoint: f.Endpoint, Write: true}
		if ans.Setup, err = env.FromFlags(ctx, f); errors.Is(err, setup.ErrFlag) {
			return cli.Usagef("%v", err)
		}
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
