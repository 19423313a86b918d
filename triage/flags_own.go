package triage

import (
	"strings"
	"unicode"

	"smista/mail"
)

// ownFlagBits returns the payments and legal bits of m judged on the
// subject and the sender's own words only (ownFlagText): a quoted earlier
// message, a signature or a confidentiality footer is not what this email
// asks. It is the slow path of the keyword rules, taken only when a whole
// email already raised one of the two flags, or named a currency and
// money moved (then phrases is false: the whole email had no phrase of
// either flag, so only an amount in the own words, in its first
// maxMoneyScan bytes, can raise payments).
func ownFlagBits(m *mail.Message, phrases bool) uint8 {
	lex := flagLex()
	var t tokenizer
	var idBuf [256]int32 // on the stack: most own texts fit
	ids := idBuf[:0]
	text := m.Text
	if !phrases && len(text) > maxMoneyScan {
		text = text[:maxMoneyScan]
	}
	own, enough := ownFlagText(text)
	subject := m.Subject
	lower := strings.ToLower(strings.TrimSpace(subject))
	switch {
	case enough && isReplySubject(lower):
		// a reply or forward keeps the thread's subject ("Re: Invoice
		// March"): with words of its own, the sender says what this email
		// is about
		subject = ""
	case autoReply(m, lower):
		// an out-of-office answer repeats the subject of the mail it
		// answers ("Out of office: invoice May"); it asks nothing itself
		subject = ""
	}
	var money bool
	for _, part := range [...]string{subject, own} {
		t.reset(part)
		am := amountScan{lastAmount: -moneyWindow - 1, lastMove: -moneyWindow - 1}
		for n := 0; t.next(); n++ {
			var kind uint8
			id, ok := lex.words[string(t.buf)]
			if ok {
				kind = lex.money[id]
			} else {
				id = -1
			}
			if phrases {
				ids = append(ids, id)
			}
			if am.next(part, &t, n, kind) {
				if money = true; !phrases {
					return bitPayments
				}
			}
		}
		ids = append(ids, -1)
	}
	var bits uint8
	if phrases {
		bits = lex.phraseBits(ids) & (bitLegal | bitPayments)
	}
	if money {
		bits |= bitPayments
	}
	return bits
}

// maxMoneyScan is how much of a body the amount check reads when no
// phrase sent the email to ownFlagBits: a request names its money early;
// a long email past it is a newsletter or spam.
const maxMoneyScan = 4 << 10

// An amount of money in the sender's own words is what the payments flag
// is about when the words around it say the money moved, is held or is
// owed: "the deposit of €96 is still held", "avere indietro i 210 euro",
// "the 95 euro back on my card". An amount alone is not enough: a price
// shown in the product ("the slicer says €11.80"), a price in the cart
// before buying, a credit left on a card are support with no payments.

// moneyWindow is how many words apart an amount and a word of money moved
// may be.
const moneyWindow = 8

// moneyMoveWords say that money moved back, is held or is owed (EN and
// IT), one a line: one-word rules of the flag lexicon too (bitMove).
const moneyMoveWords = `back
refund
refunded
refunds
refunding
reimburse
reimburses
reimbursed
reimbursing
reimbursement
credited
held
withheld
owe
owed
owing
deducted
deposit
overpaid
returned
indietro
rimborso
rimborsi
rimborsati
rimborsato
rimborsare
restituire
restituiti
restituito
restituzione
restituiscano
trattenuti
trattenuto
trattenuta
trattenute
caparra
cauzione
scalati
scalato
accreditare
accreditate
accreditati
accreditato
accreditata
riaccreditare
riaccreditati
riaccreditato`

// currencyNames name a currency after a number, one a line (a one-word
// rule each for the flag lexicon, bitMoney). "pounds" is left out: it
// weighs too ("5 pounds of hops").
const currencyNames = "eur\neuro\neuros\nusd\ndollars\ndollari\ngbp\nchf\nsterline\nfranchi"

