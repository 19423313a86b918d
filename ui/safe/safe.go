// Package safe makes untrusted text (email headers and bodies, model output,
// response bodies) inert before it reaches a terminal.
package safe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every escape sequence (CSI, OSC, DCS, APC, PM, SOS
// and single-character ESC sequences), every C0/C1 control character and
// every invalid UTF-8 byte removed. Tabs become a space; newlines become a
// space too, so the result fits on one line.
func String(s string) string { return clean(s, false) }

// Text is String for multi-line text: newlines are kept (CRLF and CR become
// LF), tabs are expanded to four spaces.
func Text(s string) string { return clean(s, true) }

// Bytes is Text for a byte slice, e.g. a webhook response body.
func Bytes(b []byte) string { return clean(string(b), true) }

func clean(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			i++ // invalid byte: drop
			continue
		case r == 0x1b: // ESC
			i += skipEscape(s[i+1:]) + 1
			continue
		case r == 0x9b: // C1 CSI
			i += size + skipCSI(s[i+size:])
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f || r == 0x98: // C1 OSC, DCS, PM, APC, SOS
			i += size + skipString(s[i+size:])
			continue
		case r == '\n':
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\r':
			if multiline {
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			if multiline {
				b.WriteString("    ")
			} else {
				b.WriteByte(' ')
			}
		case unicode.IsControl(r), r == '\u2028', r == '\u2029',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			// C0/C1 controls and bidi overrides (which can disguise text): drop.
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only: the fast path.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// skipEscape returns how many bytes after an ESC belong to its sequence.
func skipEscape(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + skipCSI(s[1:])
	case ']', 'P', '^', '_', 'X':
		return 1 + skipString(s[1:])
	}
	// Two-byte sequences (ESC c, ESC 7...) and charset designators
	// (ESC ( B): intermediates 0x20-0x2f then one final byte.
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		n++
	}
	return n
}

// skipCSI returns the length of a CSI body: parameter and intermediate
// bytes, then one final byte in 0x40-0x7e.
func skipCSI(s string) int {
	for n := 0; n < len(s); n++ {
		c := s[n]
		if c >= 0x40 && c <= 0x7e {
			return n + 1
		}
		if c < 0x20 || c > 0x3f && c < 0x40 {
			return n
		}
	}
	return len(s)
}

// skipString returns the length of an OSC/DCS/APC/PM/SOS body, ended by BEL,
// ST (ESC \) or the C1 ST; an unterminated one runs to the end of s.
func skipString(s string) int {
	for n := 0; n < len(s); n++ {
		switch s[n] {
		case 0x07:
			return n + 1
		case 0x1b:
			if n+1 < len(s) && s[n+1] == '\\' {
				return n + 2
			}
			return n + 1
		case 0xc2:
			if n+1 < len(s) && s[n+1] == 0x9c {
				return n + 2
			}
		}
	}
	return len(s)
}
