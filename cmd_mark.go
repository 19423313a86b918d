package main

import (
	"context"
	"errors"
	"fmt"

	"smista/db"
	"smista/internal/cli"
	"smista/ui"
)

const markSynopsis = "--read|--unread|--star|--unstar|--done EMAIL_ID..."

// runMark changes emails' state shared with the server: read, star, done
// (the TUI's U, * and e).
func runMark(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("mark", markSynopsis)
	read := fs.Bool("read", false, "mark read (\\Seen on the server)")
	unread := fs.Bool("unread", false, "mark unread")
	star := fs.Bool("star", false, "star (\\Flagged on the server)")
	unstar := fs.Bool("unstar", false, "take the star away")
	done := fs.Bool("done", false, "done: out of the inbox, into the account's archive mailbox on the server")
	ids, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	n := 0
	for _, on := range []bool{*read, *unread, *star, *unstar, *done} {
		if on {
			n++
		}
	}
	switch {
	case n != 1:
		return cli.Usagef("give one of --read, --unread, --star, --unstar, --done")
	case len(ids) == 0:
		return cli.Usagef("mark takes one or more EMAIL_IDs (the inbox's, or email_id of 'smista triage --json')")
	}
	a, _, err := m.openApp(ctx, wiring{accounts: true})
	if err != nil {
		return err
	}
	defer a.Close()
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "mark"})
	defer p.Stop()
	for _, id := range ids {
		var err error
		switch {
		case *read, *unread:
			err = a.SetSeen(ctx, id, *read)
		case *star, *unstar:
			err = a.SetFlagged(ctx, id, *star)
		case *done:
			err = a.Done(ctx, id)
		}
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("%w (see the inbox, or 'smista triage --json')", err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
