package triage

import (
	"bytes"
	"strings"

	"smista/mail"
)

// commerceConf is the confidence of an intent the commercial-question
// rule chose: below the default threshold, a reading a person confirms.
const commerceConf = 0.7

// commercialQuestion re-reads a request the model took for support (or
// sales) whose subject is about a price, a discount, a quote or a demo and
// whose sender names nothing broken (an error, a wrong or old price): a
// quote or a demo asked for, or a price or discount asked about, is
// sales, even from an existing customer ("Price of a second screen?",
// "sconto per cooperativa?"); a question about a price that goes up is
// billing (a price increase is money already owed), wherever the price
// is named. Otherwise only the subject counts: a price named in the body
// is as often the product's own data (a menu's prices, a price list item). It returns the intent to use and
// a note, and ok false when the rule does not apply.
func commercialQuestion(m *mail.Message, s *scan, in Intent) (Intent, string, bool) {
	if in != IntentSupport && in != IntentSales {
		return "", "", false
	}
	rise := s.cues&cuePrice != 0 && s.cues&cueRise != 0
	offer := s.subjCues&(cuePrice|cueOffer) != 0 && s.cues&cueFault == 0 && in == IntentSupport
	if !rise && !offer {
		if in == IntentSupport && s.cues&cueFault == 0 {
			return buyerQuestion(m, s)
		}
		return "", "", false
	}
	if rise || s.subjCues&cueOffer == 0 {
		head := m.Text
		if len(head) > maxBody {
			head = head[:maxBody]
		}
		if !strings.Contains(m.Subject, "?") && !strings.Contains(ownText(head, maxOwnQuestion), "?") {
			return "", "", false
		}
	}
	if rise {
		return IntentBilling, "rule: asks about a price that goes up: billing", true
	}
	return IntentSales, "rule: asks for a quote, a demo, a price or a discount and names nothing broken: sales", true
}

// A long question read as other: the model's "other" learnt notifications,
// auto-replies, closing replies and internal notes, whose words ("thanks",
// "new", "now", "automatic") every long request also uses. An email the
// rules left alone that asks a question in many words of its own, and that
// the model also finds like a request, is support for a person to confirm
// (never a ticket on this rule alone).
const (
	// minLongQuestion is how many words of its own such an email has.
	minLongQuestion = 50
	// minSupportShare is the least support probability the model gives it.
	minSupportShare = 0.1
)

// longQuestion reports an email the model read as other (best) that asks
// a question in at least minLongQuestion words of its own and that the
// model finds at least minSupportShare a request.
func longQuestion(m *mail.Message, s *scan, p *[nIntents]float64, best int) bool {
	if best != indexOf(IntentOther) || s.bodyWords < minLongQuestion || p[indexOf(IntentSupport)] < minSupportShare {
		return false
	}
	head := m.Text
	if len(head) > maxBody {
		head = head[:maxBody]
	}
	return strings.Contains(ownText(head, maxOwnQuestion), "?")
}

// Before a purchase: a question from someone who has not bought yet
// ("thinking of buying", "non sono ancora abbonata", "what would 50 hours
// cost us?") names the product as a customer does, and the model reads a
// customer's question as support. The sender's own words say so: a
// purchase considered, or a price asked for in a question.
var buyerPhrases = bytePhrases(
	"thinking of buying", "thinking about buying", "considering buying", "planning to buy", "looking to buy",
	"interested in buying", "before buying", "before i buy", "before we buy", "can i buy", "could i buy",
	"can we buy", "could we buy", "where can i buy", "how much does", "how much would", "how much is",
	"what would it cost", "would it cost", "would that cost", "would this cost", "cost us",
	"non sono ancora", "non siamo ancora", "sto valutando", "stiamo valutando", "prima di acquistare",
	"prima di comprare", "vorrei acquistare", "vorremmo acquistare", "posso acquistare", "possiamo acquistare",
	"pensando di acquistare", "pensando di comprare", "quanto costa", "quanto costerebbe", "quanto verrebbe",
)

