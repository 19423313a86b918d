package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"smista/app"
	"smista/app/demo"
	"smista/db"
	"smista/ui/safe"
)

// demoWidth is the table width when $COLUMNS does not say otherwise.
const demoWidth = 100

func runDemo(ctx context.Context, m *Main, args []string) (err error) {
	fs := m.flagSet("demo", "[--headless] [--flaky N] [--keep]")
	headless := fs.Bool("headless", false, "no TUI: one pass on the real path (IMAP sync, triage, webhooks, one approved reply over SMTP), then a summary")
	flaky := fs.Int("flaky", 0, "the demo receiver answers its first `N` requests with 503, so the retry path shows")
	keep := fs.Bool("keep", false, "keep the temporary demo database and print its path")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *flaky < 0 {
		return fmt.Errorf("%w: --flaky must be 0 or more", errUsage)
	}

	// The demo never touches the user's database or config: it works in a
	// fresh temporary directory, removed at the end unless --keep.
	dir, err := os.MkdirTemp("", "smista-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if *keep {
		defer fmt.Fprintf(m.Stderr, "smista demo: database kept at %s (open it with: smista --db %s)\n",
			filepath.Join(dir, "demo.db"), filepath.Join(dir, "demo.db"))
	} else {
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("demo: remove temporary directory: %w", rerr)
			}
		}()
	}
	opts := demo.Options{Flaky: *flaky, Dir: dir, Now: m.Now}
	if *headless || !m.IsTerminal {
		if !*headless {
			fmt.Fprintln(m.Stderr, "smista demo: stdout is not a terminal: running headless")
		}
		return m.runDemoPipeline(ctx, opts, func(e *demo.Env) error {
			fmt.Fprintln(m.Stdout)
			return writeTriagedInbox(ctx, m.Stdout, e.App.Store(), m.tableWidth())
		})
	}
	env, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	return m.runTUIWith(ctx, env.App, app.RunOptions{Send: true, Sync: true},
		tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
}

// runDemoPipeline runs one headless demo pass (one approved reply
// included) and prints its summary, then hands the environment to after
// (the inbox table; tests compare the summary with the servers) before it
// closes.
func (m *Main) runDemoPipeline(ctx context.Context, opts demo.Options, after func(*demo.Env) error) error {
	e, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer e.Close()
	sum, err := e.RunOnce(ctx, true)
	if err != nil {
		return err
	}
	printDemoSummary(m.Stdout, sum)
	if after != nil {
		return after(e)
	}
	return nil
}

func printDemoSummary(w io.Writer, s demo.Summary) {
	fmt.Fprintf(w, "messages synced:        %d (from the demo IMAP server)\n", s.Synced)
	fmt.Fprintf(w, "tickets suggested:      %d\n", s.TicketsSuggested)
	fmt.Fprintf(w, "deliveries delivered:   %d (%d attempts; receiver verified %d)\n", s.Delivered, s.DeliveryAttempts, s.ReceiverValid)
	fmt.Fprintf(w, "drafts waiting:         %d (nothing is sent without approval)\n", s.DraftsWaiting)
	fmt.Fprintf(w, "replies sent over SMTP: %d (approved by the demo: %d)\n", s.SMTPReceived, s.RepliesApproved)
}

// tableWidth is the terminal's width when Stdout is one, else $COLUMNS when
// it is a sensible number, else demoWidth.
func (m *Main) tableWidth() int {
	sensible := func(n int) bool { return n >= 40 && n <= 500 }
	if f, ok := m.Stdout.(*os.File); ok && m.IsTerminal {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && sensible(w) {
			return w
		}
	}
	if n, err := strconv.Atoi(m.Getenv("COLUMNS")); err == nil && sensible(n) {
		return n
	}
	return demoWidth
}

// writeTriagedInbox prints the store's inbox, newest first, as an aligned
// table no wider than width: date, sender, subject, intent, confidence,
// flags and what smista did.
func writeTriagedInbox(ctx context.Context, w io.Writer, d *db.DB, width int) error {
	rows, err := d.Inbox(ctx, db.InboxFilter{}, 0, 1000)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	const dateW, intentW, confW, actionW, gap = 12, 7, 4, 14, 1
	// What is left after the fixed columns goes to flags, sender and
	// subject; the subject gets the most, the sender about a third.
	avail := width - dateW - intentW - confW - actionW - 6*gap
	flagsW := 16
	if avail < 66 {
		flagsW = 9
	}
	fromW := min(max((avail-flagsW)*35/100, 10), 24)
	subjW := max(avail-flagsW-fromW, 10)
	sep := strings.Repeat(" ", gap)
	row := func(cols ...string) {
		widths := []int{dateW, fromW, subjW, intentW, confW, flagsW, actionW}
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(runewidth.FillRight(cell(c, widths[i]), widths[i]))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	row("DATE", "FROM", "SUBJECT", "INTENT", "CONF", "FLAGS", "ACTION")
	for _, r := range rows {
		from := r.FromName
		if strings.TrimSpace(safe.String(from)) == "" {
			from = r.FromAddr
		}
		subject := r.Subject
		if strings.TrimSpace(safe.String(subject)) == "" {
			subject = "(no subject)"
		}
		conf := ""
		if r.Confidence >= 0 {
			conf = strconv.FormatFloat(r.Confidence, 'f', 2, 64)
		}
		action := r.Action
		switch {
		case r.Action == "ticket" && r.TicketState != "":
			action = "ticket " + r.TicketState
		case r.DraftWaiting:
			action = "draft waiting"
		}
		row(r.Date.Local().Format("Jan _2 15:04"), from, subject, r.Intent, conf, strings.Join(r.Flags, ","), action)
	}
	fmt.Fprintf(w, "%d messages — the embedded demo, triaged by the offline classifier; run 'smista demo' on a terminal for the TUI\n", len(rows))
	return nil
}

// cell makes untrusted s safe for a terminal and cuts it to width display
// columns, marking a cut with an ellipsis.
func cell(s string, width int) string {
	s = strings.Join(strings.Fields(safe.String(s)), " ")
	return runewidth.Truncate(s, width, "…")
}
