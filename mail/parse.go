package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"path"
	"strings"
	"unicode/utf8"

	// Registers the ISO-8859-x, Windows-125x and other charset decoders
	// with go-message.
	_ "github.com/emersion/go-message/charset"
)

// ErrNotMail is returned by Parse when the input has no header field at
// all: binary garbage, an empty file, a text file that is not a mail.
var ErrNotMail = errors.New("not an email: no header fields")

const (
	// MaxTextBytes caps the decoded Text and HTML bodies; longer bodies are
	// cut at a character boundary and end with TruncatedNote.
	MaxTextBytes = 1 << 20
	// TruncatedNote ends a body that was cut at MaxTextBytes.
	TruncatedNote = "\n[smista: body truncated at 1 MiB]"
	// maxDepth caps MIME nesting; deeper parts are ignored.
	maxDepth = 20
	// maxParts caps how many MIME parts one message may have.
	maxParts = 1000
	// synthDomain is the domain of synthesised Message-IDs.
	synthDomain = "smista.invalid"
)

// Parse parses one raw RFC 5322 message (CRLF or bare LF, with or without
// an mbox "From " line). Real mail is broken: unknown charsets, bad base64
// or quoted-printable, missing boundaries, 8-bit headers, broken addresses
// all degrade to the best text that can be kept. Parse fails, with
// ErrNotMail, only when the input has no header field at all. The returned
// Message keeps raw as its Raw (not copied).
func Parse(raw []byte) (*Message, error) {
	m, fields, body, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	m.parseBody(fields, body, nil)
	return m, nil
}

// ParseHeader parses what a listing needs of one raw message — ids,
// thread, addresses, subject, date — exactly as Parse does, without the
// MIME walk: Text, HTML, Attachments and Header stay empty (FillBody adds
// them later). It is the cheap parse of a sync or an import that stores
// the raw message and reads its body when the body is needed. It fails
// with ErrNotMail like Parse.
func ParseHeader(raw []byte) (*Message, error) {
	m, _, _, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	m.sanitize()
	return m, nil
}

// FillBody parses m.Raw and fills m's Text, HTML, Attachments and Header
// from it, leaving every other field as it is (a store's fields stay
// authoritative). A Raw that is not a mail leaves m unchanged.
func FillBody(m *Message) { FillBodySeeing(m, nil) }

// FillBodySeeing is FillBody that, when it renders the HTML body as the
// text (there is no text/plain body to speak of), shows see every token
// of m.HTML (HTMLToTextSeeing) and reports true: a caller that checks
// the markup too needs no second pass over it.
func FillBodySeeing(m *Message, see func(HTMLToken)) bool {
	fields, body := splitHeader(m.Raw)
	if len(fields) == 0 {
		return false
	}
	b := &Message{}
	p := b.parseBody(fields, body, see)
	m.Text, m.HTML, m.Attachments, m.Header = b.Text, b.HTML, b.Attachments, b.Header
	return p.rendered
}

// parseHeader is Parse's header half: the message with its header fields
// decoded (not yet sanitised), the fields and the body.
func parseHeader(raw []byte) (*Message, hdrFields, []byte, error) {
	fields, body := splitHeader(raw)
	if len(fields) == 0 {
		return nil, nil, nil, ErrNotMail
	}
	gh := fields.goMessage("Date", "Message-Id", "In-Reply-To", "References")
	m := &Message{Raw: raw}
	m.Subject = oneLineText(decodeHeaderValue(fields.get("Subject")))
	if from := parseAddresses(fields.get("From")); len(from) > 0 {
		m.From = from[0]
	} else if sender := parseAddresses(fields.get("Sender")); len(sender) > 0 {
		m.From = sender[0]
	}
	m.To = parseAddresses(joinValues(fields, "To"))
	m.Cc = parseAddresses(joinValues(fields, "Cc"))
	m.ReplyTo = parseAddresses(fields.get("Reply-To"))
	m.settleDate(fields, parseDate(gh, fields.get("Date")))

	if ids := msgIDs(gh, "Message-Id", fields.get("Message-Id"), true); len(ids) > 0 {
		m.MessageID = ids[0]
	} else {
		m.MessageID = synthMessageID(fields, body)
	}
	if ids := msgIDs(gh, "In-Reply-To", fields.get("In-Reply-To"), false); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References = msgIDs(gh, "References", fields.get("References"), false)
	root := m.MessageID
	switch {
	case len(m.References) > 0:
		root = m.References[0]
	case m.InReplyTo != "":
		root = m.InReplyTo
	}
	m.ID = EmailID(m.MessageID)
	m.ThreadID = EmailID(root)
	return m, fields, body, nil
}

