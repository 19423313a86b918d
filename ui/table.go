package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"smista/app/demo"
	"smista/db"
	"smista/ui/safe"
)

// WriteInboxTable prints inbox rows, as given, as a plain aligned table no
// wider than width (for a pipe or a log, not a screen): date in loc,
// sender, subject, intent, confidence, flags and what smista did. Every
// text is untrusted and sanitised.
func WriteInboxTable(w io.Writer, rows []db.InboxRow, width int, loc *time.Location) error {
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
	widths := []int{dateW, fromW, subjW, intentW, confW, flagsW, actionW}
	var err error
	row := func(cols ...string) {
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", gap))
			}
			b.WriteString(runewidth.FillRight(tableCell(c, widths[i]), widths[i]))
		}
		if _, werr := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err == nil {
			err = werr
		}
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
		row(r.Date.In(loc).Format("Jan _2 15:04"), from, subject, r.Intent, conf, strings.Join(r.Flags, ","), action)
	}
	return err
}

// tableCell makes untrusted s safe for a terminal and cuts it to width
// display columns, marking a cut with an ellipsis.
func tableCell(s string, width int) string {
	s = strings.Join(strings.Fields(safe.String(s)), " ")
	return runewidth.Truncate(s, width, "…")
}

// WriteTriagedInbox prints the store's inbox, newest first, as a table no
// wider than width, under a line saying what it is ("smista demo
// --headless"). It fails when the store cannot be read or w written.
func WriteTriagedInbox(ctx context.Context, w io.Writer, d InboxStore, width int) error {
	rows, err := d.Inbox(ctx, db.InboxFilter{}, db.Page{Limit: 1000})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := WriteInboxTable(w, rows, width, time.Local); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "%d messages — the embedded demo, triaged by the offline classifier; run 'smista demo' on a terminal for the TUI\n", len(rows))
	return nil
}

// WriteDemoSummary writes what one headless demo pass did, one count a
// line, with where each number comes from.
func WriteDemoSummary(w io.Writer, s demo.Summary) {
	fmt.Fprintf(w, "messages synced:        %d (from the demo IMAP server)\n", s.Synced)
	fmt.Fprintf(w, "tickets suggested:      %d\n", s.TicketsSuggested)
	fmt.Fprintf(w, "deliveries delivered:   %d (%d attempts; receiver verified %d)\n", s.Delivered, s.DeliveryAttempts, s.ReceiverValid)
	fmt.Fprintf(w, "drafts waiting:         %d (nothing is sent without approval)\n", s.DraftsWaiting)
	fmt.Fprintf(w, "replies sent over SMTP: %d (approved by the demo: %d)\n", s.SMTPReceived, s.RepliesApproved)
}

// DefaultTableWidth is the table width when neither the terminal nor
// $COLUMNS says otherwise.
const DefaultTableWidth = 100

// TableWidth is the width for a table written to w: the terminal's when w
// is one (isTerminal), else $COLUMNS (read with getenv) when it is a
// sensible number, else DefaultTableWidth.
func TableWidth(w io.Writer, isTerminal bool, getenv func(string) string) int {
	sensible := func(n int) bool { return n >= 40 && n <= 500 }
	if f, ok := w.(*os.File); ok && isTerminal {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && sensible(w) {
			return w
		}
	}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && sensible(n) {
		return n
	}
	return DefaultTableWidth
}
