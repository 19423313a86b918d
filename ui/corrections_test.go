package ui_test

import (
	"context"
	"strings"
	"testing"

	"smista/db"
	"smista/ui/internal/fixture"
)

// I records the intent a person says an email is: the message view and
// the inbox show it, and the store keeps it (with the learned layer).
func TestCorrectIntentFromMessageView(t *testing.T) {
	d := seededDB(t)
	m := newModel(t, testDeps(d), 120, 30)
	press(t, m, "j", "enter") // the login email, classified support
	press(t, m, "I")
	typeText(t, m, "billing")
	press(t, m, "enter")
	md, err := d.MessageDetail(context.Background(), fixture.LoginID)
	if err != nil {
		t.Fatal(err)
	}
	if md.Triage.CorrectedIntent != "billing" || md.Triage.CorrectedBy != "human:tester" || md.Triage.Intent != "support" {
		t.Fatalf("stored %+v, want billing corrected by human:tester over the model's support", md.Triage)
	}
	if out := plain(m); !strings.Contains(out, "corrected by human:tester") {
		t.Errorf("the message view does not show the correction:\n%s", out)
	}
	if layer, err := d.AdaptiveLayer(context.Background()); err != nil || len(layer) == 0 {
		t.Errorf("the learned layer was not stored (%v)", err)
	}
	rows, err := d.Inbox(context.Background(), db.InboxFilter{Intent: "billing"}, db.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || (r.ID == fixture.LoginID && r.Corrected)
	}
	if !found {
		t.Errorf("the inbox filtered on billing does not list the corrected email: %+v", rows)
	}
	// An unknown intent is refused, nothing stored.
	press(t, m, "I")
	typeText(t, m, "urgent")
	press(t, m, "enter")
	if out := plain(m); !strings.Contains(out, `"urgent" is not an intent`) {
		t.Errorf("an unknown intent is not refused:\n%s", out)
	}
}

// The review queue lists the emails nobody decided or corrected, closest
// to the threshold first; C confirms the model's intent and the email
// leaves the queue.
func TestReviewQueue(t *testing.T) {
	d := seededDB(t)
	m := newModel(t, testDeps(d), 140, 30)
	press(t, m, "s", "s") // date → confidence → review
	out := plain(m)
	if !strings.Contains(out, "sort review (closest to 0.80 first") {
		t.Fatalf("no review queue:\n%s", out)
	}
	f := db.InboxFilter{Review: 0.80}
	before, err := d.InboxCount(context.Background(), f)
	if err != nil || before == 0 {
		t.Fatalf("review queue holds %d (%v)", before, err)
	}
	rows, _ := d.Inbox(context.Background(), f, db.Page{Limit: 1})
	press(t, m, "C")
	after, _ := d.InboxCount(context.Background(), f)
	if after != before-1 {
		t.Fatalf("review queue %d → %d after C, want one fewer", before, after)
	}
	md, _ := d.MessageDetail(context.Background(), rows[0].ID)
	if md.Triage.CorrectedIntent != rows[0].Intent {
		t.Errorf("C recorded %q, want the model's %q", md.Triage.CorrectedIntent, rows[0].Intent)
	}
}
