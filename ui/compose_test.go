package ui_test

import (
	"context"
	"strings"
	"testing"

	"smista/db"
)

// TestComposeInPlace: where the external editor is off (the team server's
// sessions), r writes a reply in place: the text starts with the headers
// and the generated draft; ctrl+s saves what was typed; an edit left
// unchanged saves nothing, and a draft made for it is dropped again.
func TestComposeInPlace(t *testing.T) {
	d := seededDB(t)
	deps := testDeps(d)
	deps.Editor = ""
	m := newModel(t, deps, 100, 30)
	// The third row has a generated draft (fixture): r continues it.
	press(t, m, "j", "j", "r")
	out := plain(m)
	if !strings.Contains(out, "Editing draft #") || !strings.Contains(out, "To: ") || !strings.Contains(out, "Subject: Re: ") {
		t.Fatalf("r did not open the in-place editor with the headers:\n%s", out)
	}
	press(t, m, "ctrl+s")
	if out := plain(m); !strings.Contains(out, "unchanged: nothing saved") {
		t.Errorf("saving an unchanged text:\n%s", out)
	}
	drafts, err := d.Drafts(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, dr := range drafts {
		if dr.EditedBy != "" {
			t.Errorf("draft #%d counts as edited by %q after an unchanged save", dr.ID, dr.EditedBy)
		}
	}
	// A new message: typed, then saved.
	press(t, m, "m")
	if out := plain(m); !strings.Contains(out, "Editing draft #") {
		t.Fatalf("m did not open the editor:\n%s", out)
	}
	typeText(t, m, "x")
	press(t, m, "ctrl+s")
	after, err := d.Drafts(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var saved *db.DraftItem
	for i := range after {
		if after[i].Kind == db.DraftNew {
			saved = &after[i]
		}
	}
	if saved == nil || saved.EditedBy != "human:tester" {
		t.Fatalf("the new message was not saved as tester's: %+v", saved)
	}
	// Another new message left with esc is dropped, not kept pending.
	press(t, m, "m", "esc")
	final, err := d.Drafts(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(final) != len(after) {
		t.Errorf("%d drafts after a canceled new message, want %d (it is dropped)", len(final), len(after))
	}
}

// TestRegenerateAsksBeforeEdits: r on a draft a person edited asks first;
// n keeps the edit.
func TestRegenerateAsksBeforeEdits(t *testing.T) {
	d := seededDB(t)
	if err := d.EditDraft(context.Background(), 1, "my own words"); err != nil {
		t.Fatal(err)
	}
	m := newModel(t, testDeps(d), 100, 30)
	press(t, m, "2", "r")
	if out := plain(m); !strings.Contains(out, "holds edits by") || !strings.Contains(out, "[y/n]") {
		t.Fatalf("regenerate over an edit did not ask:\n%s", out)
	}
	press(t, m, "n")
	if dr := mustDraft(t, d, 1); dr.Body != "my own words" {
		t.Errorf("declining replaced the edit: %q", dr.Body)
	}
	press(t, m, "r", "y")
	if dr := mustDraft(t, d, 1); dr.Body == "my own words" || dr.EditedBy != "" {
		t.Errorf("accepting kept the edit: %+v", dr)
	}
}

// TestExternalEditorUnchanged: an editor that exits without changing the
// file ("true") saves nothing: the draft keeps its text and does not
// count as edited.
func TestExternalEditorUnchanged(t *testing.T) {
	// No sender: its notices take the status line, and one in the same
	// frame as the editor's answer would hide it.
	e := newFlowEnvIdle(t, nil)
	e.deps.Editor = "true"
	e.start(t)
	before := mustDraft(t, e.d, 1)
	e.keys("2")
	e.waitOutput(t, "thank you for letting us know")
	e.keys("E")
	e.waitOutput(t, "unchanged: nothing saved")
	if after := mustDraft(t, e.d, 1); after != before {
		t.Errorf("an unchanged editor changed the draft: %+v, was %+v", after, before)
	}
}
