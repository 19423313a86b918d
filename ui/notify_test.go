package ui_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"smista/app"
	"smista/mail"
	"smista/webhook"
)

// TestNotifyNewWork: configured, the TUI writes a desktop notification
// (OSC 9) when a new support request is triaged and when an endpoint is
// disabled; unconfigured, it writes none.
func TestNotifyNewWork(t *testing.T) {
	for _, mode := range []string{"osc9", ""} {
		t.Run("notify="+mode, func(t *testing.T) {
			e := newFlowEnvIdle(t, nil)
			e.deps.Notify = mode
			e.start(t)
			raw := "From: Anna <anna@client.example>\r\nTo: support@example.com\r\nSubject: Cannot log in\r\n" +
				"Message-ID: <notify-1@client.example>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0100\r\n\r\n" +
				"Hello, I cannot log in to my account since this morning: the login page shows error 500. Can you help?\r\n"
			m, err := mail.Parse([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := e.d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.app.Triage(ctx, app.TriageRequest{IDs: []string{m.ID}}); err != nil {
				t.Fatal(err)
			}
			e.app.Bus().Publish(app.DeliveryNotice{Notice: webhook.Notice{Kind: webhook.NoticeDisabled, EndpointID: "ep_x"}})
			want := [][]byte{[]byte("\x1b]9;smista: a new support request\x07"), []byte("\x1b]9;smista: endpoint ep_x disabled\x07")}
			var seen []byte
			if mode == "" {
				// Wait until the status bar shows the disabled endpoint,
				// then check that no notice went out with it.
				teatest.WaitFor(t, e.tm.Output(), func(b []byte) bool {
					seen = append(seen, b...)
					return bytes.Contains(seen, []byte("ep_x"))
				}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
				seen = append(seen, must(io.ReadAll(e.tm.Output()))...)
				if bytes.Contains(seen, []byte("\x1b]9;")) || bytes.Contains(seen, []byte("\x1b]777;")) || bytes.Contains(seen, []byte("\a")) {
					t.Errorf("a notice went out though none is configured: %q", seen)
				}
				return
			}
			teatest.WaitFor(t, e.tm.Output(), func(b []byte) bool {
				seen = append(seen, b...)
				return bytes.Contains(seen, want[0]) && bytes.Contains(seen, want[1])
			}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
