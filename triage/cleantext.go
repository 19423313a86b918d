package triage

import (
	"strings"
	"unicode/utf8"
)

// CleanText returns s without terminal control: every C0 control character
// except newline and tab (CR LF and a lone CR become a newline), DEL, every
// C1 control (U+0080–U+009F), and each recognisable escape sequence as a
// whole — CSI ("\x1b[2J"), OSC/DCS/SOS/PM/APC strings up to their BEL or
// ST terminator ("\x1b]0;title\x07"), and the short ESC sequences
// ("\x1b7", "\x1b(B") — so that nothing like "[2J" is left behind. Invalid
// UTF-8 bytes become U+FFFD. It never fails; text without control
// characters is returned unchanged, without allocating.
//
// It is the one cleaner for text smista hands to other programs: the
// fields of the ticket.suggested payload and the lines of
// "smista triage --json". (Terminal output has its own, stricter cleaner.)
func CleanText(s string) string {
	if isCleanText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	unterminated := false // no string terminator follows: stop looking
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n', r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				size++
			}
		case r == 0x1b:
			n, ok := escapeLen(s[i+1:], unterminated)
			if !ok {
				unterminated = true
			}
			size += n
		case r == 0x9b: // C1 CSI
			size += csiLen(s[i+size:])
		case r == 0x90, r == 0x98, r == 0x9d, r == 0x9e, r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			n, ok := stringLen(s[i+size:], unterminated)
			if !ok {
				unterminated = true
			}
			size += n
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			// Any other C0 or C1 control, and DEL: dropped.
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isCleanText reports whether s needs no cleaning: no control characters
// and valid UTF-8. It scans bytes; multi-byte runes are checked only when
// a byte at or above 0x80 is seen.
func isCleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\t' {
			continue
		}
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 || r >= 0x80 && r <= 0x9f {
				return false
			}
			i += size - 1
		}
	}
	return true
}

// escapeLen returns how many bytes after an ESC belong to its sequence
// (0 when none is recognisable: the ESC alone is dropped) and false when
// it met a control string with no terminator.
func escapeLen(s string, unterminated bool) (int, bool) {
	if s == "" {
		return 0, true
	}
	switch s[0] {
	case '[':
		return 1 + csiLen(s[1:]), true
	case ']', 'P', 'X', '^', '_':
		n, ok := stringLen(s[1:], unterminated)
		if !ok {
			return 0, false // not recognisable: keep the text after ESC
		}
		return 1 + n, true
	}
	// nF and Fp/Fe/Fs sequences (ESC ( B, ESC 7, ESC c): intermediate
	// bytes 0x20–0x2f, then one final byte 0x30–0x7e.
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		return n + 1, true
	}
	return 0, true
}

// csiLen returns the length of a CSI body: parameter bytes 0x30–0x3f,
// intermediate bytes 0x20–0x2f, then the final byte 0x40–0x7e. A body cut
// short by any other byte ends before it.
func csiLen(s string) int {
	n := 0
	for n < len(s) && s[n] >= 0x30 && s[n] <= 0x3f {
		n++
	}
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x40 && s[n] <= 0x7e {
		n++
	}
	return n
}

// stringLen returns the length of an OSC/DCS/SOS/PM/APC body including its
// terminator (BEL, ESC \ or the C1 ST), or 0 and false when s has none.
// Once a scan found none, later calls are told so (unterminated) and do
// not rescan: the cleaner stays linear.
func stringLen(s string, unterminated bool) (int, bool) {
	if unterminated {
		return 0, false
	}
	for n := 0; n < len(s); n++ {
		switch s[n] {
		case 0x07:
			return n + 1, true
		case 0x1b:
			if n+1 < len(s) && s[n+1] == '\\' {
				return n + 2, true
			}
		case 0xc2:
			if n+1 < len(s) && s[n+1] == 0x9c {
				return n + 2, true
			}
		}
	}
	return 0, false
}
