package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"smista/app/config"
	"smista/db"
	"smista/internal/cli"
	"smista/ui"
	"smista/webhook"
)

// errNotVerified is the one line "smista verify" ends with when the
// request does not verify (the diagnosis is on stdout).
var errNotVerified = errors.New("the request does not verify: see the verdict above")

func runVerify(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("verify", "--secret-file F|- [--at TIME] [CAPTURE|-]")
	secretFile := fs.String("secret-file", "", "the receiver's key(s), one per line: whsec_ secret, whpk_ public key, or what it has (- for stdin)")
	secret := fs.String("secret", "", "the key on the command line (visible in ps: prefer --secret-file)")
	at := fs.String("at", "", "when the receiver got the request (a time, or a duration back from now); default now, for the clock skew")
	pos, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return cli.Usagef("verify reads one captured request (a file, or - for stdin)")
	}
	keys, err := cli.Secret(m.Stdin, *secret, *secretFile)
	if err != nil {
		return err
	}
	if keys == "" {
		return cli.Usagef("give the receiver's key with --secret-file F")
	}
	when, err := config.ParseWhen(*at, m.Now())
	if err != nil {
		return cli.Usagef("--at: %v", err)
	}
	if when.IsZero() {
		when = m.Now()
	}
	var in io.Reader = m.Stdin
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer f.Close()
		in = f
	} else if *secretFile == "-" {
		return cli.Usagef("the key and the capture cannot both come from stdin")
	}
	c, err := webhook.ParseCapture(in)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	d := webhook.Diagnose(c, strings.Split(keys, "\n"), m.known(ctx, c), when, 0)
	ui.WriteDiagnosis(m.Stdout, d)
	if !d.OK {
		return errNotVerified
	}
	return nil
}

// known looks the capture's webhook-id up in the store, when there is
// one (a doctor run on another machine has none: nothing is created).
func (m *Main) known(ctx context.Context, c webhook.Capture) *webhook.Known {
	id := c.WebhookID()
	path := m.DBPath
	if path == "" {
		path, _ = db.DefaultPath(m.Getenv)
	}
	if id == "" || path == "" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return nil
	}
	defer a.Close()
	return a.Known(ctx, id)
}
