package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"smista/app"
	"smista/db"
	"smista/mail"
)

func TestRegenerateDraft(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	d := a.Store()
	raw := []byte("From: Giulia Rossi <giulia@example.com>\r\nTo: support@acme.example\r\nSubject: Non riesco ad accedere\r\n" +
		"Message-ID: <regen@example.com>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0100\r\n\r\n" +
		"Buongiorno, da stamattina non riesco ad accedere al mio account: la pagina di login da' errore 500. Potete aiutarmi?\r\n")
	m, err := mail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateDraft(ctx, m.ID, "the classifier's first text")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RegenerateDraft(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	dr, err := d.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dr.Body, "first text") || !strings.Contains(dr.Body, "Giulia") || dr.EditedBy != "" {
		t.Fatalf("regenerated draft = %+v, want the classifier's reply greeting Giulia", dr)
	}
	// A person's words are replaced only when asked for.
	if err := a.SaveDraftText(ctx, id, "To: giulia@example.com\nCc:\nSubject: Re: accesso\n\na human edit", "anna"); err != nil {
		t.Fatal(err)
	}
	if err := a.RegenerateDraft(ctx, id, false); !errors.Is(err, app.ErrHumanEdits) {
		t.Fatalf("regenerate over a person's edit: %v, want ErrHumanEdits", err)
	}
	if dr, _ := d.Draft(ctx, id); dr.Body != "a human edit" || dr.EditedBy != "human:anna" {
		t.Fatalf("after a refused regenerate the draft is %+v, want anna's edit", dr)
	}
	if err := a.RegenerateDraft(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if dr, _ := d.Draft(ctx, id); strings.Contains(dr.Body, "human edit") || dr.EditedBy != "" {
		t.Fatalf("regenerate asked to replace the edit left %+v", dr)
	}
	if err := a.DiscardDraft(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := a.RegenerateDraft(ctx, id, true); !errors.Is(err, db.ErrDraftNotPending) {
		t.Fatalf("regenerate a discarded draft: %v, want ErrDraftNotPending", err)
	}
	if err := a.ApproveDraft(ctx, id, "tester"); !errors.Is(err, db.ErrDraftNotPending) && !errors.Is(err, app.ErrNoSMTPAccount) {
		t.Fatalf("approve a discarded draft: %v", err)
	}
}
