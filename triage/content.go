package triage

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"smista/mail"
)

// ownWords counts the words the sender wrote in this email: the body up
// to the first quote, reply header or signature (ownText), without the
// sign-off and what follows it (cutSignature) and without a mobile
// client's line ("Sent from my iPhone", "Inviato da smartphone Android").
// It stops counting at limit.
func ownWords(text string, limit int) int {
	own := cutSignature(ownText(text, 2<<10))
	var t tokenizer
	n := 0
	for line := range strings.SplitSeq(own, "\n") {
		if mobileLine(line) {
			continue
		}
		t.reset(line)
		for t.next() {
			if n++; n >= limit {
				return n
			}
		}
	}
	return n
}

// mobileLine reports a line a mail client adds under what its user wrote:
// "Sent from my iPhone", "Inviato da iPhone", "Get Outlook for Android".
func mobileLine(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	if len(l) > 48 {
		return false
	}
	for _, p := range [...]string{"sent from ", "sent via ", "get outlook for", "inviato da ", "inviato dal ", "inviato tramite "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// A contentless request ("not working, pls sort", "call me", "is this
// normal?") says that something is wrong or asks for a call without
// saying what: a person has to ask back, so it is no ticket, however sure
// the model is that it is a request.
const (
	// maxVagueWords: an own text this long says more than "it's broken".
	maxVagueWords = 16
	// minContentWords is how many words that name something (not a
	// function word, a complaint or a call for help) a request needs.
	minContentWords = 2
)

// vagueWords say nothing of what is wrong: complaints, calls for help or
// for a call ("at the usual number"), pointers to an earlier message
// ("same as last time", "idem come l'altra volta"), a mail client's
// placeholder for an empty subject ("(no subject)", "(nessun oggetto)"),
// greetings, function words of four letters or more (shorter words never
// count as content), and the words of an exchange about the exchange
// itself: a chaser ("did you get my email? still waiting", with
// threadWords in a reply), "let me know" ("fatemi sapere"), "is someone
// going to look into it".
var vagueWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`work works working worked doesnt does didnt isnt wont cant dont broken
again still sort sorted please doing thing things stuff about could would should having
your yours news thanks thank call ring help urgent asap normal what this that there here
with from have just some something anything problem problems issue issues hello dear team support fix
fixed soon today right phone back anymore more number usual same time last before
error errors somebody someone anybody anyone nobody noone nothing since answers answer answering
monday tuesday wednesday thursday friday saturday sunday tomorrow morning afternoon evening tonight
funziona funzionano funzionante chiamate richiamate chiamatemi richiamatemi chiamami chiamare favore
grazie ciao buongiorno buonasera salve urgente urgenza aiuto problema problemi sistemate sistemare
ancora questo questa cosa normale subito telefono contattatemi ricontattatemi potete potreste niente
nulla numero solito solita stesso stessa idem come altra altro volta prima oggetto nessun senza subject
errore errori qualcuno nessuno risponde risposta lunedì martedì mercoledì giovedì venerdì sabato domenica domani mattina pomeriggio sera stasera
richiamateci chiamateci contattateci ricontattateci vostra vostro vostri vostre aiutate aiutare aiutarmi
aiutatemi aiutami novità notizie aggiornamenti
know going hoping hope received receive reply replied waiting wait week weeks look into
fatemi sapere avete ricevuto ricevere aspetto attendo aspettando settimana settimane scorsa scritto
riscontro sollecito`) {
		m[w] = true
	}
	return m
}()

// threadWords name the exchange itself ("my email", "your message", "any
// update?"): vague in a reply, where they point to the thread, but what
// is wrong in a new request ("the email notifications stopped", "the
// update failed").
var threadWords = wordSet(`mail email emails message messages update updates messaggio messaggi aggiornamento`)

// contentless reports a request whose subject and own words name nothing
// (see maxVagueWords): fewer than minContentWords distinct words of four
// letters or more that are neither numbers nor vagueWords (a subject the
// body repeats, "telescopio" twice, names one thing). A call asked for
// ("can someone phone me about my hearing aids", "mi potete chiamare per
// il telescopio?") may name one thing more, what it is about: a product
// named is not what is wrong with it.
func contentless(m *mail.Message) bool {
	// an Outlook reply quotes without "> ": what it quotes is not what
	// this email says ("Any news on this?" above the first report)
	text := m.Text[:replyCut(m.Text)]
	if ownWords(text, maxVagueWords) >= maxVagueWords {
		return false
	}
	subject := m.Subject
	reply := replySubject(subject)
	if reply {
		subject = ""
	}
	var seen [minContentWords + 1]string
	n, call, prev := 0, false, ""
	var t tokenizer
	for _, part := range [...]string{subject, cutNameLines(cutSignature(ownText(text, 2<<10)))} {
		for line := range strings.SplitSeq(part, "\n") {
			if mobileLine(line) {
				continue
			}
			t.reset(line)
			for t.next() {
				w := string(t.buf)
				asks := callWord(prev, w)
				call = call || asks
				prev = w
				// the verb that asks for a call names nothing either
				if asks || utf8.RuneCountInString(w) < 4 || vagueWords[w] || reply && threadWords[w] ||
					allDigits(t.buf) || slices.Contains(seen[:n], w) {
					continue
				}
				if seen[n] = w; n < len(seen)-1 {
					n++
					continue
				}
				return false
			}
		}
	}
	return n < minContentWords || call && n <= minContentWords
}

