package main

import (
	"context"
	"fmt"
	"strings"

	"smista/app"
	"smista/app/config"
	"smista/internal/cli"
	"smista/triage"
	"smista/ui"
)

func runEval(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("eval", "[--labels FILE] [--json] [--vip LIST] [--threshold T] DIR | --store")
	store := fs.Bool("store", false, "score on the store's own labels: the emails a person corrected (I in the TUI), and their decisions")
	labelsPath := fs.String("labels", "", "the labels `file` (file,intent,ticket,flags); default DIR/labels.csv")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	vip := fs.String("vip", "", "comma-separated VIP addresses and domains the labels were written with (default: the config's)")
	threshold := fs.Float64("threshold", 0, "the threshold to score (default: the config's)")
	pos, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 0 && *labelsPath == "" && !*store) || (*store && (len(pos) > 0 || *labelsPath != "")) {
		return cli.Usagef("give the folder of labelled emails (with labels.csv), --labels FILE, or --store")
	}
	cfg, err := m.Config()
	if err != nil {
		return err
	}
	var examples []triage.Example
	if *store {
		if examples, err = m.storeExamples(ctx, cfg); err != nil {
			return err
		}
	} else {
		dir := ""
		if len(pos) == 1 {
			dir = pos[0]
		}
		if examples, err = app.LoadLabelled(dir, *labelsPath); err != nil {
			return err
		}
	}
	c, err := config.Classifier(cfg.Triage, m.Getenv, nil)
	if err != nil {
		return err
	}
	eo := triage.EvalOptions{Context: triage.Context{VIP: cfg.Triage.VIP}, Policy: triage.Policy{Threshold: cfg.Triage.Threshold}}
	if *vip != "" {
		eo.Context.VIP = strings.Split(*vip, ",")
	}
	if *threshold > 0 {
		eo.Policy.Threshold = *threshold
	}
	rep, _, err := triage.Evaluate(ctx, c, examples, eo)
	if err != nil {
		return err
	}
	return ui.WriteEvalReport(m.Stdout, rep, *asJSON)
}

// storeExamples returns the store's own labelled emails.
func (m *Main) storeExamples(ctx context.Context, cfg config.Config) ([]triage.Example, error) {
	a, err := m.appFor(ctx, cfg, wiring{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	ex, err := a.Labelled(ctx)
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("the store holds no labelled email yet: correct intents with I in the TUI (or give a labelled folder)")
	}
	return ex, nil
}
