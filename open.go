package main

import (
	"context"
	"errors"

	"smista/app"
	"smista/app/config"
)

// wiring selects what openApp builds beyond the store.
type wiring struct {
	// classifier builds the configured classifier (an LLM needs its key);
	// false means the offline one, which every command can afford.
	classifier bool
	// accounts converts the configured accounts; requireAccounts fails
	// when there is none.
	accounts, requireAccounts bool
	// account keeps only the account with this name.
	account string
	// role names this process to the others on the store ("smista
	// send"), in the sender lease.
	role string
}

// openApp loads the configuration, opens the store and returns the App on
// them. The caller closes the App (which closes the store).
func (m *Main) openApp(ctx context.Context, w wiring) (*app.App, config.Config, error) {
	cfg, err := m.Config()
	if err != nil {
		return nil, cfg, err
	}
	a, err := m.appFor(ctx, cfg, w)
	return a, cfg, err
}

// appFor is openApp with the configuration already loaded.
func (m *Main) appFor(ctx context.Context, cfg config.Config, w wiring) (*app.App, error) {
	opts := cfg.AppOptions(m.Now)
	opts.Lease.Holder = w.role
	if w.accounts {
		accounts, err := cfg.MailAccounts(m.Getenv, w.account)
		if err != nil && (w.requireAccounts || !errors.Is(err, app.ErrNoAccounts)) {
			return nil, err
		}
		opts.Accounts = accounts
	}
	d, err := m.OpenDB(ctx)
	if err != nil {
		return nil, err
	}
	opts.Store = d
	if w.classifier {
		if opts.Classifier, err = config.Classifier(cfg.Triage, m.Getenv, d); err != nil {
			d.Close()
			return nil, err
		}
	}
	a, err := app.New(opts)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// Config loads the configuration: --config (must exist) or the default path
// (may be absent).
func (m *Main) Config() (config.Config, error) {
	return config.Load(m.configFile())
}

// configFile is the configuration's path, and whether it must exist:
// --config (it must), else the default path (it may be absent).
func (m *Main) configFile() (path string, required bool) {
	if m.ConfigPath != "" {
		return m.ConfigPath, true
	}
	return config.DefaultPath(m.Getenv), false
}
