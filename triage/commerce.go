package triage

import (
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
