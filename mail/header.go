package mail

import (
	"bytes"
	"io"
	"mime"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
	gotextproto "github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
)

func canonicalKey(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }

// maxHeaderBytes caps the header block Parse looks at; real headers are a
// few KiB, and anything past 1 MiB is an attack or a broken file.
const maxHeaderBytes = 1 << 20

// hdrField is one header field as found on the wire: canonical key and the
// unfolded, still encoded value.
type hdrField struct {
	key   string
	value string
}

// hdrFields is a header block in wire order.
type hdrFields []hdrField

// get returns the first value of the canonical key, or "".
func (h hdrFields) get(key string) string {
	for _, f := range h {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

// goMessage wraps the fields named keys (canonical) in go-message's header
// type, whose parsers (message ids, dates) Parse relies on. Only the
// fields asked for: a mail carries dozens, and each costs allocations.
func (h hdrFields) goMessage(keys ...string) gomail.Header {
	var th gotextproto.Header
	// go-message's Add prepends; adding in reverse keeps wire order.
	for i := len(h) - 1; i >= 0; i-- {
		for _, k := range keys {
			if h[i].key == k {
				th.Add(h[i].key, h[i].value)
				break
			}
		}
	}
	return gomail.Header{Header: gomessage.Header{Header: th}}
}

// isHeaderKeyByte reports whether c may appear in a field name (RFC 5322
// 2.2: printable ASCII except colon).
func isHeaderKeyByte(c byte) bool { return c > 32 && c < 127 && c != ':' }

// headerLine reports whether line ("Key: value") starts a header field and
// returns its key. Whitespace before the colon is tolerated: it appears in
// the wild.
func headerLine(line []byte) ([]byte, []byte, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	k := bytes.TrimRight(line[:i], " \t")
	if len(k) == 0 {
		return nil, nil, false
	}
	for _, c := range k {
		if !isHeaderKeyByte(c) {
			return nil, nil, false
		}
	}
	return k, line[i+1:], true
}

// nextLine returns the line starting at b[0] without its line ending, and
// the rest after the line ending (LF or CRLF; bare LF is common).
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// splitHeader parses the header block at the start of b and returns its
// fields and the body. The header ends at the first empty line, or at the
// first line that is neither a field nor a continuation (a missing blank
// line must not swallow the body). Malformed lines inside the block are
// skipped, never fatal.
func splitHeader(b []byte) (hdrFields, []byte) {
	fields := make(hdrFields, 0, 24)
	rest := b
	// cur is the value being unfolded: a slice of b until a continuation
	// line makes it a copy of its own (folded).
	var cur []byte
	var curKey string
	folded := false
	used := 0
	flush := func() {
		if curKey != "" {
			fields = append(fields, hdrField{key: curKey, value: toUTF8(string(bytes.TrimSpace(cur)))})
		}
		curKey, cur, folded = "", nil, false
	}
	for len(rest) > 0 {
		line, after := nextLine(rest)
		if len(line) == 0 {
			flush()
			return fields, after
		}
		used += len(rest) - len(after)
		if used > maxHeaderBytes {
			// Keep what fits; the rest of the block is dropped, never
			// taken for the body.
			flush()
			return fields, skipHeaderBlock(after)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if curKey != "" {
				if !folded {
					cur, folded = append(make([]byte, 0, len(cur)+len(line)+16), cur...), true
				}
				// Unfolding removes only the line break (RFC 5322 2.2.3).
				cur = append(cur, line...)
			}
			rest = after
			continue
		}
		k, v, ok := headerLine(line)
		if !ok {
			if len(fields) == 0 && curKey == "" && bytes.HasPrefix(line, []byte("From ")) {
				// An mbox envelope line ("From sender date") before the header.
				rest = after
				continue
			}
			flush()
			return fields, rest
		}
		flush()
		curKey, cur = canonicalKeyBytes(k), v
		rest = after
	}
	flush()
	return fields, nil
}

// commonKeys are the canonical forms of the fields most mail carries,
// each mapped to itself: a key already in that form is looked up without
// a copy, and canonicalKey would return it unchanged.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range [...]string{"Received", "From", "To", "Cc", "Subject", "Date", "Message-Id",
		"Return-Path", "Delivered-To", "Reply-To", "Sender", "In-Reply-To", "References", "Mime-Version",
		"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-Id",
		"Content-Description", "X-Mailer", "Precedence", "List-Id", "List-Unsubscribe", "List-Subscribe",
		"List-Help", "List-Post", "List-Archive", "Errors-To", "X-Beenthere", "X-Mailman-Version",
		"X-Original-Date", "X-Spam-Status", "X-Spam-Level", "X-Spam-Checker-Version", "X-Priority",
		"X-Msmail-Priority", "X-Mimeole", "Importance", "Organization", "User-Agent", "X-Originating-Ip",
		"X-Loop", "Status", "X-Status", "X-Keywords", "X-Uid", "Thread-Topic", "Thread-Index",
		"X-Virus-Scanned", "X-Authentication-Warning", "Auto-Submitted", "X-Accept-Language",
		"Content-Length", "Lines", "X-Original-To", "Dkim-Signature", "Authentication-Results"} {
		k = canonicalKey(k)
		m[k] = k
	}
	return m
}()

