package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"smista/app"
	"smista/app/config"
	"smista/db"
	"smista/ui"
)

// errChecksFailed is the doctor's exit: the report already said what to do.
var errChecksFailed = errors.New("some checks failed: see the lines marked FAIL above")

func runDoctor(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("doctor", "[--json] [--send-test]")
	asJSON := fs.Bool("json", false, "one JSON object per check: check, status, detail, fix")
	sendTest := fs.Bool("send-test", false, "send a test event to each endpoint that passes (none is sent otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, cfgCheck := m.configCheck()
	accounts, err := cfg.MailAccounts(m.Getenv, "")
	switch {
	case errors.Is(err, app.ErrNoAccounts):
		if cfgCheck.Status == app.StatusOK {
			cfgCheck.Status, cfgCheck.Fix = app.StatusWarn, "no [[account]] yet: run 'smista init'"
		}
	case err != nil:
		cfgCheck.Status, cfgCheck.Detail, cfgCheck.Fix = app.StatusFail, err.Error(), "fix the account in the config, or run 'smista init' again"
	}
	opts := cfg.AppOptions(m.Now)
	opts.Accounts = accounts
	d, err := m.OpenDB(ctx)
	if err != nil {
		r := app.Report{Checks: []app.Check{cfgCheck, {Name: "database", Status: app.StatusFail, Detail: err.Error(),
			Fix: "check --db, SMISTA_DB and the folder's permissions"}}}
		return m.printDoctor(r, *asJSON)
	}
	opts.Store = d
	a, err := app.New(opts)
	if err != nil {
		d.Close()
		return err
	}
	defer a.Close()
	r := a.Doctor(ctx, app.DoctorOptions{Config: cfgCheck, LLM: m.llmCheck(cfg, d), SendTest: *sendTest})
	return m.printDoctor(r, *asJSON)
}

func (m *Main) printDoctor(r app.Report, asJSON bool) error {
	if asJSON {
		if err := ui.PrintDoctorJSON(m.Stdout, r); err != nil {
			return err
		}
	} else {
		ui.PrintDoctor(m.Stdout, r)
	}
	if r.Failed() {
		return errChecksFailed
	}
	return nil
}

// configCheck loads the configuration and words the result as the
// doctor's first line; on failure the defaults stand in, so the other
// checks still run.
func (m *Main) configCheck() (config.Config, app.Check) {
	c := app.Check{Name: "config"}
	path := m.ConfigPath
	if path == "" {
		path = config.DefaultPath(m.Getenv)
	}
	cfg, err := m.Config()
	if err != nil {
		c.Status, c.Detail = app.StatusFail, err.Error()
		c.Fix = "fix the line named, or move the file away and run 'smista init'"
		return config.Default(), c
	}
	if _, err := os.Stat(path); err != nil {
		c.Status, c.Detail, c.Fix = app.StatusWarn, "no file at "+path+": defaults (offline triage, no account)", "run 'smista init'"
		return cfg, c
	}
	c.Status = app.StatusOK
	c.Detail = fmt.Sprintf("%s: %d account(s), triage %s", path, len(cfg.Accounts), cfg.Triage.Provider)
	return cfg, c
}

// llmCheck describes the configured LLM for the doctor; nil for offline.
func (m *Main) llmCheck(cfg config.Config, cache *db.DB) *app.LLMCheck {
	t := cfg.Triage
	if t.Provider == "" || t.Provider == "offline" {
		return nil
	}
	l := &app.LLMCheck{Name: t.Provider + "/" + t.Model, KeyEnv: t.KeyEnv()}
	// A local OpenAI-compatible server (base_url) may want no key.
	if l.KeyEnv != "" && m.Getenv(l.KeyEnv) == "" && (t.BaseURL == "" || t.APIKeyEnv != "") {
		l.KeyMissing = true
		return l
	}
	c, err := config.Classifier(t, m.Getenv, cache)
	if err != nil {
		l.BuildErr = err
		return l
	}
	if p, ok := c.(interface{ Ping(context.Context) error }); ok {
		l.Ping = p.Ping
	}
	return l
}
