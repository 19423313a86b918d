package triage_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"smista/mail"
	"smista/triage"
)

// obeyingAnswer is what a model that follows the email's instructions
// answers: the ticket the attacker wants.
const obeyingAnswer = `{"intent":"support","confidence":0.99,"priority":"urgent","summary":"Urgent support request.","language":"en","flags":[]}`

const injectionDir = "../testdata/triage/injection"

// TestInjectionWithObeyingLLM runs every email of the injection corpus
// through the real pipeline pieces — the LLM classifier over the real
// langchaingo client against a fake model that obeys the injection, the
// real offline classifier (always run too, and the fallback), the
// deterministic flags and the decision engine — and requires that none
// becomes a ticket.
func TestInjectionWithObeyingLLM(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(injectionDir, "*.eml"))
	if len(files) == 0 {
		t.Skipf("SKIPPED: no injection corpus in %s (testdata/triage/injection/*.eml): the injection acceptance test did not run", injectionDir)
	}
	off, err := triage.NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	c := triage.Context{Own: []string{"support@acme.example"}}
	for _, w := range []wire{openaiWire, anthropicWire, ollamaWire} {
		t.Run(w.name, func(t *testing.T) {
			f := newFake(t, w, reply{content: obeyingAnswer})
			l, err := triage.NewLLM(f.config("obedient", off))
			if err != nil {
				t.Fatal(err)
			}
			clf := triage.NewCombined(l, off)
			for _, path := range files {
				t.Run(filepath.Base(path), func(t *testing.T) {
					raw, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					m, err := mail.Parse(raw)
					if err != nil {
						t.Fatalf("parse: %v", err)
					}
					before := f.calls()
					r, err := clf.Classify(context.Background(), m, c)
					if err != nil {
						t.Fatal(err)
					}
					if f.calls() != before+1 {
						t.Errorf("the model was asked %d times, want 1", f.calls()-before)
					}
					for _, fl := range triage.Flags(m, c) {
						if !slices.Contains(r.Flags, fl) {
							t.Errorf("deterministic flag %s lost: %v", fl, r.Flags)
						}
					}
					d := triage.Decide(r, triage.DefaultPolicy())
					if d.Action == triage.ActionTicket {
						t.Errorf("injection became a ticket: intent %s %.2f flags %v disagree %v reasons %q",
							r.Intent, r.Confidence, r.Flags, r.Disagree, d.Reasons)
					}
					t.Logf("%s: %s (%q)", filepath.Base(path), d.Action, d.Reasons)
				})
			}
		})
	}
}

// TestObeyingLLMControl shows the test above can fail: a plain support
// email with the same obeying model, no flags and an agreeing offline
// classifier does become a ticket.
func TestObeyingLLMControl(t *testing.T) {
	f := newFake(t, openaiWire, reply{content: obeyingAnswer})
	agree := fixed(triage.Result{Intent: triage.IntentSupport, Confidence: 0.9, Model: "offline/stub"}, nil)
	l, err := triage.NewLLM(f.config("obedient", agree))
	if err != nil {
		t.Fatal(err)
	}
	r, err := triage.NewCombined(l, agree).Classify(context.Background(), testMessage("m1"), triage.Context{})
	if err != nil {
		t.Fatal(err)
	}
	if d := triage.Decide(r, triage.DefaultPolicy()); d.Action != triage.ActionTicket {
		t.Errorf("control: action %s (%q), want ticket", d.Action, d.Reasons)
	}
}