// currencyBefore are the names written before an amount ("EUR 96", "USD
// 20"); not "euro", which names things too ("Euro 6").
const currencyBefore = "eur usd gbp chf"

// wordSet returns the words of s as a set.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// amountScan follows a token stream for a number next to a currency, a
// sign ("€96", "96 €", "$20", "£2.99") or a name ("210 euro", "EUR 96",
// "1.840,00 EUR"), within moneyWindow words of a word of moneyMoveWords.
type amountScan struct {
	prevNumber, prevCurrency bool
	lastAmount, lastMove     int
}

// next reads the tokenizer's current token of s, the n-th of s, whose
// money bits (flagLexicon.money) are kind, and reports an amount next to
// a word of money moved.
func (a *amountScan) next(s string, t *tokenizer, n int, kind uint8) bool {
	w := t.buf
	if allDigits(w) {
		start := t.i - len(w)
		if a.prevCurrency || signBefore(s[:start]) || signAfter(s[t.i:]) {
			a.lastAmount = n
		}
		a.prevNumber, a.prevCurrency = true, false
		return a.lastAmount == n && n-a.lastMove <= moneyWindow
	}
	if a.prevNumber && kind&moneyAfter != 0 {
		a.lastAmount = n
	}
	if kind&moneyMove != 0 {
		a.lastMove = n
	}
	a.prevNumber, a.prevCurrency = false, kind&moneyBefore != 0
	return a.lastAmount == n && n-a.lastMove <= moneyWindow || a.lastMove == n && n-a.lastAmount <= moneyWindow
}

// signBefore reports a currency sign at the end of s, one space allowed
// between it and the number that follows, the sign not glued to a word
// ("Loader$1" in a stack trace is no amount).
func signBefore(s string) bool {
	s = strings.TrimSuffix(s, " ")
	for _, sign := range [...]string{"€", "$", "£"} {
		if rest, ok := strings.CutSuffix(s, sign); ok {
			return rest == "" || !isWordByte(rest[len(rest)-1])
		}
	}
	return false
}

// isWordByte reports an ASCII letter or digit.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// signAfter reports a currency sign at the start of s, after the number
// before it and at most one space.
func signAfter(s string) bool {
	s = strings.TrimPrefix(s, " ")
	return strings.HasPrefix(s, "€") || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "£")
}

// currencySign reports a currency sign next to a digit anywhere in s: the
// cheap test that sends an email to ownFlagBits for an amount.
func currencySign(s string) bool {
	for _, sign := range [...]string{"€", "$", "£"} {
		for rest := s; ; {
			k := strings.Index(rest, sign)
			if k < 0 {
				break
			}
			if digitNear(rest[:k], false) || digitNear(rest[k+len(sign):], true) {
				return true
			}
			rest = rest[k+len(sign):]
		}
	}
	return false
}

// digitNear reports a digit at the start (after) or the end of s, one
// space allowed.
func digitNear(s string, after bool) bool {
	if after {
		s = strings.TrimPrefix(s, " ")
		return s != "" && s[0] >= '0' && s[0] <= '9'
	}
	s = strings.TrimSuffix(s, " ")
	return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// minOwnWords: a sender's text shorter than this ("see below", "FYI") is
// about what it quotes or forwards, which then counts as its own.
const minOwnWords = 8

// ownFlagText returns the sender's own words of a body: without quoted
// lines ("> ..."), without everything from a reply header ("On ... wrote:",
// "Il giorno ... ha scritto:", "-----Original Message-----", an Outlook
// "From:/Sent:" block) or a signature delimiter ("-- ") on, without the
// signature after a sign-off line, and without the trailing boilerplate
// paragraphs (confidentiality notices, privacy
// footers, legal-entity lines). Forwarded messages stay: a forward asks
// what it forwards. When little is left, the whole body is returned and
// enough is false.
func ownFlagText(text string) (string, bool) {
	lines := strings.Split(text, "\n")
	own := make([]string, 0, len(lines))
	fwd := false
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") {
			continue
		}
		if forwardMarker(t) {
			// "---------- Forwarded message ---------": what follows is
			// what the sender asks about, its header lines aside
			fwd = true
			continue
		}
		if fwd && isHeaderLine(t) {
			continue
		}
		if t == "--" || strings.HasPrefix(line, "-- ") || isReplyHeader(t) || outlookHeader(lines[i:]) {
			break
		}
		if i+1 < len(lines) && looksLikeReplyStart(t) && isReplyHeader(strings.TrimSpace(lines[i+1])) {
			break
		}
		own = append(own, line)
	}
	// drop trailing boilerplate paragraphs, never the first one
	paras := splitParagraphs(own)
	for len(paras) > 1 && isBoilerplate(paras[len(paras)-1]) {
		paras = paras[:len(paras)-1]
	}
	out := strings.Join(paras, "\n\n")
	if countFields(out, minOwnWords) < minOwnWords {
		return text, false
	}
	// and the signature after a sign-off line ("Regards," then name,
	// firm, address)
	return cutSignature(out), true
}