// parseBody fills the header map and walks the MIME tree of body.
func (m *Message) parseBody(fields hdrFields, body []byte, see func(HTMLToken)) *bodyParser {
	m.Header = make(map[string][]string, len(fields))
	// a key's first value takes a one-value slice of vals (a repeated
	// key's append then copies it, as it would a slice of its own)
	vals := make([]string, len(fields))
	for i, f := range fields {
		vals[i] = decodeFieldValue(f.value)
		if vs, ok := m.Header[f.key]; ok {
			m.Header[f.key] = append(vs, vals[i])
		} else {
			m.Header[f.key] = vals[i : i+1 : i+1]
		}
	}
	p := &bodyParser{msg: m, limit: MaxTextBytes, see: see}
	p.walk(fields, body, 0, "")
	p.finish()
	m.sanitize()
	return p
}

// sanitize makes every decoded string valid UTF-8: encoded words and
// broken charsets can decode to invalid bytes, which JSON and the store
// would otherwise silently alter.
func (m *Message) sanitize() {
	fix := func(s *string) {
		if !utf8.ValidString(*s) {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
	}
	for _, s := range []*string{&m.MessageID, &m.InReplyTo, &m.Subject, &m.Text, &m.HTML, &m.From.Name, &m.From.Addr} {
		fix(s)
	}
	for i := range m.References {
		fix(&m.References[i])
	}
	for _, list := range [][]Address{m.To, m.Cc, m.ReplyTo} {
		for i := range list {
			fix(&list[i].Name)
			fix(&list[i].Addr)
		}
	}
	for i := range m.Attachments {
		fix(&m.Attachments[i].Filename)
		fix(&m.Attachments[i].ContentType)
	}
}

// joinValues joins repeated fields (two To: lines happen) into one list.
func joinValues(fields hdrFields, key string) string {
	var vs []string
	for _, f := range fields {
		if f.key == key {
			vs = append(vs, f.value)
		}
	}
	return strings.Join(vs, ", ")
}

// oneLineText folds whitespace runs (tabs and newlines in folded subjects)
// into single spaces.
func oneLineText(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

// synthMessageID derives a stable Message-ID for a mail that has none: a
// hash of its header fields (without the trace fields each store adds) and
// its body, so the same mail gets the same id however often it is parsed
// and wherever it was stored.
func synthMessageID(fields hdrFields, body []byte) string {
	h := sha256.New()
	for _, f := range fields {
		if isTraceHeader(f.key) {
			continue
		}
		h.Write([]byte(f.key))
		h.Write([]byte{':'})
		h.Write([]byte(strings.Join(strings.Fields(f.value), " ")))
		h.Write([]byte{'\n'})
	}
	h.Write([]byte{'\n'})
	h.Write(bytes.TrimRight(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), " \t\r\n"))
	sum := h.Sum(nil)
	return "<" + hex.EncodeToString(sum[:16]) + "@" + synthDomain + ">"
}

// bodyParser walks the MIME tree over the raw bytes, collecting text
// bodies and attachment descriptions.
type bodyParser struct {
	msg *Message
	// limit caps the Text and HTML bodies (MaxTextBytes for Parse).
	limit int
	// keep collects each attachment's decoded bytes in data (ParseFull).
	keep      bool
	data      [][]byte
	plain     []string
	html      []string
	textBytes int
	htmlBytes int
	parts     int
	truncated bool
	// see is shown the HTML body's tokens when it is rendered as the
	// text (rendered is then true).
	see      func(HTMLToken)
	rendered bool
}

// walk handles one entity: fields is its header, body its encoded body.
func (p *bodyParser) walk(fields hdrFields, body []byte, depth int, parent string) {
	p.parts++
	if depth > maxDepth || p.parts > maxParts {
		return
	}
	ct, params := mediaType(fields.get("Content-Type"))
	if ct == "" || !strings.Contains(ct, "/") {
		ct = "text/plain"
		if parent == "multipart/digest" {
			ct = "message/rfc822"
		}
	}
	if strings.HasPrefix(ct, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			boundary = guessBoundary(body)
		}
		if parts, ok := splitMultipart(body, boundary); ok {
			for _, part := range parts {
				pf, pb := splitPart(part)
				p.walk(pf, pb, depth+1, ct)
			}
			return
		}
		// No boundary in the body: keep it as text rather than lose it.
		ct, params = "text/plain", nil
	}

	disp, dparams := mediaType(fields.get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = fileName(name)
	cte := strings.ToLower(strings.TrimSpace(fields.get("Content-Transfer-Encoding")))

	isText := ct == "text/plain" || ct == "text/html"
	topLevel := depth == 0
	if isText && disp != "attachment" && (name == "" || topLevel) {
		p.text(ct, params["charset"], decodeTransfer(cte, body))
		return
	}
	p.msg.Attachments = append(p.msg.Attachments, Attachment{
		Filename:    name,
		ContentType: ct,
		Size:        decodedSize(cte, body),
	})
	if p.keep {
		p.data = append(p.data, decodeTransfer(cte, body))
	}
}

// text records a text/plain or text/html body.
func (p *bodyParser) text(ct, label string, b []byte) {
	s := decodeText(label, b)
	if strings.ContainsRune(s, 0) {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	if ct == "text/html" {
		s = p.capped(s, &p.htmlBytes)
		if s != "" {
			p.html = append(p.html, s)
		}
		return
	}
	s = p.capped(s, &p.textBytes)
	if s != "" {
		p.plain = append(p.plain, s)
	}
}

// capped cuts s so that *used stays within p.limit.
func (p *bodyParser) capped(s string, used *int) string {
	left := p.limit - *used
	if left <= 0 {
		if s != "" {
			p.truncated = true
		}
		return ""
	}
	if len(s) > left {
		s = cutUTF8(s, left)
		p.truncated = true
	}
	*used += len(s)
	return s
}

// cutUTF8 returns s cut to at most n bytes at a character boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// finish fills Text and HTML: text/plain when it says something, else the
// HTML rendered as text.
func (p *bodyParser) finish() {
	m := p.msg
	// The separators may push a joined body a few bytes over the cap.
	m.HTML = cutUTF8(strings.Join(p.html, "\n"), p.limit)
	text := cutUTF8(strings.Join(p.plain, "\n\n"), p.limit)
	if strings.TrimSpace(text) == "" && m.HTML != "" {
		text = HTMLToTextSeeing(m.HTML, p.see)
		// sanitize would change an HTML body that is not UTF-8 after
		// see saw it: the caller must then read it again
		p.rendered = p.see != nil && utf8.ValidString(m.HTML)
		if len(text) > p.limit {
			text = p.capped(text, new(int))
		}
	}
	if p.truncated {
		text += TruncatedNote
	}
	m.Text = text
}

// fileName decodes an attachment name (RFC 2047 words, which many mailers
// use inside parameters) and drops any directory part.
func fileName(s string) string {
	if s == "" {
		return ""
	}
	s = decodeHeaderValue(s)
	s = strings.ReplaceAll(s, `\`, "/")
	s = path.Base(s)
	if s == "." || s == "/" {
		return ""
	}
	return oneLineText(s)
}

// guessBoundary finds the boundary of a multipart body whose Content-Type
// lost its boundary parameter: the first "--token" line.
func guessBoundary(body []byte) string {
	rest := body
	for i := 0; i < 200 && len(rest) > 0; i++ {
		var line []byte
		line, rest = nextLine(rest)
		if len(line) > 2 && line[0] == '-' && line[1] == '-' {
			b := strings.TrimSpace(string(line[2:]))
			if b != "" && !strings.ContainsAny(b, " \t") {
				return strings.TrimSuffix(b, "--")
			}
		}
	}
	return ""
}

// splitMultipart returns the parts between boundary lines. A missing
// closing boundary ends the last part at the end of the body. It reports
// false when no opening boundary line exists.
func splitMultipart(body []byte, boundary string) ([][]byte, bool) {
	if boundary == "" {
		return nil, false
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part's content
	pos := 0
	for pos < len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + len(delim)
		if at > 0 && body[at-1] != '\n' {
			continue
		}
		line, after := nextLine(body[at+len(delim):])
		tail := bytes.TrimRight(line, " \t")
		closing := bytes.Equal(tail, []byte("--"))
		if len(tail) > 0 && !closing {
			continue // a longer boundary that shares the prefix
		}
		if start >= 0 {
			end := at
			// The line break before a boundary belongs to the boundary.
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
			if len(parts) >= maxParts {
				return parts, true
			}
		}
		if closing {
			return parts, start >= 0 || len(parts) > 0
		}
		start = len(body) - len(after)
		pos = start
	}
	if start < 0 {
		return nil, false
	}
	if start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, true
}

// splitPart splits a body part into its header and body; a part that
// starts with a blank line has no header (text/plain by default).
func splitPart(part []byte) (hdrFields, []byte) {
	line, rest := nextLine(part)
	if len(line) == 0 {
		return nil, rest
	}
	if _, _, ok := headerLine(line); !ok {
		return nil, part
	}
	return splitHeader(part)
}

// decodeTransfer undoes a Content-Transfer-Encoding leniently: bad base64
// characters and broken quoted-printable escapes are skipped or kept
// literally instead of failing the part.
func decodeTransfer(cte string, b []byte) []byte {
	switch cte {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	default:
		return b
	}
}

// isBase64 reports whether c is in the standard base64 alphabet.
func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// decodeBase64 decodes what it can: non-alphabet bytes are skipped, "="
// ends a quantum (concatenated encodings keep their alignment), and a
// dangling sixth of a byte is dropped.
func decodeBase64(b []byte) []byte {
	out := make([]byte, 0, len(b)*3/4)
	seg := make([]byte, 0, len(b))
	flush := func() {
		if len(seg)%4 == 1 {
			seg = seg[:len(seg)-1]
		}
		n := len(out)
		out = append(out, make([]byte, base64.RawStdEncoding.DecodedLen(len(seg)))...)
		k, _ := base64.RawStdEncoding.Decode(out[n:], seg)
		out = out[:n+k]
		seg = seg[:0]
	}
	for _, c := range b {
		switch {
		case isBase64(c):
			seg = append(seg, c)
		case c == '=' && len(seg)%4 != 0:
			flush()
		}
	}
	flush()
	return out
}

// decodedSize is the size of the part once decoded, computed without
// decoding base64.
func decodedSize(cte string, b []byte) int64 {
	switch cte {
	case "base64":
		size, n := 0, 0
		for _, c := range b {
			switch {
			case isBase64(c):
				n++
			case c == '=' && n%4 != 0:
				size += b64Len(n)
				n = 0
			}
		}
		return int64(size + b64Len(n))
	case "quoted-printable":
		return int64(len(decodeQP(b)))
	default:
		return int64(len(b))
	}
}

// b64Len is the decoded length of n base64 characters.
func b64Len(n int) int {
	size := n / 4 * 3
	switch n % 4 {
	case 2:
		size++
	case 3:
		size += 2
	}
	return size
}

// unhex returns the value of a hex digit and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeQP decodes quoted-printable leniently: "=XX" becomes the byte,
// "=" before a line break joins the lines, any other "=" stays literal.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		// Soft line break: "=" then optional whitespace then a line break.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && (b[j] == '\n' || b[j] == '\r') {
			if b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
				j++
			}
			i = j
			continue
		}
		if j == len(b) {
			break
		}
		if i+2 < len(b) {
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, c)
	}
	return out
}
