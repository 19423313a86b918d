package mail

import (
	"math"
	"regexp"
	"strings"
)

// Full is what Parse leaves out of a message: its whole readable text
// (past MaxTextBytes) and its attachments' bytes.
type Full struct {
	// Text is the readable body, never cut: text/plain when present, else
	// the HTML converted to text.
	Text string
	// Attachments are Message.Attachments, in the same order, each with
	// its decoded bytes.
	Attachments []AttachmentData
}

// AttachmentData is an attachment with its decoded bytes.
type AttachmentData struct {
	Attachment
	Data []byte
}

// ParseFull reads raw's whole text and its attachments' bytes, with the
// same lenience as Parse; it fails, with ErrNotMail, only when raw has no
// header field at all.
func ParseFull(raw []byte) (Full, error) {
	fields, body := splitHeader(raw)
	if len(fields) == 0 {
		return Full{}, ErrNotMail
	}
	m := &Message{}
	p := bodyParser{msg: m, limit: math.MaxInt, keep: true}
	p.walk(fields, body, 0, "")
	p.finish()
	m.sanitize()
	out := Full{Text: m.Text}
	for i, a := range m.Attachments {
		out.Attachments = append(out.Attachments, AttachmentData{Attachment: a, Data: p.data[i]})
	}
	return out, nil
}

// maxLinks bounds Links' answer.
const maxLinks = 200

var (
	textLink = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'\x60]+|\bmailto:[^\s<>"'\x60]+`)
	hrefLink = regexp.MustCompile(`(?i)\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// Links returns the links of a message, in order of appearance and without
// repeats: the http, https, ftp and mailto URLs of its text, then the
// targets of its HTML's href attributes (at most 200). They are as the
// mail wrote them: untrusted text.
func Links(m *Message) []string {
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		u = strings.TrimRight(strings.TrimSpace(u), ".,;:!?)]}")
		low := strings.ToLower(u)
		if u == "" || seen[u] || len(out) >= maxLinks ||
			!(strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") ||
				strings.HasPrefix(low, "ftp://") || strings.HasPrefix(low, "mailto:")) {
			return
		}
		seen[u] = true
		out = append(out, u)
	}
	for _, u := range textLink.FindAllString(m.Text, -1) {
		add(u)
	}
	for _, g := range hrefLink.FindAllStringSubmatch(m.HTML, -1) {
		add(strings.ReplaceAll(g[1]+g[2]+g[3], "&amp;", "&"))
	}
	return out
}
