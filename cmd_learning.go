package main

import (
	"context"
	"fmt"
	"strings"

	"smista/internal/cli"
	"smista/ui"
)

const learningSynopsis = "show [--json] | export | reset"

// runLearning shows, exports or resets what the offline classifier learned
// from the corrections made in the TUI.
func runLearning(ctx context.Context, m *Main, args []string) error {
	sub := "show"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := m.flagSet("learning "+sub, learningSynopsis)
	asJSON := fs.Bool("json", false, "one JSON object")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	switch sub {
	case "show", "export", "reset":
	default:
		return cli.Usagef("unknown subcommand %q: %s", sub, learningSynopsis)
	}
	a, _, err := m.openApp(ctx, wiring{classifier: true})
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "export":
		b, err := a.ExportLearning()
		if err != nil {
			return err
		}
		_, err = m.Stdout.Write(b)
		return err
	case "reset":
		if err := a.ResetLearning(ctx); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "the learned layer is reset: the classifier is the base model again (the corrections are kept)")
		return nil
	}
	l, err := a.Learning()
	if err != nil {
		return err
	}
	return ui.WriteLearning(m.Stdout, l, *asJSON)
}
