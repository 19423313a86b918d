package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"smista/app"
	"smista/ui/safe"
	"smista/webhook"
)

// printer prints the App's events for a headless command: notices on
// stderr prefixed with the command, sender notices one line each on
// stdout, and progress as a bar on a terminal. Every text is untrusted and
// sanitised here, where it is drawn.
type printer struct {
	m    *Main
	cmd  string
	sub  *app.Subscription
	done sync.WaitGroup

	// bar draws progress bars (a terminal); lineOpen is set while a bar's
	// line is unterminated.
	bar      bool
	lineOpen bool

	// tally counts the sender's notices.
	delivered, failed, dead, disabled int
}

// startPrinter subscribes to a's bus and prints until stop.
func (m *Main) startPrinter(a *app.App, cmd string) *printer {
	p := &printer{m: m, cmd: cmd, sub: a.Bus().Subscribe(), bar: m.IsTerminal}
	p.done.Go(func() {
		for e := range p.sub.C() {
			p.print(e)
		}
		p.endLine()
	})
	return p
}

// stop prints what is still queued and returns when everything published
// so far has been printed.
func (p *printer) stop() {
	p.sub.Finish()
	p.done.Wait()
}

func (p *printer) print(e app.Event) {
	switch v := e.(type) {
	case app.Notice:
		p.endLine()
		fmt.Fprintf(p.m.Stderr, "smista %s: %s\n", p.cmd, safe.String(oneLine(v.Text)))
	case app.SyncProgress:
		p.syncProgress(v)
	case app.TriageProgress:
		if v.Total > progressMin {
			p.progress("triage", v.Done, v.Total, !v.Working)
		}
	case app.DeliveryNotice:
		p.endLine()
		p.deliveryNotice(v.Notice)
	}
}

func (p *printer) syncProgress(v app.SyncProgress) {
	if v.Err != "" {
		p.endLine()
		fmt.Fprintf(p.m.Stderr, "smista %s: %s: %s\n", p.cmd, safe.String(v.Account), safe.String(oneLine(v.Err)))
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
func (p *printer) progress(label string, done, total int, end bool) {
	if !p.bar || total <= 0 {
		return
	}
	const width = 30
	filled := width * min(done, total) / total
	fmt.Fprintf(p.m.Stderr, "\r%s [%s%s] %d/%d", safe.String(label),
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
	p.lineOpen = true
	if end {
		p.endLine()
	}
}

func (p *printer) endLine() {
	if p.lineOpen {
		fmt.Fprintln(p.m.Stderr)
		p.lineOpen = false
	}
}

// deliveryNotice prints one sender notice: stdout for the attempts,
// stderr for the sender's own errors.
func (p *printer) deliveryNotice(n webhook.Notice) {
	w := p.m.Stdout
	ts := n.At.Local().Format("15:04:05")
	test := ""
	if n.Test {
		test = " (test)"
	}
	url := safe.String(n.URL)
	switch n.Kind {
	case webhook.NoticeDelivered:
		p.delivered++
		fmt.Fprintf(w, "%s delivered %s%s → %s attempt %d: %s in %s\n", ts, n.DeliveryID, test,
			url, n.Attempt, statusText(n), fmtLatency(n.Duration))
	case webhook.NoticeFailed:
		p.failed++
		fmt.Fprintf(w, "%s failed    %s%s → %s attempt %d: %s: %s; retry at %s\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error), n.NextAttemptAt.Local().Format("15:04:05"))
	case webhook.NoticePaused:
		p.failed++
		fmt.Fprintf(w, "%s paused    %s%s → %s attempt %d: %s: %s; endpoint disabled\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error))
	case webhook.NoticeDead:
		p.dead++
		fmt.Fprintf(w, "%s dead      %s%s → %s attempt %d: %s: %s; kept, 'smista replay %s' to retry\n", ts, n.DeliveryID, test,
			url, n.Attempt, n.ErrorClass, safe.String(n.Error), n.DeliveryID)
	case webhook.NoticeDisabled:
		p.disabled++
		fmt.Fprintf(w, "%s ENDPOINT DISABLED %s: %s; its deliveries are paused until 'smista endpoints enable %s'\n", ts,
			n.EndpointID, safe.String(n.Error), n.EndpointID)
	case webhook.NoticeError:
		fmt.Fprintf(p.m.Stderr, "%s error: %s\n", ts, safe.String(n.Error))
	case webhook.NoticeResumed:
		fmt.Fprintf(p.m.Stderr, "%s sending resumed: the store records again\n", ts)
	}
}

// statusText names an attempt's answer: "HTTP 200", or "SMTP 250" for a
// reply (whose URL is empty).
func statusText(n webhook.Notice) string {
	if n.URL == "" {
		return fmt.Sprintf("SMTP %d", n.StatusCode)
	}
	return fmt.Sprintf("HTTP %d", n.StatusCode)
}

// fmtLatency rounds a latency for people: "3ms", "<1ms", "1.2s".
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}
