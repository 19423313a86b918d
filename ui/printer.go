package ui

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"smista/app"
	"smista/ui/safe"
	"smista/webhook"
)

// Printer draws the App's events for a headless command, the way the TUI
// draws them on a screen: notices on stderr prefixed with the command,
// sender notices one line each on stdout, and progress as a bar when
// stderr is a terminal. Every text is untrusted and sanitised here.
type Printer struct {
	stdout *bufio.Writer
	stderr io.Writer
	cmd    string
	sub    *app.Subscription
	done   sync.WaitGroup
	opts   PrinterOptions

	// bar draws progress bars (a terminal); lineOpen is set while a bar's
	// line is unterminated.
	bar      bool
	lineOpen bool

	// line is delivered's buffer.
	line []byte

	// Tally counts the sender's notices; read it after Stop.
	Tally struct{ Delivered, Failed, Dead, Disabled, Warnings int }
}

// flushAfter is how long stdout's lines may wait in the printer's buffer
// while no event comes: a sender's burst of deliveries is written in a few
// system calls instead of one a line, and a person sees each line at once.
const flushAfter = 20 * time.Millisecond

// PrinterOptions configure a Printer.
type PrinterOptions struct {
	// Cmd prefixes notices ("smista sync: ...").
	Cmd string
	// Bar draws progress bars (stderr is a terminal).
	Bar bool
	// QuietSyncErrors leaves a failed sync to the command's own error (a
	// one-shot sync returns it; a watch has only the printer to say it).
	QuietSyncErrors bool
	// Activity prints who did what (the team server's log); a command
	// reports its own actions itself.
	Activity bool
}

// StartPrinter subscribes to bus and prints its events until Stop.
func StartPrinter(bus *app.Bus, stdout, stderr io.Writer, o PrinterOptions) *Printer {
	p := &Printer{stdout: bufio.NewWriter(stdout), stderr: stderr, cmd: o.Cmd, sub: bus.Subscribe(), bar: o.Bar, opts: o}
	p.done.Go(func() {
		idle := time.NewTimer(flushAfter)
		defer idle.Stop()
		for {
			select {
			case e, ok := <-p.sub.C():
				if !ok {
					p.endLine()
					p.stdout.Flush()
					return
				}
				p.print(e)
				idle.Reset(flushAfter)
			case <-idle.C:
				p.stdout.Flush()
			}
		}
	})
	return p
}

// Stop prints what is still queued and returns when everything published
// before it has been printed.
func (p *Printer) Stop() {
	p.sub.Finish()
	p.done.Wait()
}

// WriteTally writes the closing line of "smista send" to w: t, what the
// sender recorded (the lines printed may be fewer: progress notices are
// dropped when the printer falls behind; Tally counts those printed).
// Call it after Stop.
func (p *Printer) WriteTally(w io.Writer, t webhook.Tally) {
	fmt.Fprintf(w, "%s: %d delivered, %d failed attempts, %d dead, %d endpoints disabled\n",
		p.cmd, t.Delivered, t.Failed, t.Dead, t.Disabled)
}

func (p *Printer) print(e app.Event) {
	switch v := e.(type) {
	case app.Notice:
		p.endLine()
		p.stdout.Flush() // the two streams in the order they were told
		fmt.Fprintf(p.stderr, "smista %s: %s\n", p.cmd, safe.String(oneLineText(v.Text)))
	case app.SyncProgress:
		p.syncProgress(v)
	case app.TriageProgress:
		if v.Total > progressMin {
			p.progress("triage", v.Done, v.Total, !v.Working)
		}
	case app.DeliveryNotice:
		p.endLine()
		p.deliveryNotice(v.Notice)
	case app.Activity:
		if !p.opts.Activity {
			break
		}
		p.endLine()
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "smista %s: %s: %s\n", p.cmd, safe.String(strings.TrimPrefix(v.Actor, "human:")), safe.String(v.Action))
	}
}

func (p *Printer) syncProgress(v app.SyncProgress) {
	if v.Err != "" {
		if p.opts.QuietSyncErrors {
			return
		}
		p.endLine()
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "smista %s: %s: %s\n", p.cmd, safe.String(v.Account), safe.String(oneLineText(v.Err)))
		return
	}
	if v.Finished {
		p.endLine()
		return
	}
	p.progress(v.Account+"/"+v.Mailbox, v.Done, v.Total, v.Done == v.Total)
}