// canonicalKeyBytes is canonicalKey of a key read from the wire.
func canonicalKeyBytes(k []byte) string {
	if s, ok := commonKeys[string(k)]; ok {
		return s
	}
	return canonicalKey(string(k))
}

// skipHeaderBlock returns what follows the header block that b is inside
// of: the body after the first empty line, or after the first line that is
// neither a field nor a continuation.
func skipHeaderBlock(b []byte) []byte {
	for len(b) > 0 {
		line, after := nextLine(b)
		if len(line) == 0 {
			return after
		}
		if line[0] != ' ' && line[0] != '\t' {
			if _, _, ok := headerLine(line); !ok {
				return b
			}
		}
		b = after
	}
	return nil
}

// isTraceHeader reports whether a field is added or rewritten by every
// hop and mail store; such fields are left out of a synthesised Message-ID
// so the same mail read from an mbox, a Maildir or an IMAP server gets the
// same id.
func isTraceHeader(key string) bool {
	switch key {
	case "Received", "Return-Path", "Delivered-To", "X-Original-To", "Status", "X-Status",
		"X-Keywords", "X-Uid", "X-Mozilla-Status", "X-Mozilla-Status2", "Content-Length",
		"Lines", "X-Imap", "X-Imapbase":
		return true
	}
	return false
}

// latin1 decodes bytes that are not UTF-8. Windows-1252 is a superset of
// ISO-8859-1's printable range and is what "8-bit" mail almost always is.
func latin1(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// toUTF8 returns s unchanged when it is UTF-8, else decodes it as 8-bit.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return latin1([]byte(s))
}

// charsetReader never fails: an unknown charset is read as UTF-8 when it is
// valid, else as Windows-1252, so a wrong label costs accents, not the text.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	cr, err := charset.Reader(normalCharset(label), r)
	if err == nil {
		return cr, nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if utf8.Valid(b) {
		return bytes.NewReader(b), nil
	}
	return strings.NewReader(latin1(b)), nil
}

// normalCharset maps labels to the decoder smista wants: Latin-1 labels are
// read as Windows-1252 (as browsers do), since mail labelled ISO-8859-1 is
// full of Windows "smart quotes" in the 0x80-0x9F range.
func normalCharset(label string) string {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch l {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "us-ascii", "ascii":
		return "windows-1252"
	case "utf8":
		return "utf-8"
	}
	return l
}

// decodeText decodes a body in the given charset to UTF-8; nothing fails.
func decodeText(label string, b []byte) string {
	switch l := normalCharset(label); l {
	case "", "utf-8", "windows-1252":
		if utf8.Valid(b) {
			return string(b)
		}
		if l == "utf-8" {
			// Labelled UTF-8 but broken: keep the valid runes.
			if !mostlyBroken(b) {
				return strings.ToValidUTF8(string(b), "\uFFFD")
			}
		}
		return latin1(b)
	}
	r, err := charsetReader(label, bytes.NewReader(b))
	if err != nil {
		return latin1(b)
	}
	out, err := io.ReadAll(r)
	if err != nil && len(out) == 0 {
		return latin1(b)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// mostlyBroken reports whether invalid sequences dominate b's non-ASCII
// bytes, which means the UTF-8 label lies and the text is 8-bit.
func mostlyBroken(b []byte) bool {
	bad, good := 0, 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			good++
		}
		b = b[n:]
	}
	return bad > good
}

// decodeHeaderValue turns a raw field value into display text: 8-bit bytes
// read as Windows-1252, RFC 2047 encoded words decoded; on any error the
// best text available is kept.
func decodeHeaderValue(v string) string {
	v = toUTF8(v)
	if strings.Contains(v, "=?") {
		dec := mime.WordDecoder{CharsetReader: charsetReader}
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	return strings.ReplaceAll(v, "\x00", "")
}

// decodeFieldValue is decodeHeaderValue of a value splitHeader made,
// which is UTF-8 already: without an encoded word only its NUL bytes go.
func decodeFieldValue(v string) string {
	if !strings.Contains(v, "=?") {
		return strings.ReplaceAll(v, "\x00", "")
	}
	return decodeHeaderValue(v)
}

// parseAddresses parses an address list header tolerantly: go-message's
// RFC 5322 parser first, then entry by entry, then a best-effort scan, so a
// broken header still yields what can be read.
func parseAddresses(raw string) []Address {
	raw = strings.TrimSpace(toUTF8(raw))
	if raw == "" {
		return nil
	}
	if list, err := gomail.ParseAddressList(raw); err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, Address{Name: cleanName(a.Name), Addr: a.Address})
		}
		return out
	}
	var out []Address
	for _, part := range splitAddressList(raw) {
		if a, err := gomail.ParseAddress(part); err == nil {
			out = append(out, Address{Name: cleanName(a.Name), Addr: a.Address})
			continue
		}
		if a, ok := scanAddress(part); ok {
			out = append(out, a)
		}
	}
	return out
}

