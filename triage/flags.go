package triage

import (
	"slices"
	"strings"
	"sync"

	"smista/mail"
)

// Flags computes the deterministic flags of m in code, never through a
// model: payments and legal (English and Italian keyword and phrase rules),
// vip (c.VIP: an exact address, or a domain that also covers its
// subdomains, compared case-insensitively with the From address) and
// injection (the email tries to steer a classifier: "ignore previous
// instructions", role markers, text that states its own intent or
// confidence, hidden HTML text, zero-width characters). The result is
// sorted and unique; nil when no flag applies.
func Flags(m *mail.Message, c Context) []Flag {
	sc := &flagScratch{tok: tokenizer{buf: make([]byte, 0, 64)}}
	lex := flagLex()
	sc.ids = sc.ids[:0]
	sc.found = 0
	for _, part := range [...]string{m.Subject, m.Text} {
		sc.tok.reset(part)
		for sc.tok.next() {
			id, ok := lex.words[string(sc.tok.buf)]
			if !ok {
				id = -1
			}
			sc.ids = append(sc.ids, id)
			if ok {
				sc.found |= lex.tokenBits(id, &sc.tok, sc.ids)
			}
		}
		sc.ids = append(sc.ids, -1) // subject and body never form one phrase
	}
	sc.found |= lex.phraseBits(sc.ids)
	sc.found |= rawInjectionBits(m)
	return flagsOf(sc.found, m, c)
}

