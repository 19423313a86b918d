package config

import (
	"context"
	"errors"
	"fmt"
	"os"

	"smista/app"
	"smista/mail"
	"smista/triage"
)

// LoadChecked is Load worded as the doctor's first check, with the
// configured accounts (their secrets read with getenv): ok with what the
// file holds; warn when there is no file (the defaults stand in) or no
// account; fail when the file does not load (the defaults stand in, so
// that the other checks still run) or an account cannot be built.
func LoadChecked(path string, required bool, getenv func(string) string) (Config, []mail.Account, app.Check) {
	cfg, c := loadChecked(path, required)
	accounts, err := cfg.MailAccounts(getenv, "")
	switch {
	case errors.Is(err, app.ErrNoAccounts):
		if c.Status == app.StatusOK {
			c.Status, c.Fix = app.StatusWarn, "no [[account]] yet: run 'smista init'"
		}
	case err != nil:
		c.Status, c.Detail, c.Fix = app.StatusFail, err.Error(), "fix the account in the config, or run 'smista init' again"
	}
	return cfg, accounts, c
}

// loadChecked is LoadChecked's file part.
func loadChecked(path string, required bool) (Config, app.Check) {
	c := app.Check{Name: "config"}
	cfg, err := Load(path, required)
	if err != nil {
		c.Status, c.Detail = app.StatusFail, err.Error()
		c.Fix = "fix the line named, or move the file away and run 'smista init'"
		return Default(), c
	}
	if _, err := os.Stat(path); err != nil {
		c.Status, c.Detail, c.Fix = app.StatusWarn, "no file at "+path+": defaults (offline triage, no account)", "run 'smista init'"
		return cfg, c
	}
	c.Status = app.StatusOK
	c.Detail = fmt.Sprintf("%s: %d account(s), triage %s", path, len(cfg.Accounts), cfg.Triage.Provider)
	return cfg, c
}

// LLMCheck describes the configured LLM for the doctor, its key read with
// getenv and cache its answer cache; nil for the offline classifier. A
// key that is missing or a classifier that cannot be built is in the
// check, not an error.
func (t TriageConfig) LLMCheck(getenv func(string) string, cache triage.Cache) *app.LLMCheck {
	if t.Provider == "" || t.Provider == "offline" {
		return nil
	}
	l := &app.LLMCheck{Name: t.Provider + "/" + t.Model, KeyEnv: t.KeyEnv()}
	// A local OpenAI-compatible server (base_url) may want no key.
	if l.KeyEnv != "" && getenv(l.KeyEnv) == "" && (t.BaseURL == "" || t.APIKeyEnv != "") {
		l.KeyMissing = true
		return l
	}
	c, err := Classifier(t, getenv, cache)
	if err != nil {
		l.BuildErr = err
		return l
	}
	if p, ok := c.(interface{ Ping(context.Context) error }); ok {
		l.Ping = p.Ping
	}
	return l
}