// cutNameLines drops the last lines of text that hold only a name, one to
// three capitalised words ("Antonella", "Ambulatorio Pini", "ROY"): a
// signature with no sign-off above it, which names the sender, not what
// is wrong. At most two lines go, and never the first.
func cutNameLines(text string) string {
	for range 2 {
		end := len(strings.TrimRight(text, " \t\r\n"))
		start := strings.LastIndexByte(text[:end], '\n') + 1
		if start == 0 || !nameLine(text[start:end]) {
			break
		}
		text = text[:start]
	}
	return text
}

// nameLine reports a line of one to three words, each starting with a
// capital letter, made of letters, dots, apostrophes and hyphens only.
func nameLine(l string) bool {
	ws := strings.Fields(l)
	if len(ws) == 0 || len(ws) > 3 {
		return false
	}
	for _, w := range ws {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			return false
		}
		for _, r := range w {
			if !unicode.IsLetter(r) && r != '.' && r != '\'' && r != '-' {
				return false
			}
		}
	}
	return true
}

// callWord reports a call asked for at the word w after prev: "call me",
// "phone us", "ring back", "chiamatemi", "mi potete chiamare".
func callWord(prev, w string) bool {
	switch w {
	case "me", "us", "back":
		return prev == "call" || prev == "phone" || prev == "ring"
	case "chiamare", "richiamare", "telefonare", "contattare", "ricontattare", "chiamatemi", "richiamatemi",
		"chiamami", "richiamami", "chiamateci", "richiamateci", "telefonatemi", "contattatemi", "ricontattatemi",
		"contattateci", "ricontattateci":
		return true
	}
	return false
}

// replyCut returns the offset in text of the line that starts an earlier
// message: a reply header ("On Mon, Ann <a@x> wrote:", "Il giorno ... ha
// scritto:", "-----Original Message-----", also wrapped on two lines) or
// an Outlook "From:" / "Sent:" block, which quotes without "> ". A
// forwarded message stays: a forward asks what it forwards. It returns
// len(text) when there is none.
func replyCut(text string) int {
	best := len(text)
	// every header holds one of these: look only at the lines that do
	for _, mark := range [...]string{"wrote:", "scritto:", "-----", "From:", "Da:"} {
		for from := 0; from < best; {
			k := strings.Index(text[from:best], mark)
			if k < 0 {
				break
			}
			k += from
			start := strings.LastIndexByte(text[:k], '\n') + 1
			end := len(text)
			if nl := strings.IndexByte(text[k:], '\n'); nl >= 0 {
				end = k + nl
			}
			line := strings.TrimSpace(text[start:end])
			if isReplyHeader(line) {
				best = start
				if start > 0 {
					// a header wrapped on two lines: "On Mon, Ann" / "<a@x> wrote:"
					ps := strings.LastIndexByte(text[:start-1], '\n') + 1
					prev := strings.TrimSpace(text[ps : start-1])
					if hasPrefixFold(prev, "on ") || hasPrefixFold(prev, "il ") || hasPrefixFold(prev, "in data ") {
						best = ps
					}
				}
				break
			}
			if outlookAt(text[start:]) {
				best = start
				break
			}
			from = end + 1
		}
	}
	return best
}