// forwardMarker reports the line a mail client puts above a forwarded
// message: "---------- Forwarded message ---------", "Begin forwarded
// message:", "-------- Messaggio inoltrato --------".
func forwardMarker(t string) bool {
	if len(t) > 60 {
		return false
	}
	// the first letter in either case ("Begin forwarded message:"), the
	// rest as clients write it, lowercase or capitals
	for _, p := range [...]string{"orwarded message", "ORWARDED MESSAGE", "essaggio inoltrato", "ESSAGGIO INOLTRATO"} {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// outlookHeader reports the start of a quoted message in Outlook's style:
// a "From:" (or "Da:") line followed within three lines by "Sent:",
// "Date:" ("Inviato:", "Data:").
func outlookHeader(lines []string) bool {
	l := strings.TrimLeft(lines[0], " \t*")
	if !hasLowerPrefix(l, "from:") && !hasLowerPrefix(l, "da:") {
		return false
	}
	for _, n := range lines[1:min(len(lines), 4)] {
		n = strings.TrimLeft(n, " \t*")
		for _, p := range [...]string{"sent:", "date:", "inviato:", "data:"} {
			if hasLowerPrefix(n, p) {
				return true
			}
		}
	}
	return false
}

// splitParagraphs joins lines into paragraphs separated by blank lines.
func splitParagraphs(lines []string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = cur[:0]
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

// boilerplateMarkers are words of confidentiality notices, privacy footers
// and company identification lines, EN and IT (lowercase).
var boilerplateMarkers = [...]string{
	"confidential", "confidenzial", "riservat", "privileged",
	"intended recipient", "intended solely", "intended only", "addressee", "destinatari",
	"in error", "per errore", "erroneamente",
	"registered office", "registered in ", "company number", "company no", "company reg",
	"sede legale", "sede operativa", "p.iva", "p. iva", "p.i.", "partita iva", "vat no", "vat reg",
	"capitale sociale", "cap. soc", "c.f.", "codice fiscale", "r.e.a", "rea ",
	"informativa", "privacy policy", "privacy notice", "privacy statement",
	"unsubscribe", "disiscriv", "think before you print", "prima di stampare",
}

// isBoilerplate reports a paragraph that reads like a footer: it carries a
// boilerplate marker.
func isBoilerplate(p string) bool {
	l := strings.ToLower(p)
	for _, m := range boilerplateMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}

// countFields counts the fields of s as strings.Fields splits it (runs of
// anything but white space), stopping at limit.
func countFields(s string, limit int) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
			continue
		}
		if !in {
			if in, n = true, n+1; n >= limit {
				return n
			}
		}
	}
	return n
}

// autoReply reports an automatic answer: an Auto-Submitted header other
// than "no", or an out-of-office subject (lower is the subject,
// lowercased and trimmed).
func autoReply(m *mail.Message, lower string) bool {
	if v := strings.ToLower(strings.TrimSpace(m.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	for _, p := range [...]string{"out of office", "automatic reply", "auto reply", "autoreply", "auto:",
		"risposta automatica", "fuori ufficio", "fuori sede"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}
