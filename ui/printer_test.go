package ui_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"smista/app"
	"smista/ui"
	"smista/webhook"
)

// TestPrinterWarningsAndOffline: "smista send" prints the warnings before
// an auto-disable on stdout, and going offline and back on stderr; an
// attempt made offline is shown waiting, not counted as a failure.
func TestPrinterWarningsAndOffline(t *testing.T) {
	bus := app.NewBus()
	var out, errb bytes.Buffer
	p := ui.StartPrinter(bus, &out, &errb, ui.PrinterOptions{Cmd: "send"})
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, n := range []webhook.Notice{
		{Kind: webhook.NoticeWarning, At: at, EndpointID: "ep_x", Failures: 15, Budget: 30, Error: "15 of 30 failed attempts in 30m: disabled at 30"},
		{Kind: webhook.NoticeOffline, At: at, Waiting: 7, Error: "dial tcp: connect: network is unreachable"},
		{Kind: webhook.NoticeFailed, At: at, DeliveryID: "dlv_1", URL: "http://x/", Attempt: 1, ErrorClass: webhook.ClassOffline, Error: "offline (not counted): unreachable"},
		{Kind: webhook.NoticeOnline, At: at, Error: "offline for 30m"},
	} {
		bus.Publish(app.DeliveryNotice{Notice: n})
	}
	p.Stop()
	if s := out.String(); !strings.Contains(s, "WARNING endpoint ep_x: 15 of 30 failed attempts") || !strings.Contains(s, "waiting   dlv_1") {
		t.Errorf("stdout:\n%s", s)
	}
	if s := errb.String(); !strings.Contains(s, "offline: 7 deliveries waiting") || !strings.Contains(s, "online again") {
		t.Errorf("stderr:\n%s", s)
	}
	if p.Tally.Failed != 0 || p.Tally.Warnings != 1 {
		t.Errorf("tally %+v: an offline attempt is no failure", p.Tally)
	}
}

// TestPrinterDeliveredLines: the line of a delivered attempt, exactly, for
// HTTP and SMTP, a test delivery, a sub-millisecond and a slow answer, and
// a URL with a control character (made safe).
func TestPrinterDeliveredLines(t *testing.T) {
	bus := app.NewBus()
	var out, errb bytes.Buffer
	p := ui.StartPrinter(bus, &out, &errb, ui.PrinterOptions{Cmd: "send"})
	at := time.Date(2026, 3, 1, 9, 4, 5, 0, time.Local)
	for _, n := range []webhook.Notice{
		{Kind: webhook.NoticeDelivered, At: at, DeliveryID: "dlv_1", URL: "http://127.0.0.1:8788/e1", Attempt: 1, StatusCode: 200, Duration: 1234 * time.Microsecond},
		{Kind: webhook.NoticeDelivered, At: at.Add(time.Second), DeliveryID: "dlv_2", URL: "https://x.example/h\x1b[31m", Test: true, Attempt: 12, StatusCode: 204, Duration: 300 * time.Microsecond},
		{Kind: webhook.NoticeDelivered, At: at, DeliveryID: "dlv_3", Attempt: 2, StatusCode: 250, Duration: 2345 * time.Millisecond},
	} {
		bus.Publish(app.DeliveryNotice{Notice: n})
	}
	p.Stop()
	want := "09:04:05 delivered dlv_1 → http://127.0.0.1:8788/e1 attempt 1: HTTP 200 in 1ms\n" +
		"09:04:06 delivered dlv_2 (test) → https://x.example/h attempt 12: HTTP 204 in <1ms\n" +
		"09:04:05 delivered dlv_3 →  attempt 2: SMTP 250 in 2.3s\n"
	if got := out.String(); got != want {
		t.Errorf("stdout:\n%q\nwant\n%q", got, want)
	}
	if p.Tally.Delivered != 3 {
		t.Errorf("tally %+v", p.Tally)
	}
}
