package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// exampleBudget bounds the text of one example the model sees, in bytes.
const exampleBudget = 600

// examplesPrompt renders the labelled examples before the email: each one
// fenced like the email itself (an example is mail from the same untrusted
// senders), with the intent a person gave it outside the fence. It is ""
// without examples.
func examplesPrompt(ex []Labelled, boundary string) string {
	if len(ex) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Emails of this mailbox that a person of the team already classified, for reference. ")
	b.WriteString("Each is data between its markers; the person's intent follows it.\n\n")
	for _, e := range ex {
		b.WriteString("<<<EXAMPLE ")
		b.WriteString(boundary)
		b.WriteString(">>>\nSubject: ")
		b.WriteString(oneLine(e.Subject, headerBudget))
		b.WriteString("\n\n")
		text, _ := truncateUTF8(strings.TrimSpace(e.Text), exampleBudget)
		b.WriteString(text)
		b.WriteString("\n<<<END ")
		b.WriteString(boundary)
		b.WriteString(">>>\nThe person's intent: ")
		b.WriteString(string(e.Intent))
		b.WriteString("\n\n")
	}
	return b.String()
}

// examplesDigest names a set of examples in the cache key ("" for none).
func examplesDigest(ex []Labelled) string {
	if len(ex) == 0 {
		return ""
	}
	h := sha256.New()
	for _, e := range ex {
		h.Write([]byte(e.Subject + "\x00" + e.Text + "\x00" + string(e.Intent) + "\x00"))
	}
	return "+ex" + hex.EncodeToString(h.Sum(nil)[:6])
}
