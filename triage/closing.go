package triage

import (
	"strings"

	"smista/mail"
)

// A closing reply ("thanks, it works now", "grazie, risolto", "all good,
// you can close this") ends a thread: it asks for nothing, so it is never
// a ticket. It is recognised by its own words (quotes and signature
// removed): a resolution or a close phrase, no question, nothing that says
// something is still wrong, and little else.

// closingPhrases say the matter is settled with a resolution ("it works
// now"), which closes with a thanks; an explicit close ("nothing else
// needed") closes alone and is listed once, in closePhrases. Their words are not read as
// blockers: "no further action needed" is a close, "not working" is not.
const closingPhrases = `fixed
work
work now
work fine
work again
no more problem
no more problems
no more issues
no more errors
nessun altro problema
fixes it
solved
resolved
sorted
sorted out
works
works now
works fine
works great
works perfectly
working
working again
working now
it worked
that worked
did it
did the trick
that did it
all good
all good now
all set
all fine
fine
all clear
got it
all working
all sorted
everything is fine
everything works
everything is working
back to normal
is back
are back
back in
coming in again
managed
risolto
risolta
risolti
risolto tutto
sistemato
sistemata
funziona
funzionano
funziona di nuovo
ora funziona
adesso funziona
ora va
adesso va
va bene
tutto ok
tutto a posto
tutto risolto
tutto funziona
tutto chiaro
è tornato
sono tornati
riuscito
riuscita
riusciti`

// closePhrases close a thread even without a thanks; the other closing
// phrases need one ("da altri operatori funziona" reports a problem).
const closePhrases = `no further action
no further action needed
nothing else
nothing else needed
nothing more needed
no need
no longer needed
you can close
can close this
can close the ticket
close the ticket
close this ticket
problem solved
issue solved
issue resolved
non serve altro
non serve più
non c è bisogno
non c è più bisogno
potete chiudere
puoi chiudere
potete chiudere la richiesta
potete chiudere la segnalazione
chiudere la richiesta
chiudere il ticket
si può chiudere
problema risolto
consider this closed
consider it closed
consider the ticket closed
consider the case closed
consider the request closed
you may close
feel free to close
considerare chiusa
considerare chiuso
considerarla chiusa
considerate chiusa
considerate chiuso
può essere chiusa
può essere chiuso
possono essere chiuse
can be closed
may be closed`

// thanksWords thank: with a resolution they make a closing reply.
var thanksWords = map[string]bool{"thanks": true, "thank": true, "thx": true, "cheers": true, "grazie": true,
	"ringrazio": true, "ringraziamo": true, "merci": true, "danke": true}

// closingBlockers say something is still wrong or a new request follows.
var closingBlockers = map[string]bool{
	"still": true, "but": true, "however": true, "except": true, "another": true, "not": true, "no": true,
	"t": true, "cannot": true, "never": true, "error": true, "problem": true, "issue": true, "fails": true,
	"failed": true, "failing": true, "broken": true, "also": true,
	"ancora": true, "però": true, "ma": true, "tuttavia": true, "tranne": true, "altro": true, "altra": true,
	"non": true, "nemmeno": true, "neanche": true, "mai": true, "errore": true, "problema": true,
	"invece": true, "anche": true,
}

// maxClosingWords bounds the own text of a closing reply: a longer text
// says more than "it works".
const maxClosingWords = 60

// closingReply reports a reply whose own words only close the thread.
func closingReply(m *mail.Message, cl *closingLexicon) bool {
	subj := strings.ToLower(strings.TrimSpace(m.Subject))
	if m.InReplyTo == "" && len(m.References) == 0 && !isReplySubject(subj) {
		return false
	}
	own := ownText(m.Text, 1200)
	own = strings.TrimSpace(cutSignature(own))
	if own == "" || strings.Contains(own, "?") {
		return false
	}
	var t tokenizer
	t.reset(own)
	words := make([]string, 0, 32)
	for t.next() {
		if len(words) == maxClosingWords {
			return false
		}
		words = append(words, string(t.buf))
	}
	covered := make([]bool, len(words))
	resolved, closed, thanked := false, false, false
	for i, w := range words {
		thanked = thanked || thanksWords[w]
		for _, p := range cl.starts[w] {
			if i+len(p.words) <= len(words) && equalWords(words[i:i+len(p.words)], p.words) {
				resolved = true
				closed = closed || p.close
				for k := range p.words {
					covered[i+k] = true
				}
			}
		}
	}
	if !closed && !(resolved && thanked) {
		return false
	}
	for i, w := range words {
		if !covered[i] && closingBlockers[w] {
			return false
		}
	}
	return true
}