// cleanName drops the quotes and whitespace broken senders leave around a
// display name.
func cleanName(s string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"'`))
}

// splitAddressList splits on commas outside quotes, angle brackets and
// comments.
func splitAddressList(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<' || c == '(':
			depth++
		case (c == '>' || c == ')') && depth > 0:
			depth--
		case (c == ',' || c == ';') && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	out = append(out, s[start:])
	return out
}

// scanAddress extracts "Name <addr>" or a bare "x@y" from a chunk that the
// RFC parser rejected.
func scanAddress(s string) (Address, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, false
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			addr := strings.TrimSpace(s[i+1 : i+j])
			name := cleanName(decodeHeaderValue(strings.TrimSpace(s[:i] + " " + s[i+j+1:])))
			return Address{Name: name, Addr: addr}, addr != "" || name != ""
		}
	}
	for _, tok := range strings.Fields(s) {
		tok = strings.Trim(tok, `<>"'(),;`)
		if strings.Contains(tok, "@") {
			name := cleanName(decodeHeaderValue(strings.TrimSpace(strings.Replace(s, tok, "", 1))))
			name = strings.Trim(name, "<>() ")
			return Address{Name: name, Addr: tok}, true
		}
	}
	return Address{Name: cleanName(decodeHeaderValue(s))}, true
}

// msgIDs returns the message ids in a Message-ID, In-Reply-To or
// References value, each with angle brackets: go-message's parser first,
// then a scan for <...> tokens, then a bare token that looks like an id;
// with loose set (Message-ID), then the whole value without whitespace, so
// a broken but present Message-ID still identifies the mail.
func msgIDs(h gomail.Header, key, raw string, loose bool) []string {
	if raw == "" {
		return nil
	}
	if l, err := h.MsgIDList(key); err == nil && len(l) > 0 {
		out := make([]string, 0, len(l))
		for _, id := range l {
			if id != "" {
				out = append(out, "<"+id+">")
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	var out []string
	s := toUTF8(raw)
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		id := strings.Join(strings.Fields(s[i+1:i+j]), "")
		if id != "" {
			out = append(out, "<"+id+">")
		}
		s = s[i+j+1:]
	}
	if len(out) == 0 {
		for _, tok := range strings.Fields(toUTF8(raw)) {
			if strings.Contains(tok, "@") {
				out = append(out, "<"+strings.Trim(tok, `<>"'(),;`)+">")
			}
		}
	}
	if len(out) == 0 && loose {
		if id := strings.Join(strings.Fields(strings.Trim(toUTF8(raw), "<>")), ""); id != "" {
			out = append(out, "<"+id+">")
		}
	}
	return out
}

// dateLayouts are the broken Date formats seen in the wild that
// net/mail.ParseDate rejects.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon, Jan 2 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	time.RFC1123Z,
	time.RFC1123,
}

// parseDate parses a Date value with go-message (net/mail rules), then the
// layouts above; it returns the zero time when nothing fits.
func parseDate(h gomail.Header, raw string) time.Time {
	if raw == "" {
		return time.Time{}
	}
	if t, err := h.Date(); err == nil {
		return t
	}
	return parseLayouts(strings.Join(strings.Fields(toUTF8(raw)), " "))
}

// parseLayouts tries the layouts above on a date with its whitespace
// collapsed (a trailing comment dropped).
func parseLayouts(s string) time.Time {
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.TrimSuffix(s, ",")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// mediaType parses a Content-Type or Content-Disposition value with the
// standard parser (RFC 2045 and RFC 2231 parameters), falling back to a
// lenient scan for the values real mailers get wrong (unquoted spaces,
// stray semicolons, duplicate parameters).
func mediaType(v string) (string, map[string]string) {
	v = strings.TrimSpace(toUTF8(v))
	if v == "" {
		return "", nil
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil {
		return t, params
	}
	if t != "" && err == mime.ErrInvalidMediaParameter {
		return t, lenientParams(v)
	}
	// "TEXT/PLAIN charset=US-ASCII": the type is the first word.
	head, _, _ := strings.Cut(v, ";")
	if f := strings.Fields(head); len(f) > 0 {
		t = strings.ToLower(f[0])
	}
	return t, lenientParams(v)
}

// lenientParams scans "; key=value" pairs, quoted or not, keeping the
// first value of each key.
func lenientParams(v string) map[string]string {
	params := map[string]string{}
	_, rest, ok := strings.Cut(v, ";")
	for ok {
		rest = strings.TrimLeft(rest, " \t;")
		k, after, found := strings.Cut(rest, "=")
		if !found {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if i := strings.LastIndexAny(k, " \t"); i >= 0 {
			k = k[i+1:]
		}
		after = strings.TrimLeft(after, " \t")
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				val, ok = after[1:], false
			} else {
				val = after[1 : end+1]
				_, rest, ok = strings.Cut(after[end+2:], ";")
			}
		} else {
			val, rest, ok = strings.Cut(after, ";")
			val = strings.TrimSpace(val)
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return params
}