// buyerAnchors: every buyer phrase holds one of them; an opening with
// none is not searched for the phrases (the rule runs on most requests).
var buyerAnchors = bytePhrases("buy", "cost", "much", "ancora", "valutando", "acquistare", "comprare", "quanto")

// anyContains reports whether b holds one of ps.
func anyContains(b []byte, ps [][]byte) bool {
	for _, p := range ps {
		if bytes.Contains(b, p) {
			return true
		}
	}
	return false
}

// buyerOpening is how far into the sender's own words (in bytes) a
// purchase considered is looked for.
const buyerOpening = 240

// A pitch asks for a call of so many minutes ("ti va una call di 10
// minuti?", "a quick 15-minute call", "would you have 20 minutes for a
// short call?"): a seller's opening, not a customer's request.
var callNouns = bytePhrases("call", "chat", "meeting", "zoom", "teams", "chiamata", "telefonata", "incontro")

// callBefore name a call just before its number of minutes ("call di 10").
var callBefore = bytePhrases("call di", "chiamata di")

func bytePhrases(ps ...string) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = []byte(p)
	}
	return out
}

// buyerQuestion re-reads a request the model took for support, with
// nothing broken in it (the caller checks), that asks a question in the
// sender's own words: a pitch that asks for a call of N minutes is spam,
// a purchase considered or a price asked in its opening is sales; both at
// commerceConf, a reading a person confirms. ok is false when neither
// applies. It allocates nothing: it runs on most requests.
func buyerQuestion(m *mail.Message, s *scan) (Intent, string, bool) {
	if !s.asks && !strings.Contains(m.Subject, "?") {
		return "", "", false
	}
	head := m.Text
	if len(head) > maxBody {
		head = head[:maxBody]
	}
	if strings.Contains(head, "inut") && minutesCall(ownText(head, maxOwnQuestion)) {
		return IntentSpam, "rule: offers a call of so many minutes: a pitch, spam", true
	}
	own := ownText(head, buyerOpening)
	// what the email opens with is what it is for: a customer with a fault
	// may ask, further on, whether a part can be bought
	var buf [buyerOpening]byte
	opening := lowerLine(buf[:0], own[:min(len(own), buyerOpening)])
	if !anyContains(opening, buyerAnchors) {
		return "", "", false
	}
	for _, p := range buyerPhrases {
		if bytes.Contains(opening, p) {
			return IntentSales, "rule: asks before buying, names nothing broken: sales", true
		}
	}
	return "", "", false
}

// lowerLine appends s to dst with ASCII letters lowered and line breaks
// made spaces.
func lowerLine(dst []byte, s string) []byte {
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == '\n' || c == '\r':
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// minutesCall reports a call of a number of minutes offered in s: a
// number, then "minute(s)" or "minuti", with a call, a chat or a meeting
// named in the same sentence within 60 bytes after it ("15-minute call",
// "20 minutes in the next weeks for a short call") or "call di" /
// "chiamata di" just before it.
func minutesCall(s string) bool {
	var win [64]byte
	for i := 0; ; {
		j := strings.Index(s[i:], "inut")
		if j < 0 {
			return false
		}
		j += i - 1 // the 'm'
		i = j + len("minut")
		if j < 0 || s[j]|0x20 != 'm' {
			continue
		}
		k := j - 1
		if k >= 0 && (s[k] == ' ' || s[k] == '-') {
			k--
		}
		if k < 0 || s[k] < '0' || s[k] > '9' {
			continue
		}
		before := lowerLine(win[:0], s[max(0, k-14):k])
		for _, p := range callBefore {
			if bytes.Contains(before, p) {
				return true
			}
		}
		after := lowerLine(win[:0], s[min(i, len(s)):min(len(s), i+60)])
		if e := bytes.IndexAny(after, ".?!"); e >= 0 {
			after = after[:e]
		}
		for _, p := range callNouns {
			if bytes.Contains(after, p) {
				return true
			}
		}
	}
}
