package triage_test

import (
	"context"
	"slices"
	"testing"

	"smista/mail"
	"smista/triage"
)

func replyMsg(subject, text string) *mail.Message {
	return &mail.Message{From: mail.Address{Addr: "a@client.example"}, Subject: subject, Text: text,
		InReplyTo: "<case-1@support.example>", Header: map[string][]string{}}
}

// TestClosingReplies: a reply that only closes the thread is other, never a
// ticket; one that says the problem is still there, or asks something new,
// stays a request.
func TestClosingReplies(t *testing.T) {
	o := mustOffline(t)
	closing := map[string]*mail.Message{
		"all good":           replyMsg("Re: Error 500", "All good now, thanks!"),
		"nothing else":       replyMsg("Re: Recall list empty", "All good now, thanks. Nothing else needed, you can close this.\n\nSophie"),
		"no further action":  replyMsg("Re: CLI login loop", "Updating the CLI to 3.8.3 fixed it. Thank you, no further action needed."),
		"grazie risolto":     replyMsg("R: non funziona niente", "grazie, risolto! ora si aprono tutte le schede"),
		"non serve altro":    replyMsg("R: report IVA", "Gentile assistenza, grazie per la spiegazione, era una nota registrata nel mese sbagliato. Ora i totali coincidono. Non serve altro.\n\nCordiali saluti\nIrene"),
		"adesso va":          replyMsg("R: non va internet", "ok adesso va, grazie mille!\nInviato da iPhone"),
		"potete chiudere":    replyMsg("R: import", "Perfetto, è andato tutto a buon fine. Grazie mille, potete chiudere la richiesta.\n\nLucia"),
		"considerare chiusa": replyMsg("R: Caso 112: sincronizzazione ferma", "Buongiorno, confermo che dopo il riavvio del servizio la sincronizzazione è ripartita. Potete considerare chiusa la pratica.\n\nSaluti\nMarco"),
		"consider it closed": replyMsg("Re: Case 88: export empty", "The export came through complete this morning. Consider it closed, thanks for the quick help.\n\nTom"),
		"they work":          replyMsg("Re: Members can't sign up", "New invitation links work, people are signing up. Thanks a lot!"),
		"no more problem":    replyMsg("Re: scanner don't read", "Scanner is working now after your help. Thank you very much, no more problem."),
		"può essere chiusa":  replyMsg("R: Richiesta di supporto - report non allineati", "Buongiorno,\n\nconfermo che dopo la procedura che ci avete inviato i report sono allineati e il revisore li ha accettati. Ringraziamo per la disponibilità; la pratica può essere chiusa.\n\nDistinti saluti\nDott. Marco Neri"),
		"quoted problem":     replyMsg("Re: Checkout stuck", "All sorted, orders are coming in again. Cheers!\n\nOn Mon, Support wrote:\n> Is the checkout still failing? The error is on our side."),
	}
	for name, m := range closing {
		t.Run(name, func(t *testing.T) {
			r, d, _, err := triage.Triage(context.Background(), o, m, triage.Options{Policy: triage.DefaultPolicy()})
			if err != nil {
				t.Fatal(err)
			}
			if r.Intent != triage.IntentOther || d.Action == triage.ActionTicket || !slices.Contains(r.Notes, "rule: closing reply, no new request") {
				t.Errorf("intent %s %.2f action %s notes %q: want a closing reply", r.Intent, r.Confidence, d.Action, r.Notes)
			}
		})
	}
	open := map[string]*mail.Message{
		"still happening":   replyMsg("Re: Guest users", "Thanks for the quick answer, but it's still happening. I removed the guest from the group and can still open the page."),
		"fixed but another": replyMsg("Re: Export", "The export is fixed, thanks. Another problem now: the import fails with error 500."),
		"new question":      replyMsg("Re: Login", "It works now, thank you! How do I add a second administrator?"),
		"don't work":        replyMsg("Re: Codes", "Thanks, but the new codes don't work either, same error."),
		"non funziona":      replyMsg("R: accesso", "Grazie, ma non funziona ancora: la pagina resta bianca."),
		"not a reply":       {From: mail.Address{Addr: "a@client.example"}, Subject: "Export", Text: "All good now, thanks!", Header: map[string][]string{}},
	}
	for name, m := range open {
		t.Run(name, func(t *testing.T) {
			r := classify(t, o, m, triage.Context{})
			if slices.Contains(r.Notes, "rule: closing reply, no new request") {
				t.Errorf("read as a closing reply: %s %.2f", r.Intent, r.Confidence)
			}
		})
	}
}

