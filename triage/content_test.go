package triage_test

import (
	"fmt"
	"slices"
	"testing"

	"smista/mail"
	"smista/triage"
)

// TestContentlessRequest: a short request that says something is wrong, or
// asks for a call, without saying what is no ticket however sure the
// model is (a person has to ask back); a short request that names what is
// wrong is unaffected.
func TestContentlessRequest(t *testing.T) {
	o := mustOffline(t)
	msg := func(subject, text string) *mail.Message {
		return &mail.Message{From: mail.Address{Addr: "someone@home.example"}, Subject: subject, Text: text}
	}
	const note = "says something is wrong but not what: ask back"
	vague := map[string]*mail.Message{
		"broken, fix it":   msg("broken", "still broken. fix it please\n\nSent from my iPhone"),
		"call me":          msg("urgent", "call me back asap 555 0100 222"),
		"richiamatemi":     msg("aiuto", "non funziona, richiamatemi per favore\n\nInviato da iPhone"),
		"is this normal":   msg("this", "is this normal??\n\nSent from my Pixel"),
		"doesn't work sig": msg("not working", "it doesnt work again\n\nJoe"),
	}
	for name, m := range vague {
		t.Run(name, func(t *testing.T) {
			r := classify(t, o, m, triage.Context{})
			d := triage.Decide(r, triage.DefaultPolicy())
			if d.Action == triage.ActionTicket || r.Confidence > 0.75 || (r.Intent == triage.IntentSupport && !slices.Contains(r.Notes, note)) {
				t.Errorf("%s %.2f %s %q: want no ticket, confidence ≤ 0.75", r.Intent, r.Confidence, d.Action, r.Notes)
			}
		})
	}
	concrete := map[string]*mail.Message{
		"names the thing":    msg("app", "the calendar sync stopped since yesterday\n\nSent from my iPhone"),
		"non va internet":    msg("non va internet", "non va internet da stamattina\nInviato da iPhone"),
		"blank product page": msg("Help", "the product pages are all blank since I changed theme"),
	}
	for name, m := range concrete {
		t.Run(name, func(t *testing.T) {
			if r := classify(t, o, m, triage.Context{}); slices.Contains(r.Notes, note) {
				t.Errorf("%s %.2f %q: a request that names what is wrong read as contentless", r.Intent, r.Confidence, r.Notes)
			}
		})
	}
}

// TestMassMailing: an email addressed to ten or more people at once is
// no request to a support inbox, however much it reads like one.
func TestMassMailing(t *testing.T) {
	o := mustOffline(t)
	m := &mail.Message{From: mail.Address{Addr: "someone@home.example"}, Subject: "Cannot log in",
		Text: "Hi,\n\nI can't log in to my account since this morning, the page shows an error after the password. Can you help?\n\nThanks,\nJane"}
	if d := triage.Decide(classify(t, o, m, triage.Context{}), triage.DefaultPolicy()); d.Action != triage.ActionTicket {
		t.Fatalf("to one address: %s %q, want a ticket (the check needs a request the model is sure of)", d.Action, d.Reasons)
	}
	for i := range 12 {
		m.To = append(m.To, mail.Address{Addr: fmt.Sprintf("list%d@many.example", i)})
	}
	r := classify(t, o, m, triage.Context{})
	if d := triage.Decide(r, triage.DefaultPolicy()); d.Action == triage.ActionTicket || r.Confidence > 0.75 {
		t.Errorf("to 12 addresses: %s %.2f %q, want no ticket", d.Action, r.Confidence, r.Notes)
	}
}
