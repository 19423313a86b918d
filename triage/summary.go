package triage

import (
	"strings"
	"unicode/utf8"

	"smista/mail"
)

// maxSummary is the longest summary in bytes (about one line on a screen).
const maxSummary = 160

// isSummaryStop reports words that say nothing about the request: they do
// not make a sentence informative.
func isSummaryStop(w []byte) bool {
	switch string(w) {
	case "the", "and", "that", "this", "with", "have", "from", "your", "will", "would", "could",
		"please", "thanks", "thank", "hello", "regards", "best", "dear", "there",
		"della", "delle", "sono", "questo", "questa", "grazie", "ciao", "buongiorno", "saluti",
		"cordiali", "gentile", "anche", "come", "perché", "quando", "ancora", "vorrei", "potete":
		return true
	}
	return false
}

// greetingFirst and signoffFirst are first words of sentences that greet or
// take leave: short sentences starting with them are not the request.
var greetingFirst = map[string]bool{
	"hi": true, "hello": true, "dear": true, "hey": true, "good": true, "ciao": true, "salve": true,
	"buongiorno": true, "buonasera": true, "gentile": true, "gentili": true, "egregio": true, "spett": true,
}

var signoffFirst = map[string]bool{
	"thanks": true, "thank": true, "regards": true, "best": true, "kind": true, "cheers": true, "sincerely": true,
	"many": true, "grazie": true, "cordiali": true, "saluti": true, "distinti": true, "buona": true,
	"looking": true, "sent": true, "inviato": true, "un": true,
}

// summarize picks the most informative sentence of the sender's own text —
// greetings, sign-offs, quotes, signatures and header lines of forwarded
// mail skipped, hard-wrapped lines joined — and shortens it to maxSummary
// bytes. It is extractive, so it is in the email's language. It falls back
// to the subject.
func summarize(m *mail.Message, _ string) string {
	own := ownText(m.Text, 3000)
	var t tokenizer
	var para []byte // the paragraph being joined, its buffer reused
	best, bestScore := "", 0.0
	idx := 0
	flush := func() {
		text := string(para)
		para = para[:0]
		for start := 0; start < len(text); {
			end := sentenceEnd(text, start)
			sent := strings.TrimSpace(text[start:end])
			start = end
			if sent == "" {
				continue
			}
			score := sentenceScore(&t, sent)
			if score <= 0 {
				continue
			}
			score -= 0.3 * float64(idx) // the request usually comes first
			idx++
			if best == "" || score > bestScore {
				best, bestScore = sent, score
			}
		}
	}
	for rest := own; rest != ""; {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush() // a paragraph ends
		case isHeaderLine(line) || strings.HasPrefix(line, "---") || strings.HasPrefix(line, "___"):
			flush()
		default:
			if len(para) > 0 {
				para = append(para, ' ')
			}
			para = append(para, line...)
		}
	}
	flush()
	if best == "" {
		best = strings.TrimSpace(m.Subject)
	}
	return shorten(strings.Join(strings.Fields(best), " "), maxSummary)
}

// isHeaderLine reports a "Field: value" line of a forwarded message's
// header ("From:", "Sent:", "Oggetto:"...).
func isHeaderLine(l string) bool {
	k, _, ok := strings.Cut(l, ":")
	if !ok || len(k) > 12 {
		return false
	}
	switch strings.ToLower(k) {
	case "from", "to", "cc", "bcc", "date", "sent", "subject", "reply-to",
		"da", "a", "data", "inviato", "oggetto", "inviato il", "mittente", "destinatario":
		return true
	}
	return false
}

// sentenceEnd returns the end of the sentence starting at i: after ". ",
// "! ", "? " or the end of the paragraph.
func sentenceEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '.', '!', '?':
			if i+1 == len(s) || s[i+1] == ' ' {
				return i + 1
			}
		}
	}
	return len(s)
}

// sentenceScore counts the content words of a sentence (four letters or
// more, not filler); greetings, sign-offs, links and fragments score 0.
func sentenceScore(t *tokenizer, s string) float64 {
	if strings.HasPrefix(s, "http") || strings.Count(s, "@") > 1 {
		return 0
	}
	t.reset(s)
	var words, content int
	var first bool
	var firstGreet, firstSignoff bool
	for t.next() {
		words++
		if !first {
			first = true
			firstGreet, firstSignoff = greetingFirst[string(t.buf)], signoffFirst[string(t.buf)]
		}
		if len(t.buf) >= 4 && utf8.RuneCount(t.buf) >= 4 && !isSummaryStop(t.buf) {
			content++
		}
	}
	if words < 3 || (firstGreet && words <= 5) || (firstSignoff && words <= 8) {
		return 0
	}
	n := float64(content)
	if strings.HasSuffix(s, "?") {
		n += 0.5 // a question is usually the request
	}
	return n
}

// shorten cuts s to at most n bytes at a word boundary, adding "…".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexByte(s[:cut], ' '); i > n/2 {
		cut = i
	}
	return strings.TrimRight(s[:cut], " ,;:") + "…"
}
