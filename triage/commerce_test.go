package triage_test

import (
	"testing"

	"smista/mail"
	"smista/triage"
)

// TestBuyerQuestion: a question that opens with a purchase considered or
// a price asked ("thinking of buying", "non sono ancora cliente") is sales
// and a pitch that asks for a call of so many minutes is spam, never a
// ticket however sure the model is that it is a request; a fault report
// that asks, further on, whether a part can be bought stays support.
func TestBuyerQuestion(t *testing.T) {
	o := mustOffline(t)
	for name, c := range map[string]struct {
		m    *mail.Message
		want triage.Intent
	}{
		"thinking of buying": {homeMsg("Model X on 110V?", "Hi, thinking of buying the Model X for my garage but I'm in Canada. Is there a 110V version, and do you ship here or through a dealer?\n\nthanks"), triage.IntentSales},
		"cost us":            {homeMsg("Club rate?", "Hello, I run a walking club of 40 people. We are considering buying a block of app licences for members. Can several people share one account, and what would 40 licences cost us?\n\nBest, Ann"), triage.IntentSales},
		"non ancora cliente": {homeMsg("Differenza tra i piani", "Buonasera, non sono ancora cliente, sto valutando l'abbonamento per mio padre. Che differenza c'è tra Base e Plus? Posso passare da uno all'altro dopo qualche mese?\n\nGrazie, Lucia"), triage.IntentSales},
		"can i buy a second": {homeMsg("Second charger?", "Hi again - unrelated to my earlier email, can I buy a second charging dock to keep at the office? How much, and does it come with the cable?\n\nCheers, Tom\n\nSent from my iPhone"), triage.IntentSales},
		"before i buy":       {homeMsg("Fermenter on 120V?", "Hey, thinking of buying the Brewmax 40 but I'm in Texas. Is there a 120V version? What breaker would I need? And do you ship to the US or is it through a distributor? thx"), triage.IntentSales},
		"group hours":        {homeMsg("Group rate for cloud hours?", "Hi, I'm the secretary of a cycling club (about 60 members). We're thinking of buying a block of coaching hours for members - say 50 hours to start with, shared between members. Can several members log in to one account? What would 50 hours cost us?\n\nThanks, Priya"), triage.IntentSales},
		"sto valutando":      {homeMsg("Differenza tra Box Classic e Pro", "Buonasera, non sono ancora abbonata, sto valutando di regalarlo a mio fratello per Natale. Che differenza c'è tra Classic e Pro? Se scelgo il Pro posso cambiare a Classic dopo qualche mese?\n\nGrazie\nMarta"), triage.IntentSales},
		"call di 15 minuti":  {homeMsg("Nuovi clienti ogni mese", "Ciao, aiutiamo aziende come la vostra a trovare nuovi clienti con campagne automatizzate. Ti va una call di 15 minuti martedì?\n\nSara"), triage.IntentSpam},
		"20-minute call":     {homeMsg("Your checkout loses buyers", "Hi, we audited your website: the booking form loses half of mobile visitors. We build booking sites from $2,900. Open to a 20-minute call this week?\n\nDan"), triage.IntentSpam},
	} {
		t.Run(name, func(t *testing.T) {
			r := classify(t, o, c.m, triage.Context{})
			if d := triage.Decide(r, triage.DefaultPolicy()); r.Intent != c.want || d.Action == triage.ActionTicket {
				t.Errorf("%s %.2f %s %q: want %s, no ticket", r.Intent, r.Confidence, d.Action, r.Notes, c.want)
			}
		})
	}
	fault := homeMsg("Controller screen blank", "Hello,\n\nThe screen on my remote has gone blank since a cold night outside. The buttons light up and it still beeps, but nothing shows on the display, not even the backlight. I kept it indoors for two days and it's no better.\n\nIs there a reset I can try, or can I buy a replacement remote?\n\nThank you,\nEleanor")
	r := classify(t, o, fault, triage.Context{})
	if r.Intent != triage.IntentSupport {
		t.Errorf("fault report that asks to buy a part: %s %.2f %q, want support", r.Intent, r.Confidence, r.Notes)
	}
}
