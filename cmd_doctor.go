package main

import (
	"context"
	"errors"

	"smista/app"
	"smista/app/config"
	"smista/internal/cli"
	"smista/ui"
)

// errChecksFailed is the doctor's exit: the report already said what to do.
var errChecksFailed = errors.New("some checks failed: see the lines marked FAIL above")

func runDoctor(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("doctor", "[--json] [--send-test]")
	asJSON := fs.Bool("json", false, "one JSON object per check: check, status, detail, fix")
	sendTest := fs.Bool("send-test", false, "send a test event to each endpoint that passes (none is sent otherwise)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	path, required := m.configFile()
	cfg, accounts, cfgCheck := config.LoadChecked(path, required, m.Getenv)
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
	r := a.Doctor(ctx, app.DoctorOptions{Config: cfgCheck, LLM: cfg.Triage.LLMCheck(m.Getenv, d), SendTest: *sendTest})
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
