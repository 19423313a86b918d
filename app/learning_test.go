package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/triage"
	"smista/webhook"
)

// A correction is learned, kept in the store, loaded by the next App on
// it, and reset on demand; re-triage with the adapted model keeps the
// correction and queues no second event.
func TestCorrectionsAreLearnedAndKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	open := func() *app.App {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(app.Options{Store: d, Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := open()
	m, err := mail.Parse([]byte("From: Ann <ann@brewery.example>\r\nTo: support@acme.example\r\nSubject: Mash tun sparge stuck\r\n" +
		"Message-ID: <sparge@brewery.example>\r\n\r\nThe lauter tun sparge arm is stuck again after the wort recirculation, the mash pH probe reads nothing.\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store().SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddEndpoint(ctx, "http://127.0.0.1:9/hook", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Triage(ctx, app.TriageRequest{}); err != nil {
		t.Fatal(err)
	}
	before, _ := a.Store().Counts(ctx)
	if err := a.CorrectIntent(ctx, m.ID, triage.IntentSupport, "giulia"); err != nil {
		t.Fatal(err)
	}
	if err := a.CorrectIntent(ctx, m.ID, "urgent", "giulia"); !errors.Is(err, triage.ErrUnknownIntent) {
		t.Fatalf("an unknown intent: %v, want ErrUnknownIntent", err)
	}
	if _, err := a.Triage(ctx, app.TriageRequest{All: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := a.Store().Counts(ctx)
	if after.Tickets > max(before.Tickets, 1) || after.Deliveries > max(before.Deliveries, 1) {
		t.Errorf("re-triage after a correction queued more: %d→%d events, %d→%d deliveries", before.Tickets, after.Tickets,
			before.Deliveries, after.Deliveries)
	}
	md, _ := a.Store().MessageDetail(ctx, m.ID)
	if md.Triage.CorrectedIntent != "support" || md.Triage.CorrectedBy != "human:giulia" {
		t.Errorf("the correction did not survive re-triage: %+v", md.Triage)
	}
	a.Close()

	b := open()
	defer b.Close()
	l, err := b.Learning()
	if err != nil || l.Corrections[triage.IntentSupport] != 1 || l.Words == 0 {
		t.Fatalf("a new App learned %+v (%v), want the stored correction", l, err)
	}
	if err := b.ResetLearning(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := b.Learning(); len(l.Corrections) != 0 || l.Words != 0 {
		t.Errorf("after reset: %+v", l)
	}
	if layer, _ := b.Store().AdaptiveLayer(ctx); layer != nil {
		t.Error("the stored layer survived the reset")
	}
	if cs, _ := b.Store().Corrections(ctx); len(cs) != 1 {
		t.Errorf("%d corrections after the reset, want 1 (kept as labels)", len(cs))
	}
}