// outlookAt reports an Outlook header block at the start of text (see
// outlookHeader).
func outlookAt(text string) bool {
	first := strings.TrimLeft(text, " \t*")
	if len(first) < 5 || !(hasPrefixFold(first, "from:") || hasPrefixFold(first, "da:")) {
		return false
	}
	var lines [4]string
	n := 0
	for n < len(lines) {
		line, rest, ok := strings.Cut(text, "\n")
		lines[n] = line
		n++
		if !ok {
			break
		}
		text = rest
	}
	return outlookHeader(lines[:n])
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; prefix is
// lowercase.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// noReplyPhrases say, in the sender's own words, that the email needs no
// answer: a suggestion or feedback "no need to reply" is no ticket.
var noReplyPhrases = [...]string{
	"no need to reply", "no need to answer", "no need to respond", "no need for a reply",
	"no reply needed", "no response needed", "no reply necessary", "no answer needed",
	"don't need a reply", "do not need a reply", "don't need an answer", "doesn't need a reply",
	"non serve rispondere", "non serve che mi rispondiate", "non serve che rispondiate",
	"non serve una risposta", "non c'è bisogno di rispondere", "non c'è bisogno che rispondiate",
	"non occorre rispondere", "non occorre che rispondiate", "nessuna risposta necessaria",
	"non è necessario rispondere", "non aspetto risposta",
	// nothing asked, in so many words
	"i'm not asking for anything", "i am not asking for anything", "not asking you for anything",
	"non vi chiedo niente", "non vi chiedo nulla", "non chiedo niente", "non chiedo nulla",
}

// noReplyWanted reports an email whose own text (before any quote or
// signature) says it needs no answer. The caller asks only when the scan
// saw a word of the kind (cueReply).
func noReplyWanted(m *mail.Message) bool {
	head := m.Text
	if len(head) > maxNoReplyScan {
		head = head[:maxNoReplyScan]
	}
	own := strings.ReplaceAll(strings.ToLower(ownText(head, maxNoReplyScan)), "’", "'")
	for _, p := range noReplyPhrases {
		if strings.Contains(own, p) {
			return true
		}
	}
	return false
}

// maxNoReplyScan is how much of a body's own text is read for a "no need
// to reply".
const maxNoReplyScan = 2 << 10

// noReplyFeedback reports an email the rules left alone that the model
// reads as other while still giving support at least minFeedbackSupport, and
// whose own words say it needs no reply: a suggestion or a remark about
// the product ("a small idea, no need to reply"), which the labels call
// support with no ticket. The model's 'other' learnt the phrase from
// personal mail and notifications, where it is common too; those give
// support next to nothing.
func noReplyFeedback(m *mail.Message, s *scan, p *[nIntents]float64, best int) bool {
	return best == indexOf(IntentOther) && s.cues&cueReply != 0 &&
		p[indexOf(IntentSupport)] >= minFeedbackSupport && noReplyWanted(m)
}

// minFeedbackSupport is the least support probability noReplyFeedback
// asks of the model: the phrase pulls hard towards 'other', so a remark
// about the product keeps only a few per cent; a note about lunch or a
// notification keeps less than one.
const minFeedbackSupport = 0.02

// A request that names what is wrong only by a placeholder ("the locker
// thing isn't doing what it should", "something went wrong with the
// thing you book for the kids", "c'è un problema con la cosa che avete
// messo") does not say what it is about either: in a short email with no
// number, code or reference to go on, a person has to ask back.

// placeholderNouns stand for a thing the writer does not name.
var placeholderNouns = wordSet(`thing thingy thingie whatsit gizmo doohickey contraption cosa coso aggeggio arnese`)

// placeholderDets make a placeholder noun point at one thing: "the
// thing", "that thing", "la cosa", "quel coso", "il vostro aggeggio".
var placeholderDets = wordSet(`the that this your la quella questa il quel quello questo lo vostra vostro l`)

// notPlaceholder are the words between a determiner and "thing" that make
// it an idiom or a judgement, not a stand-in for a product: "the same
// thing", "the only thing", "the first thing", "la stessa cosa".
var notPlaceholder = wordSet(`same only other first last whole next main one strange weird odd funny good bad best worst
real little right wrong important big stessa stesso strana strano prima ultima sola unica altra bella brutta
migliore peggiore vera importante`)

// placeholderRequest reports a short email whose own words name what is
// wrong only by a placeholder (see placeholderNouns) and hold no number.
// The caller asks only for a body of at most maxVagueScan words.
func placeholderRequest(m *mail.Message) bool {
	own := cutSignature(ownText(m.Text[:replyCut(m.Text)], 2<<10))
	var t tokenizer
	t.reset(own)
	var ws [maxPlaceholderScan]string
	n := 0
	for t.next() {
		if n == len(ws) || hasDigit(t.buf) {
			return false
		}
		ws[n] = string(t.buf)
		n++
	}
	for i := 1; i < n; i++ {
		if !placeholderNouns[ws[i]] {
			continue
		}
		if placeholderDets[ws[i-1]] {
			// "the thing is, ...", "la cosa è che ...": an idiom
			if i+1 < n && (ws[i+1] == "is" || ws[i+1] == "was" || ws[i+1] == "è") {
				continue
			}
			return true
		}
		if i >= 2 && placeholderDets[ws[i-2]] && !notPlaceholder[ws[i-1]] {
			return true
		}
	}
	return false
}

// maxPlaceholderScan bounds the own words placeholderRequest reads.
const maxPlaceholderScan = 64

// hasDigit reports a token with a digit in it: an order number, a model
// code, an error code.
func hasDigit(b []byte) bool {
	for _, c := range b {
		if '0' <= c && c <= '9' {
			return true
		}
	}
	return false
}
