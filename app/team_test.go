package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"smista/app"
	"smista/db/dbtest"
	"smista/triage"
)

// draftFor stores a message of the shared test customer and a pending
// reply draft for it; it returns the draft id and the email id.
func draftFor(t *testing.T, a *app.App, key string) (int64, string) {
	t.Helper()
	d := a.Store()
	m := dbtest.Message(key, "Help with "+key, time.Now())
	dbtest.SeedMessages(t, d, m)
	rec := triage.Record{EmailID: m.ID, Result: triage.Result{Intent: triage.IntentSupport, Confidence: 0.5,
		Priority: triage.PriorityNormal, Draft: "Hello, we are on it.", Model: "test/1"},
		Decision: triage.Decision{Action: triage.ActionDraft, Reasons: []string{"test"}}}
	if _, err := d.SaveTriage(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	drafts, err := d.Drafts(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, dr := range drafts {
		if dr.MessageID == m.ID {
			return dr.ID, m.ID
		}
	}
	t.Fatal("no draft stored")
	return 0, ""
}

// TestOthersAnswered: a reply giulia approved for a customer makes
// marco's approval of another reply to the same customer ask first; her
// own next reply does not.
func TestOthersAnswered(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	first, _ := draftFor(t, a, "one")
	second, _ := draftFor(t, a, "two")
	if _, err := a.Store().ApproveReply(ctx, first, "human:giulia", "work", "<r1@x>"); err != nil {
		t.Fatal(err)
	}
	got, err := a.OthersAnswered(ctx, second, "marco")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].By != "human:giulia" {
		t.Errorf("others who answered, for marco: %+v, want giulia", got)
	}
	if got, _ := a.OthersAnswered(ctx, second, "giulia"); len(got) != 0 {
		t.Errorf("others who answered, for giulia herself: %+v, want none", got)
	}
}

// TestActionsAttributed: an action made on a context naming its person
// is recorded as human:<name> in the audit log and announced on the bus.
func TestActionsAttributed(t *testing.T) {
	a := newApp(t)
	id, email := draftFor(t, a, "three")
	sub := a.Bus().Subscribe()
	defer sub.Close()
	ctx := app.WithActor(context.Background(), "marco")
	if err := a.DiscardDraft(ctx, id); err != nil {
		t.Fatal(err)
	}
	acts, err := a.Store().Actions(context.Background(), email, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || acts[0].Actor != "human:marco" || !strings.Contains(acts[0].Action, "discarded draft") {
		t.Errorf("audit log %+v, want marco's discard", acts)
	}
	for deadline := time.After(10 * time.Second); ; {
		select {
		case e := <-sub.C():
			if act, ok := e.(app.Activity); ok {
				if act.Actor != "human:marco" || act.EmailID != email {
					t.Errorf("activity %+v, want marco's on %s", act, email)
				}
				return
			}
		case <-deadline:
			t.Fatal("no Activity on the bus")
		}
	}
}

// TestPresence: the sessions showing an email are published, and leaving
// takes a session off.
func TestPresence(t *testing.T) {
	a := newApp(t)
	sub := a.Bus().Subscribe()
	defer sub.Close()
	a.SetViewing("giulia#1", "giulia", "e1")
	a.SetViewing("marco#2", "marco", "e1")
	a.SetViewing("giulia#1", "giulia", "")
	var last app.Presence
	for deadline := time.After(10 * time.Second); ; {
		select {
		case e := <-sub.C():
			if p, ok := e.(app.Presence); ok {
				last = p
			}
		case <-deadline:
			t.Fatal("no Presence on the bus")
		}
		if vs := last.Viewers["e1"]; len(vs) == 1 && vs[0].Agent == "marco" {
			return
		}
	}
}
