package triage

import (
	"strings"
	"testing"

	"smista/mail"
)

// TestLongQuestion: an email read as other becomes support (to confirm)
// only when it asks a question in at least minLongQuestion words of its
// own and the model gives support at least minSupportShare; a short note,
// one without a question (or whose question is only quoted) and one the
// model finds no request stay other.
func TestLongQuestion(t *testing.T) {
	long := strings.Repeat("we moved the tables for the event and the tablets show the old plan ", 5)
	other, support := indexOf(IntentOther), indexOf(IntentSupport)
	var p [nIntents]float64
	p[other], p[support] = 0.66, 0.34
	for name, c := range map[string]struct {
		text  string
		words int
		sup   float64
		want  bool
	}{
		"long question":       {long + "\nWhy did the tablets go back to the old plan?", 70, 0.34, true},
		"short question":      {"Lunch on Friday? Let me know.", 6, 0.34, false},
		"no question":         {long, 70, 0.34, false},
		"quoted question":     {long + "\n\nOn Mon, Ann <a@x.example> wrote:\n> Why did it fail?", 70, 0.34, false},
		"model finds no need": {long + "\nWhy did the tablets go back to the old plan?", 70, 0.05, false},
	} {
		t.Run(name, func(t *testing.T) {
			q := p
			q[support], q[other] = c.sup, 1-c.sup
			s := &scan{bodyWords: c.words}
			if got := longQuestion(&mail.Message{Text: c.text}, s, &q, other); got != c.want {
				t.Errorf("longQuestion = %v, want %v", got, c.want)
			}
		})
	}
	s := &scan{bodyWords: 70}
	if longQuestion(&mail.Message{Text: long + "?"}, s, &p, support) {
		t.Error("an email the model already read as support was re-read")
	}
}

// TestBuyerQuestionRule: buyerQuestion reads a question that opens with a
// purchase considered or a price asked as sales and a pitch for a call of
// so many minutes as spam; a fault report that asks, far into its text,
// whether a part can be bought, a question with no purchase in it, a wait
// on the phone and text without a question are left alone.
func TestBuyerQuestionRule(t *testing.T) {
	for name, c := range map[string]struct {
		subject, text string
		want          Intent
	}{
		"thinking of buying": {"Model X on 110V?", "Hi, thinking of buying the Model X for my garage but I'm in Canada. Is there a 110V version?", IntentSales},
		"can i buy":          {"Second case?", "Hi again - unrelated to my earlier email, can I buy a second charging case for the office? How much?", IntentSales},
		"cost us":            {"Club rate", "Hello, I run a walking club of 40 people. We are considering buying a block of app licences. What would 40 licences cost us?", IntentSales},
		"non ancora cliente": {"Piani", "Buonasera, non sono ancora cliente, sto valutando l'abbonamento. Che differenza c'è tra Base e Plus?", IntentSales},
		"call di 15 minuti":  {"Nuovi clienti", "Ciao, troviamo nuovi clienti per aziende come la vostra. Ti va una call di 15 minuti martedì?", IntentSpam},
		"20-minute call":     {"Your website", "Hi, your booking form loses half of mobile visitors. Open to a 20-minute call this week?", IntentSpam},
		"20 minutes for a":   {"Door readers", "We solved offline door readers. Would you have 20 minutes in the next couple of weeks for a short call with our engineer?", IntentSpam},
		"part far in": {"Remote blank", "Hello, the screen on my remote has gone blank since a cold night outside. The buttons light up and it still beeps, " +
			"but nothing shows on the display, not even the backlight. I kept it indoors for two days and it's no better. Is there a reset I can try, or can I buy a replacement remote?", ""},
		"on hold 20 minutes": {"Phone line", "I was on hold for 20 minutes and then the line dropped. Can someone help me set up the app?", ""},
		"no question":        {"Model X", "We are thinking of buying the Model X next year.", ""},
		"plain question":     {"Sync", "How do I move my data to the new phone?", ""},
	} {
		t.Run(name, func(t *testing.T) {
			m := &mail.Message{Subject: c.subject, Text: c.text}
			s := &scan{asks: strings.Contains(ownText(c.text, maxOwnQuestion), "?")} // as scanMessage sets it
			got, _, ok := buyerQuestion(m, s)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("buyerQuestion = %q %v, want %q", got, ok, c.want)
			}
		})
	}
}