// TestFlagsOwnWords: the payments and legal flags are judged on what the
// sender wrote, not on a thread's reused subject nor on a signature that
// names a law firm or an invoicing department.
func TestFlagsOwnWords(t *testing.T) {
	cases := map[string]struct {
		m    *mail.Message
		want []triage.Flag
	}{
		"reused invoice subject":         {replyMsg("Re: Invoice March", "Since yesterday I cannot log in anymore: after the password the login page comes back without any error. Tried two computers."), nil},
		"reused subject, short own text": {replyMsg("Re: Refund request", "Any news?"), []triage.Flag{triage.FlagPayments}},
		"subject of a new email":         {&mail.Message{Subject: "Refund", Text: "Please see my previous email, I am still waiting for an answer about it."}, []triage.Flag{triage.FlagPayments}},
		"law firm signature":             {&mail.Message{Subject: "Immagini sgranate", Text: "Buongiorno,\n\nda quando abbiamo caricato le nuove foto le immagini nella pagina prodotto appaiono sgranate. C'è un'impostazione da modificare?\n\nGrazie,\nLaura\n\nAvv. Laura Benedetti\nStudio Legale Benedetti\nVia Garibaldi 14, Torino"}, nil},
		"lawyer in the text":             {&mail.Message{Subject: "Negozio offline", Text: "Il negozio è offline da tre giorni. Se non è risolto entro domani mi rivolgo al mio avvocato.\n\nCordiali saluti\nDavide"}, []triage.Flag{triage.FlagLegal}},
		"billing signature":              {&mail.Message{Subject: "Crash on start", Text: "The desktop app crashes on start since the update, every time, on two computers.\n\nKind regards,\nAnna Rossi\nInvoice and payments office\nFabrikam Ltd"}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := triage.Flags(tc.m, triage.Context{}); !slices.Equal(got, tc.want) {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
		})
	}
}

// TestThanksNote: an email written to thank ("I just wanted to say thank
// you to your engineer", "volevo solo ringraziare") is other and never a
// ticket; thanks in advance, or thanks followed by a question or by what
// is still wrong, is no thank-you note.
func TestThanksNote(t *testing.T) {
	o := mustOffline(t)
	const note = "rule: a thank-you note, nothing asked"
	notes := map[string]*mail.Message{
		"wanted to say thank you": homeMsg("thank you", "Hello, I just wanted to say thank you to the technician who came on Monday. "+
			"He fixed the boiler in ten minutes, explained the settings to my father and left everything clean. Please pass it on.\n\nRuth"),
		"a note to say thanks": homeMsg("Thanks!", "Just a quick note to say thanks: the replacement charger arrived this morning and works perfectly.\n\nOmar"),
		"volevo solo ringraziare": homeMsg("Grazie", "Buongiorno, volevo solo ringraziare la ragazza del vostro servizio clienti che ieri "+
			"mi ha aiutato a configurare l'app con tanta pazienza. Se potete, fateglielo sapere.\n\nCordiali saluti\nAnna"),
		"scrivo per ringraziarvi": homeMsg("un grazie", "Scrivo solo per ringraziarvi: la consegna è arrivata in anticipo e tutto era imballato benissimo."),
	}
	for name, m := range notes {
		t.Run(name, func(t *testing.T) {
			r := classify(t, o, m, triage.Context{})
			d := triage.Decide(r, triage.DefaultPolicy())
			if r.Intent != triage.IntentOther || d.Action == triage.ActionTicket || !slices.Contains(r.Notes, note) {
				t.Errorf("%s %.2f %s %q: want other, no ticket, the thank-you note rule", r.Intent, r.Confidence, d.Action, r.Notes)
			}
		})
	}
	requests := map[string]*mail.Message{
		"thanks, then a question": homeMsg("calendar", "I wanted to thank you for the quick fix last week. Now the calendar "+
			"will not open on my phone at all, could you look at it?"),
		"thanks, still wrong": homeMsg("scanner", "I wanted to thank you for the new scanner, unfortunately it stopped reading barcodes after the update."),
		"thanks in advance":   homeMsg("scanner", "I'd like to thank you in advance for looking into this: the scanner stopped reading barcodes after the update."),
		"grazie, però":        homeMsg("stampante", "Volevo ringraziarvi per l'intervento, però la stampante si blocca di nuovo dopo due pagine."),
		"thanks as sign-off":  homeMsg("export", "The invoice export stops halfway and the file it saves is empty.\n\nThanks,\nLena"),
	}
	for name, m := range requests {
		t.Run(name, func(t *testing.T) {
			if r := classify(t, o, m, triage.Context{}); slices.Contains(r.Notes, note) {
				t.Errorf("%s %.2f %q: a request read as a thank-you note", r.Intent, r.Confidence, r.Notes)
			}
		})
	}
}