func equalWords(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// closingLexicon indexes closingPhrases and closePhrases by first word.
type closingLexicon struct {
	starts map[string][]closingPhrase
}

type closingPhrase struct {
	words []string
	close bool // closes without a thanks
}

func newClosingLexicon() *closingLexicon {
	cl := &closingLexicon{starts: map[string][]closingPhrase{}}
	for i, list := range [...]string{closingPhrases, closePhrases} {
		for _, line := range strings.Split(list, "\n") {
			if ws := strings.Fields(line); len(ws) > 0 {
				cl.starts[ws[0]] = append(cl.starts[ws[0]], closingPhrase{words: ws, close: i == 1})
			}
		}
	}
	return cl
}

// isReplySubject reports a subject that answers or forwards another
// message: "Re:", "R:", "Rif:", "Aw:", "Sv:", "Fwd:", "Fw:", "I:", "Tr:".
func isReplySubject(lower string) bool {
	for _, p := range [...]string{"re:", "r:", "rif:", "aw:", "sv:", "fwd:", "fw:", "i:", "tr:", "wg:", "re :"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// signOffs are whole lines that take leave; what follows them is the
// signature (name, role, company, addresses), not the sender's request.
var signOffs = map[string]bool{
	"thanks": true, "thank you": true, "thanks a lot": true, "many thanks": true, "thanks again": true,
	"thank you in advance": true, "thanks in advance": true, "cheers": true, "regards": true,
	"best regards": true, "kind regards": true, "warm regards": true, "best wishes": true, "best": true,
	"sincerely": true, "yours sincerely": true, "yours faithfully": true, "with kind regards": true,
	"all the best": true, "thank you very much": true, "thanks so much": true, "many thanks in advance": true,
	"grazie": true, "grazie mille": true, "grazie ancora": true, "grazie in anticipo": true, "saluti": true,
	"cordiali saluti": true, "distinti saluti": true, "un saluto": true, "buona giornata": true,
	"a presto": true, "grazie e saluti": true, "grazie e buona giornata": true, "ciao": true,
	"un caro saluto": true, "cordialmente": true, "saluti cordiali": true, "grazie per l aiuto": true,
	"ringraziando porgo cordiali saluti": true, "in attesa di riscontro": true, "resto in attesa": true,
}

// maxSignatureLines bounds what a sign-off line may be followed by for it
// to count as the start of a signature.
const maxSignatureLines = 8

// cutSignature returns text up to its last sign-off line ("Regards,",
// "Cordiali saluti") when at most maxSignatureLines non-blank lines follow
// it: a signature names the sender's firm ("Studio Legale", "Invoice
// Department"), which is not what the email is about.
func cutSignature(text string) string {
	lines := strings.Split(text, "\n")
	after := 0
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if isSignOff(l) {
			if i == 0 {
				return text
			}
			return strings.Join(lines[:i], "\n")
		}
		after++
		if after > maxSignatureLines {
			break
		}
	}
	return text
}

// isSignOff reports a line that only takes leave, optionally followed by a
// name: "Regards,", "Thanks, Jane", "Cordiali saluti.".
func isSignOff(line string) bool {
	l := strings.ToLower(strings.TrimRight(line, " ,.!"))
	if len(l) > 40 {
		return false
	}
	var t tokenizer
	t.reset(l)
	var ws []string
	for t.next() {
		ws = append(ws, string(t.buf))
	}
	// the phrase alone, or the phrase and one or two words of a name after
	// a comma
	for n := len(ws); n >= 1 && n >= len(ws)-2; n-- {
		if signOffs[strings.Join(ws[:n], " ")] && (n == len(ws) || strings.Contains(l, ",")) {
			return true
		}
	}
	return false
}