// progressMin is how many messages a triage run needs before its bar is
// worth drawing.
const progressMin = 5

// progress draws "label [=====     ] n/N" on one terminal line.
func (p *Printer) progress(label string, done, total int, end bool) {
	if !p.bar || total <= 0 {
		return
	}
	const width = 30
	filled := width * min(done, total) / total
	fmt.Fprintf(p.stderr, "\r%s [%s%s] %d/%d", safe.String(label),
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
	p.lineOpen = true
	if end {
		p.endLine()
	}
}

func (p *Printer) endLine() {
	if p.lineOpen {
		fmt.Fprintln(p.stderr)
		p.lineOpen = false
	}
}

// deliveryNotice prints one sender notice: stdout for the attempts,
// stderr for the sender's own errors.
func (p *Printer) deliveryNotice(n webhook.Notice) {
	w := p.stdout
	ts := n.At.Local().Format("15:04:05")
	test := ""
	if n.Test {
		test = " (test)"
	}
	url := safe.String(n.URL)
	switch n.Kind {
	case webhook.NoticeDelivered:
		p.Tally.Delivered++
		p.delivered(n, ts, test, url)
	case webhook.NoticeFailed:
		if n.ErrorClass == webhook.ClassOffline {
			fmt.Fprintf(w, "%s waiting   %s%s → %s attempt %d: %s\n", ts, n.DeliveryID, test, url, n.Attempt, safe.String(n.Error))
			return
		}
		p.Tally.Failed++
		fmt.Fprintf(w, "%s failed    %s%s → %s attempt %d: %s: %s; retry at %s\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error), n.NextAttemptAt.Local().Format("15:04:05"))
	case webhook.NoticePaused:
		p.Tally.Failed++
		fmt.Fprintf(w, "%s paused    %s%s → %s attempt %d: %s: %s; endpoint disabled\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error))
	case webhook.NoticeDead:
		p.Tally.Dead++
		fmt.Fprintf(w, "%s dead      %s%s → %s attempt %d: %s: %s; kept, 'smista replay %s' to retry\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error), n.DeliveryID)
	case webhook.NoticeDisabled:
		p.Tally.Disabled++
		fmt.Fprintf(w, "%s ENDPOINT DISABLED %s: %s; its deliveries are paused until 'smista endpoints enable %s'\n", ts,
			n.EndpointID, safe.String(n.Error), n.EndpointID)
	case webhook.NoticeError:
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "%s error: %s\n", ts, safe.String(n.Error))
	case webhook.NoticeResumed:
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "%s sending resumed: the store records again\n", ts)
	case webhook.NoticeWarning:
		p.Tally.Warnings++
		fmt.Fprintf(w, "%s WARNING endpoint %s: %s; fix the receiver or 'smista endpoints disable %s'\n", ts,
			n.EndpointID, safe.String(n.Error), n.EndpointID)
	case webhook.NoticeOffline:
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "%s offline: %d deliveries waiting (%s); no retry is used up, sending resumes by itself\n", ts,
			n.Waiting, safe.String(n.Error))
	case webhook.NoticeOnline:
		p.stdout.Flush()
		fmt.Fprintf(p.stderr, "%s online again: sending resumed (%s)\n", ts, safe.String(n.Error))
	}
}

// oneLineText folds text onto one line.
func oneLineText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// FmtLatency rounds a latency for people: "3ms", "<1ms", "1.2s".
func FmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

// delivered writes the line of a delivered attempt — thousands a second
// from "smista send" — with appends into a reused buffer rather than
// fmt: "15:04:05 delivered ID[ (test)] → URL attempt N: HTTP 200 in 3ms"
// ("SMTP 250" for a delivery without a URL).
func (p *Printer) delivered(n webhook.Notice, ts, test, url string) {
	b := append(p.line[:0], ts...)
	b = append(append(append(b, " delivered "...), n.DeliveryID...), test...)
	b = append(append(append(b, " → "...), url...), " attempt "...)
	b = strconv.AppendInt(b, int64(n.Attempt), 10)
	if n.URL == "" {
		b = append(b, ": SMTP "...)
	} else {
		b = append(b, ": HTTP "...)
	}
	b = strconv.AppendInt(b, int64(n.StatusCode), 10)
	b = append(append(append(b, " in "...), FmtLatency(n.Duration)...), '\n')
	p.stdout.Write(b)
	p.line = b
}
