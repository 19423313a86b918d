package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	netmail "net/mail"
	"strings"
	"text/tabwriter"

	"smista/db"
	"smista/triage"
	"smista/ui/safe"
)

// progressMin is how many messages a run needs before a progress bar is
// worth drawing.
const progressMin = 5

// runTriage classifies and decides the untriaged messages (or all), storing
// each verdict, and prints them as JSON lines or a table.
func runTriage(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("triage", "[--json] [--all] [--provider P]")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	all := fs.Bool("all", false, "triage every message again, not only untriaged ones")
	provider := fs.String("provider", "", "classifier: offline, openai, anthropic or ollama (default from config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	if *provider != "" {
		cfg.Triage.Provider = *provider
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%w: --provider: %v", errUsage, err)
		}
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := classifierFor(cfg.Triage, a.Getenv, d)
	if err != nil {
		return err
	}
	opts := triageOptions(cfg)
	opts.All = *all
	if a.IsTerminal {
		bar := &triageBar{w: a.Stderr}
		opts.Progress = bar.update
	}
	outs, runErr := triage.Run(ctx, d, c, opts)
	if *asJSON {
		err = writeTriageJSON(a.Stdout, outs)
	} else {
		err = writeTriageTable(a.Stdout, outs)
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	tally := map[triage.Action]int{}
	failed := 0
	for _, o := range outs {
		if o.Err != nil {
			failed++
			fmt.Fprintf(a.Stderr, "smista triage: %s\n", safe.String(oneLine(o.Err.Error())))
			continue
		}
		tally[o.Decision.Action]++
	}
	if len(outs) == 0 && runErr == nil {
		fmt.Fprintln(a.Stderr, "smista triage: nothing to triage (use --all to triage every message again)")
		return nil
	}
	fmt.Fprintf(a.Stderr, "triaged %d: %d ticket, %d draft, %d suggest\n", len(outs)-failed,
		tally[triage.ActionTicket], tally[triage.ActionDraft], tally[triage.ActionSuggest])
	if runErr != nil {
		if failed > 0 && ctx.Err() == nil {
			return fmt.Errorf("%d of %d messages could not be triaged (see above); run again to retry them", failed, len(outs))
		}
		return runErr
	}
	return nil
}

// triageOptions turns the configuration into pipeline options.
func triageOptions(cfg Config) triage.Options {
	var own []string
	for _, ac := range cfg.Accounts {
		if addr, err := netmail.ParseAddress(ac.From); err == nil {
			own = append(own, addr.Address)
		}
		if ac.IMAP.Username != "" && strings.Contains(ac.IMAP.Username, "@") {
			own = append(own, ac.IMAP.Username)
		}
	}
	return triage.Options{
		Context:       triage.Context{VIP: cfg.Triage.VIP, Own: own},
		Policy:        triage.Policy{Threshold: cfg.Triage.Threshold},
		RawEmailURL:   cfg.Triage.RawEmailURL,
		Concurrency:   cfg.Triage.Concurrency,
		PromptVersion: promptVersionFor(cfg.Triage.Provider),
	}
}

func promptVersionFor(provider string) string {
	if provider == "" || provider == "offline" {
		return ""
	}
	return triage.PromptVersion
}

// classifierFor builds the configured classifier: the offline one, or an
// LLM (combined with the offline one) with its key read from the
// environment variable the config names and the store as its answer cache.
func classifierFor(tc TriageConfig, getenv func(string) string, d *db.DB) (triage.Classifier, error) {
	cc := triage.ClassifierConfig{
		Provider:    tc.Provider,
		Model:       tc.Model,
		BaseURL:     tc.BaseURL,
		Timeout:     tc.Timeout.Duration,
		Concurrency: tc.Concurrency,
	}
	if d != nil {
		cc.Cache = d
	}
	if env := tc.KeyEnv(); tc.Provider != "" && tc.Provider != "offline" && env != "" {
		cc.APIKey = getenv(env)
	}
	c, err := triage.NewClassifier(cc)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", tc.Provider, err)
	}
	return c, nil
}

// triageLine is one line of `smista triage --json`; field names and order
// are the contract of DESIGN.md.
type triageLine struct {
	EmailID    string   `json:"email_id"`
	MessageID  string   `json:"message_id"`
	ThreadID   string   `json:"thread_id"`
	From       string   `json:"from"`
	Subject    string   `json:"subject"`
	Language   string   `json:"language"`
	Intent     string   `json:"intent"`
	Confidence float64  `json:"confidence"`
	Priority   string   `json:"priority"`
	Summary    string   `json:"summary"`
	Flags      []string `json:"flags"`
	Action     string   `json:"action"`
	Reasons    []string `json:"reasons"`
	Model      string   `json:"model"`
}

func toLine(o triage.Output) triageLine {
	m, r, d := o.Message, o.Result, o.Decision
	l := triageLine{
		EmailID: m.ID, MessageID: m.MessageID, ThreadID: m.ThreadID, From: m.From.Addr, Subject: m.Subject,
		Language: r.Language, Intent: string(r.Intent), Confidence: math.Round(r.Confidence*1000) / 1000,
		Priority: string(r.Priority), Summary: r.Summary, Flags: []string{}, Action: string(d.Action),
		Reasons: d.Reasons, Model: r.Model,
	}
	for _, f := range r.Flags {
		l.Flags = append(l.Flags, string(f))
	}
	if l.Reasons == nil {
		l.Reasons = []string{}
	}
	return l
}

func writeTriageJSON(w io.Writer, outs []triage.Output) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, o := range outs {
		if o.Err != nil {
			continue
		}
		if err := enc.Encode(toLine(o)); err != nil {
			return err
		}
	}
	return nil
}

func writeTriageTable(w io.Writer, outs []triage.Output) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL_ID\tACTION\tINTENT\tCONF\tPRIORITY\tFLAGS\tFROM\tSUBJECT")
	for _, o := range outs {
		if o.Err != nil {
			continue
		}
		l := toLine(o)
		flags := strings.Join(l.Flags, ",")
		if flags == "" {
			flags = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", l.EmailID, l.Action, l.Intent, l.Confidence, l.Priority,
			flags, triageCell(l.From, 32), triageCell(l.Subject, 60))
	}
	return tw.Flush()
}

// triageCell makes untrusted text safe for a terminal table: no escapes or
// controls, no tabs, at most n characters.
func triageCell(s string, n int) string {
	s = strings.ReplaceAll(safe.String(s), "\t", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// triageBar draws "triage [=====     ] n/N" on stderr when there are more
// than a few messages.
type triageBar struct {
	w io.Writer
}

func (p *triageBar) update(done, total int) {
	if total <= progressMin {
		return
	}
	const width = 30
	filled := width * done / total
	fmt.Fprintf(p.w, "\rtriage [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
	if done == total {
		fmt.Fprintln(p.w)
	}
}
