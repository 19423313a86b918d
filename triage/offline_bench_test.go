package triage_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"smista/mail"
	"smista/mail/mailtest"
	"smista/triage"
)

// benchEmails returns typical 2–4 KB emails, English and Italian: a request,
// a quoted earlier message and a signature.
func benchEmails() []*mail.Message {
	en := "Hi team,\n\nsince this morning I can't log in to the web app: after the password the page shows " +
		"'Something went wrong' and sends me back to the login form. I tried Chrome and Firefox, cleared the cache " +
		"and reset my password twice, with the same result. My colleagues in the Milan office have the same problem, " +
		"while the mobile app still works. We need to submit the timesheets for payroll by Friday, so this is " +
		"blocking the whole team. Could you please look into it and tell us if there is a workaround?\n\n" +
		"Steps to reproduce:\n1. open the login page\n2. enter email and password\n3. press Sign in\n\n" +
		"Browser: Chrome 130 on Windows 11. Account: northwind-retail. Error id: 7f3a-19c2.\n\nThanks,\nJane\n\n"
	it := "Buongiorno,\n\nda stamattina non riesco ad accedere all'applicazione web: dopo la password la pagina mostra " +
		"'Qualcosa è andato storto' e mi riporta al modulo di accesso. Ho provato con Chrome e Firefox, ho svuotato " +
		"la cache e reimpostato la password due volte, sempre con lo stesso risultato. Anche i colleghi della sede " +
		"di Milano hanno lo stesso problema, mentre l'app sul telefono funziona. Dobbiamo inviare i fogli ore per le " +
		"buste paga entro venerdì, quindi il problema blocca tutto il team. Potete verificare e dirci se c'è una " +
		"soluzione temporanea?\n\nPassi per riprodurre:\n1. aprire la pagina di accesso\n2. inserire email e password\n" +
		"3. premere Accedi\n\nBrowser: Chrome 130 su Windows 11. Account: rossi-ristorazione.\n\nGrazie,\nGiulia\n\n"
	quote := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(s, "\n") {
			b.WriteString("> " + l + "\n")
		}
		return b.String()
	}
	sig := "-- \nJane Doe\nOperations Manager, Northwind Retail Ltd\nPhone +44 20 7946 0000\nwww.northwind.example\n\n" +
		"This email and any attachments are confidential and intended solely for the addressee.\n"
	moreEN := "More details: the problem started after the maintenance window announced for last night. Before that " +
		"everything worked. We use single sign-on with our identity provider for the office staff and plain passwords " +
		"for the store managers, and both groups are affected. The status page says all systems are operational. " +
		"If you need a HAR file or a screen recording, tell me and I will send it right away.\n\n"
	moreIT := "Altri dettagli: il problema è iniziato dopo la manutenzione annunciata per ieri sera. Prima funzionava " +
		"tutto. Usiamo l'accesso single sign-on con il nostro identity provider per gli impiegati e le password per i " +
		"responsabili dei negozi, e il problema riguarda entrambi. La pagina di stato dice che tutti i sistemi sono " +
		"operativi. Se vi serve un file HAR o una registrazione dello schermo, ditemelo e ve li mando subito.\n\n"
	var out []*mail.Message
	for i, body := range []string{
		en + moreEN + "On Mon, Support wrote:\n" + quote(en) + sig,
		it + moreIT + "Il giorno lun, Assistenza ha scritto:\n" + quote(it) + sig,
		en + moreEN + "On Mon, Support wrote:\n" + quote(en+moreEN) + sig,
		it + moreIT + "Il giorno lun, Assistenza ha scritto:\n" + quote(it+moreIT),
	} {
		out = append(out, &mail.Message{
			ID: fmt.Sprint("bench", i), MessageID: fmt.Sprintf("<bench%d@x.example>", i),
			From:    mail.Address{Name: "Jane Doe", Addr: "jane@northwind.example"},
			Subject: "Cannot log in / Non riesco ad accedere", Text: body,
			Header: map[string][]string{"Subject": {"x"}},
		})
	}
	return out
}

