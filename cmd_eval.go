package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"smista/app/config"
	"smista/mail"
	"smista/triage"
)

func runEval(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("eval", "[--labels FILE] [--json] [--vip LIST] [--threshold T] DIR | --store")
	store := fs.Bool("store", false, "score on the store's own labels: the emails a person corrected (I in the TUI), and their decisions")
	labelsPath := fs.String("labels", "", "the labels `file` (file,intent,ticket,flags); default DIR/labels.csv")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	vip := fs.String("vip", "", "comma-separated VIP addresses and domains the labels were written with (default: the config's)")
	threshold := fs.Float64("threshold", 0, "the threshold to score (default: the config's)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 0 && *labelsPath == "" && !*store) || (*store && (len(pos) > 0 || *labelsPath != "")) {
		return fmt.Errorf("%w: give the folder of labelled emails (with labels.csv), --labels FILE, or --store", errUsage)
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
		if *labelsPath == "" {
			*labelsPath = filepath.Join(dir, "labels.csv")
		} else if dir == "" {
			dir = filepath.Dir(*labelsPath)
		}
		if examples, err = loadExamples(*labelsPath, dir); err != nil {
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
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(rep)
	}
	_, err = fmt.Fprint(m.Stdout, rep.Text())
	return err
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

// loadExamples reads a labels file and parses each email it names in dir.
func loadExamples(labelsPath, dir string) ([]triage.Example, error) {
	data, err := os.ReadFile(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	labels, err := triage.ParseLabels(data)
	if err != nil {
		return nil, err
	}
	out := make([]triage.Example, 0, len(labels))
	for _, l := range labels {
		raw, err := os.ReadFile(filepath.Join(dir, l.File))
		if err != nil {
			return nil, fmt.Errorf("labelled email: %w", err)
		}
		msg, err := mail.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("labelled email %s: %w", l.File, err)
		}
		msg.ID = msg.StableID()
		out = append(out, triage.Example{Name: l.File, Message: msg, Intent: l.Intent, Ticket: l.Ticket, Flags: l.Flags})
	}
	return out, nil
}
