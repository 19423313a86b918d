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
// email already raised one of the two flags.
func ownFlagBits(m *mail.Message) uint8 {
	lex := flagLex()
	var t tokenizer
	ids := make([]int32, 0, 256)
	own, enough := ownFlagText(m.Text)
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
	for _, part := range [...]string{subject, own} {
		t.reset(part)
		for t.next() {
			id, ok := lex.words[string(t.buf)]
			if !ok {
				id = -1
			}
			ids = append(ids, id)
		}
		ids = append(ids, -1)
	}
	return lex.phraseBits(ids) & (bitLegal | bitPayments)
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
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") {
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