// BenchmarkClassifyOffline measures the offline classifier (flags, rules,
// summary and draft included) on typical 2–4 KB emails.
func BenchmarkClassifyOffline(b *testing.B) { benchClassify(b, mustOffline(b)) }

// benchClassify measures c on the benchmark emails.
func benchClassify(b *testing.B, o triage.Classifier) {
	msgs := benchEmails()
	var size int
	for _, m := range msgs {
		size += len(m.Subject) + len(m.Text)
	}
	b.SetBytes(int64(size / len(msgs)))
	ctx := context.Background()
	c := triage.Context{VIP: []string{"bigclient.example"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := o.Classify(ctx, msgs[i%len(msgs)], c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

func TestBenchEmailsAreTypical(t *testing.T) {
	for _, m := range benchEmails() {
		if n := len(m.Text); n < 2000 || n > 4096 {
			t.Errorf("bench email of %d bytes, want 2–4 KB", n)
		}
	}
}

// BenchmarkTriageOffline measures triage.Triage with the offline
// classifier: classification, the deterministic flags (read once, in the
// classifier's pass), the decision and a ticket's payload.
func BenchmarkTriageOffline(b *testing.B) {
	o := mustOffline(b)
	msgs := benchEmails()
	opts := triage.Options{Context: triage.Context{VIP: []string{"bigclient.example"}}, Policy: triage.DefaultPolicy()}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, _, err := triage.Triage(ctx, o, msgs[i%len(msgs)], opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkTriageCorpus measures, on one goroutine, what a triage run
// spends per message of the SpamAssassin corpus besides the store: the
// body parse of a message stored by a sync (mail.FillBodySeeing, the
// HTML facts gathered: "fill"), the
// offline classification with the flags, the decision and a ticket's
// payload ("triage"), and the two in turn, as a run does them ("both").
// It is skipped without SMISTA_CORPUS.
func BenchmarkTriageCorpus(b *testing.B) {
	dir := os.Getenv("SMISTA_CORPUS")
	if dir == "" {
		b.Skip("SMISTA_CORPUS not set: the corpus benchmark was NOT run")
	}
	corpus, err := mailtest.LoadCorpus(dir)
	if err != nil {
		b.Skip("no corpus:", err)
	}
	stored := make([]*mail.Message, corpus.Len())
	filled := make([]*mail.Message, corpus.Len())
	for i := range stored {
		m, err := mail.ParseHeader(corpus.Message(i))
		if err != nil {
			b.Fatal(err)
		}
		stored[i] = m
		f := *m
		mail.FillBody(&f)
		filled[i] = &f
	}
	c := mustOffline(b)
	opts := triage.Options{Policy: triage.DefaultPolicy()}
	ctx := context.Background()
	// one op is the whole corpus, so that every run weighs the same mails
	run := func(b *testing.B, fill, classify bool) {
		b.ReportAllocs()
		for b.Loop() {
			for i, m := range filled {
				o := opts
				if fill {
					// as a triage run does: the HTML facts gathered while
					// an HTML-only body is rendered
					cp := *stored[i]
					facts := new(triage.HTMLFacts)
					if mail.FillBodySeeing(&cp, facts.See) {
						facts.Cover(cp.HTML)
						o.Context.HTML = facts
					}
					m = &cp
				}
				if classify {
					if _, _, _, err := triage.Triage(ctx, c, m, o); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		n := float64(b.N) * float64(len(filled))
		b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/email")
		b.ReportMetric(n/b.Elapsed().Seconds(), "emails/s")
	}
	b.Run("fill", func(b *testing.B) { run(b, true, false) })
	b.Run("triage", func(b *testing.B) { run(b, false, true) })
	b.Run("both", func(b *testing.B) { run(b, true, true) })
}