// MergeFlags returns the union of the deterministic flags and those a model
// added, sorted and unique: a model may add a flag, never remove one.
// Unknown flags from a model are dropped.
func MergeFlags(deterministic, model []Flag) []Flag {
	var out []Flag
	for _, f := range slices.Concat(deterministic, model) {
		switch f {
		case FlagPayments, FlagLegal, FlagVIP, FlagInjection:
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// flag bits, in the sorted order of their names
const (
	bitInjection = 1 << iota
	bitLegal
	bitPayments
	bitVIP
	// bitBulk is no flag: newsletter and bulk-mail footer wording, which
	// the offline classifier reads as a strong "not a request" signal.
	bitBulk
	flagBits = bitInjection | bitLegal | bitPayments | bitVIP
)

func flagsOf(bits uint8, m *mail.Message, c Context) []Flag {
	bits &= flagBits
	if bits&(bitLegal|bitPayments) != 0 {
		// the keyword rules saw quotes and footers too: judge these two
		// on the sender's own words
		bits = bits&^(bitLegal|bitPayments) | ownFlagBits(m)
	}
	if isVIP(m.From.Addr, c.VIP) {
		bits |= bitVIP
	}
	if bits == 0 {
		return nil
	}
	out := make([]Flag, 0, 2)
	for _, f := range [...]struct {
		bit  uint8
		flag Flag
	}{{bitInjection, FlagInjection}, {bitLegal, FlagLegal}, {bitPayments, FlagPayments}, {bitVIP, FlagVIP}} {
		if bits&f.bit != 0 {
			out = append(out, f.flag)
		}
	}
	return out
}

// isVIP reports whether addr is listed, or its domain or a parent domain is.
func isVIP(addr string, vip []string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if addr == "" || at < 0 {
		return false
	}
	domain := addr[at+1:]
	for _, v := range vip {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		if strings.Contains(v, "@") && !strings.HasPrefix(v, "@") {
			if v == addr {
				return true
			}
			continue
		}
		v = strings.TrimPrefix(strings.TrimPrefix(v, "@"), ".")
		if domain == v || strings.HasSuffix(domain, "."+v) {
			return true
		}
	}
	return false
}

// flagScratch holds the buffers of one Flags call.
type flagScratch struct {
	tok   tokenizer
	ids   []int32
	found uint8
}

// phrase is a keyword rule: a sequence of words that raises a flag.
type phrase struct {
	bits uint8
	rest []int32 // word ids after the first
}

// flagLexicon indexes the keyword rules by word id.
type flagLexicon struct {
	words   map[string]int32
	starts  [][]phrase // by first word id
	role    []bool     // "assistant:" at the start of a line
	system  []bool     // "system:" at the start of a line, if an order follows
	order   []bool     // words that make "system: ..." an order
	selfKey []bool     // "confidence: 0.9", "intent: support"
	jsonKey []bool     // "priority": in JSON
}

// flagRules are the keyword rules, lowercase words separated by spaces; a
// token is a run of letters and digits, so "art. 17" is "art 17".
var flagRules = []struct {
	bits    uint8
	phrases string // one phrase per line
}{
	{bitPayments, `refund
refunds
refunded
refunding
chargeback
chargebacks
charge back
invoice
invoices
invoiced
credit card
debit card
card number
iban
bank transfer
wire transfer
payment
payments
double charged
charged twice
charged me twice
overcharged
paypal
billing error
charged me
charged us
charged my
charged our
charged for
charged again
i was charged
we were charged
i have been charged
we have been charged
i ve been charged
we ve been charged
extra charges
unexpected charges
hidden charges
bank charges
these charges
this charge
duplicate charge
charge on my card
charge on my account
billed
billed twice
payout
payouts
pay the bill
pay my bill
pay the invoice
pay online
pay by card
pay by bank transfer
pay with my card
pay with card
pay with paypal
can t pay
cannot pay
unable to pay
couldn t pay
paid twice
already paid
paid the bill
paid the invoice
direct debit
bank account
bank details
bank statement
bank statements
card details
card declined
card was declined
card rejected
my card
my credit card
my debit card
my bank card
company card
pre authorization
pre authorisation
by card
card on file
top up
topped up
my bill
the bill
your bill
this bill
the bills
credit note
late fee
bonifico
bonifici
rimborso
rimborsi
rimborsare
rimborsato
rimborsata
rimborsatemi
fattura
fatture
fatturazione
fatturato
addebito
addebiti
addebitato
addebitata
addebitati
addebitare
carta di credito
carta di debito
pagamento
pagamenti
pagato
pagata
storno
pagare
pago
paghiamo
pagano
bolletta
bollette
bollettino
bollettini
domiciliazione
addebito diretto
sepa
pagopa
caparra
acconto
con la carta
preautorizzazione
carta del cliente
bloccati sulla carta
della carta
dati della carta
numero della carta
la mia carta
la tua carta
della tua carta
carta con cui
pagavo
pagavamo
carta aziendale
carta scaduta
nuova carta
estratto conto
conto corrente
incasso
incassi
canone
nota di credito
riaccredito`},
	{bitLegal, `gdpr
lawyer
lawyers
attorney
attorneys
lawsuit
lawsuits
legal action
legal proceedings
legal department
legal counsel
litigation
sue you
we will sue
i will sue
in court
to court
court case
court action
court proceedings
subpoena
cease and desist
solicitor
solicitors
data deletion
delete my data
delete all my data
erase my data
right to erasure
right to be forgotten
article 17
art 17
data protection authority
data protection officer
dpo
avvocato
avvocati
avvocata
avvocatessa
studio legale
azione legale
azioni legali
vie legali
via legale
causa legale
diffida
diffidiamo
diffido
tribunale
giudice
querela
denuncia
decreto ingiuntivo
garante privacy
garante della privacy
garante per la protezione dei dati
garante per la privacy
cancellazione dei miei dati
cancellare i miei dati
cancellate i miei dati
diritto all oblio
diritto alla cancellazione
legal notice
formal notice
breach of contract
breach of the agreement
breach of the contract
data breach
my personal data
subject access request
data subject access
right of access
article 15
art 15
copyright infringement
trademark infringement
infringement
infringing
dmca
intellectual property
information commissioner
consumer protection
statutory rights
my legal rights
claim for damages
compensation for damages
hold you liable
messa in mora
inadempimento
inadempienza
risarcimento
violazione del contratto
risoluzione del contratto
miei dati personali
accesso ai miei dati
articolo 15
articolo 17
codice del consumo
associazione consumatori
polizia postale
un esposto
ufficio legale
il mio legale
mio legale
nostro legale
vostro legale
proprietà intellettuale
violazione del marchio
violazione del copyright
data breach notification
legal steps
take legal action
taking legal action
legal proceedings against
class action
small claims
small claims court
ombudsman
trading standards
report you to
reporting you to
formal complaint
consumer rights
consumer association
azione collettiva
ricorso
tutela legale
reclamo formale
associazione dei consumatori
associazioni dei consumatori
agcom
codacons
altroconsumo
tentativo di conciliazione
negligence
negligent
malpractice
professional misconduct
legal advice
the regulator
regulatory complaint
report this to
not fit for purpose
breach of warranty
negligenza
malasanità
colpa professionale
responsabilità civile
antitrust
federconsumatori
adiconsum
giudice di pace
segnalazione all autorità
formally request
formal request
richiesta formale
inspectorate
ispettorato
accertamento ispettivo
garanzia legale
legal guarantee
statutory warranty
diritto di recesso
right of withdrawal
police report
polizia
carabinieri
defamation
diffamazione
truffa
procedura di conciliazione
data processing agreement
data processing addendum
sub processors
standard contractual clauses
court order
criminal proceedings
comunico la disdetta
comunichiamo la disdetta
formale disdetta
disdetta del contratto
recesso dal contratto
procedimento penale
registro dei trattamenti
responsabile del trattamento
conservazione dei log
conservazione dei dati`},
	{bitInjection, `ignore previous instructions
ignore all previous instructions
ignore the previous instructions
ignore any previous instructions
ignore prior instructions
ignore all prior instructions
ignore your instructions
ignore all instructions
ignore the above
ignore all the above
ignore everything above
disregard previous instructions
disregard all previous instructions
disregard the previous instructions
disregard prior instructions
disregard all prior instructions
disregard your instructions
disregard the above
forget your instructions
forget all previous instructions
forget previous instructions
override instructions
system prompt
you are now a
you are now an
classify this as
classify this email as
classify this message as
classify it as
classify me as
classify as
mark this as
mark this email as
mark this message as
treat this as
treat this email as
categorize this as
categorise this as
label this as
label this email as
set confidence
set the confidence
set priority to
set the priority to
with confidence 1
with confidence 100
confidence of 1
ignora le istruzioni precedenti
ignora tutte le istruzioni precedenti
ignora tutte le istruzioni
ignora le istruzioni
ignora le tue istruzioni
ignora quanto sopra
ignora tutto quanto sopra
ignora le precedenti istruzioni
dimentica le istruzioni
dimentica le tue istruzioni
dimentica le istruzioni precedenti
prompt di sistema
classifica come
classifica questa email come
classifica questo messaggio come
classifica questa mail come
classificala come
classificare come
classifica questa come
segna come
segna questa email come
tratta questa email come
categorizza come
imposta la priorità
imposta la confidenza
con confidenza 1
con confidenza 100
sei ora
da ora sei
d ora in poi sei
d ora in avanti sei
developer mode
modalità sviluppatore
from now on you
from now on you are
pretend you are
pretend to be
forget everything
dimentica tutto
dimentica quanto detto
dimentica quanto sopra
sei un assistente
sei un modello
agisci come
fingi di essere
do not flag
don t flag
dont flag
do not add the flag
remove the flag
remove the payments flag
remove the legal flag
without flags
no flags
not a payment
non segnalare
non aggiungere il flag
rimuovi il flag
senza flag
non è un pagamento
treat as vip
treat me as vip
mark as vip
vip customer
vip client
cliente vip
trattami come vip
payments flag
legal flag
vip flag
injection flag
flag payments
flag legal
flag vip
flag injection
flag pagamenti
flag legale
the classifier
this classifier
automatic classifier
il classificatore
al classificatore
classificatore automatico
note to the model
note for the model
note to the ai
note for the ai
message to the ai
dear ai
dear model
if you are an ai
if you are a language model
if you are an llm
to the language model
to the ai model
ai model reading
ai reading this
nota per il modello
nota al modello
nota per l ia
nota per l ai
messaggio per il modello
caro modello
se sei un ia
se sei un intelligenza artificiale
se sei un modello
al modello linguistico
intelligenza artificiale che legge
triage system
sistema di triage
sistema di smistamento
smistamento automatico
with priority urgent
con priorità urgente`},
}

// bulkRules are footer phrases of newsletters and bulk mail.
const bulkRules = `to unsubscribe
unsubscribe here
click here to unsubscribe
unsubscribe from this list
unsubscribe from our mailing list
no longer wish to receive
to be removed from
remove you from our list
removed from our mailing list
opt out of
to opt out
this is not spam
you are receiving this email because
you received this email because
this email was sent to
this message was sent to
per disiscriverti
per cancellarti
clicca qui per cancellarti
non desideri più ricevere
non vuoi più ricevere
ricevi questa email perché
hai ricevuto questa email perché
ricevi questa newsletter
cancellarti dalla lista
annullare l iscrizione`

// order words turn "system: ..." at a line start into a role marker, so
// "System: Windows 11" in a bug report does not.
const orderWords = `you ignore disregard override classify new set mark treat respond reply output always never
sei ignora classifica nuove nuovo imposta rispondi tratta segna sempre mai`

// flagLex is the keyword rule table, built once on first use and never
// changed after.
var flagLex = sync.OnceValue(buildFlagLexicon)

func buildFlagLexicon() *flagLexicon {
	lex := &flagLexicon{words: map[string]int32{}}
	id := func(w string) int32 {
		if v, ok := lex.words[w]; ok {
			return v
		}
		v := int32(len(lex.words))
		lex.words[w] = v
		lex.starts = append(lex.starts, nil)
		lex.role = append(lex.role, false)
		lex.system = append(lex.system, false)
		lex.order = append(lex.order, false)
		lex.selfKey = append(lex.selfKey, false)
		lex.jsonKey = append(lex.jsonKey, false)
		return v
	}
	for _, r := range flagRules {
		for _, line := range strings.Split(r.phrases, "\n") {
			ws := strings.Fields(line)
			if len(ws) == 0 {
				continue
			}
			first := id(ws[0])
			p := phrase{bits: r.bits}
			for _, w := range ws[1:] {
				p.rest = append(p.rest, id(w))
			}
			lex.starts[first] = append(lex.starts[first], p)
		}
	}
	for _, r := range append(flagRules, struct {
		bits    uint8
		phrases string
	}{bitBulk, bulkRules})[len(flagRules):] {
		for _, line := range strings.Split(r.phrases, "\n") {
			ws := strings.Fields(line)
			if len(ws) == 0 {
				continue
			}
			first := id(ws[0])
			p := phrase{bits: r.bits}
			for _, w := range ws[1:] {
				p.rest = append(p.rest, id(w))
			}
			lex.starts[first] = append(lex.starts[first], p)
		}
	}
	for _, w := range strings.Fields("assistant assistente") {
		lex.role[id(w)] = true
	}
	for _, w := range strings.Fields("system sistema") {
		lex.system[id(w)] = true
	}
	for _, w := range strings.Fields(orderWords) {
		lex.order[id(w)] = true
	}
	for _, w := range strings.Fields("intent confidence confidenza intento classification classificazione") {
		lex.selfKey[id(w)] = true
	}
	for _, w := range strings.Fields("intent confidence priority category action flags priorità categoria azione") {
		lex.jsonKey[id(w)] = true
	}
	return lex
}

// tokenBits returns the flag bits that one token raises by its position:
// role markers and self-stated classifications. ids holds the ids so far,
// the current one last.
func (lex *flagLexicon) tokenBits(id int32, t *tokenizer, ids []int32) uint8 {
	if t.colon && (lex.selfKey[id] || (t.quoted && lex.jsonKey[id])) {
		return bitInjection
	}
	if t.colon && t.lineStart && (lex.role[id] || (lex.system[id] && t.upper)) {
		return bitInjection
	}
	// "system: <order>": the previous token is the role word
	if n := len(ids); n >= 2 && lex.order[id] {
		if prev := ids[n-2]; prev >= 0 && lex.system[prev] && t.prevSystemMarker {
			return bitInjection
		}
	}
	t.prevSystemMarker = t.colon && t.lineStart && lex.system[id]
	return 0
}

// phraseBits scans the word ids for keyword phrases.
func (lex *flagLexicon) phraseBits(ids []int32) uint8 {
	var bits uint8
	for i, id := range ids {
		if id < 0 {
			continue
		}
	next:
		for _, p := range lex.starts[id] {
			if bits&p.bits != 0 || i+len(p.rest) >= len(ids) {
				continue
			}
			for k, w := range p.rest {
				if ids[i+1+k] != w {
					continue next
				}
			}
			bits |= p.bits
		}
	}
	return bits
}
