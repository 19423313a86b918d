package triage

import (
	"unicode"
	"unicode/utf8"
)

// maxTokenLen drops longer "words": base64 runs, URLs glued together and
// hashes carry no meaning and would only grow the vocabulary.
const maxTokenLen = 32

// tokenizer walks a text and yields lowercased words (letters and digits;
// everything else separates, so "l'accesso" is "l", "accesso"). It reuses
// one buffer and allocates nothing, because it is the hot path of the
// offline classifier.
type tokenizer struct {
	s   string
	i   int
	buf []byte
	// lineStart is true when the token is the first thing on its line.
	lineStart bool
	// colon is true when the token is followed (after an optional quote
	// and blanks) by ':' or '=': "confidence: 0.9", "intent"="support".
	colon bool
	// quoted is true when the token is enclosed in double quotes, as a
	// JSON key is.
	quoted bool
	sawNL  bool
	// upper is true when the token was written in capitals ("SYSTEM").
	upper bool
	// inQuote is true when the token is on a quoted line ("> ...").
	inQuote bool
	quoteLn bool
	// quoteRest: a signature delimiter was seen; the rest is signature.
	quoteRest bool
	// prevSystemMarker: the previous token was "system:" at a line start.
	prevSystemMarker bool
}

func (t *tokenizer) reset(s string) {
	t.s, t.i, t.sawNL, t.prevSystemMarker, t.quoteLn, t.quoteRest = s, 0, true, false, false, false
	t.buf = t.buf[:0]
}

// next advances to the next token; it returns false at the end. Long:
// the classifier's hot path, one pass without calls.
func (t *tokenizer) next() bool {
	s := t.s
	for {
		// skip separators, remembering newlines
		for t.i < len(s) {
			c := s[t.i]
			if c == ' ' { // the commonest separator, which changes no state
				t.i++
				continue
			}
			if k := asciiClass[c]; k != classHigh {
				if k != classSep {
					break
				}
				if c == '\n' {
					t.sawNL, t.quoteLn = true, t.quoteRest
				} else if c == '-' && t.sawNL && isSigDelim(s[t.i:]) {
					// "-- " starts the signature: like a quote, not the
					// sender's request
					t.quoteRest, t.quoteLn = true, true
				} else if c == '>' && t.sawNL {
					t.quoteLn = true
				} else if c != ' ' && c != '\t' && c != '\r' && c != '>' {
					// quote markers ("> ") keep a line's start; other
					// punctuation does not
					if c != '"' && c != '\'' && c != '*' && c != '-' {
						t.sawNL = false
					}
				}
				t.i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[t.i:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				break
			}
			t.i += n
		}
		if t.i >= len(s) {
			return false
		}
		start := t.i
		t.quoted = start > 0 && s[start-1] == '"'
		t.lineStart = t.sawNL
		t.inQuote = t.quoteLn
		t.sawNL = false
		buf := t.buf[:0]
		i, upper := t.i, true // in locals: the loop runs once a byte
	word:
		for i < len(s) {
			c := s[i]
			switch asciiClass[c] {
			case classLower:
				upper = false
			case classUpper:
				c += 'a' - 'A'
			case classDigit:
			case classSep:
				break word
			default: // not ASCII
				r, n := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break word
				}
				if unicode.IsLower(r) {
					upper = false
				}
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
				i += n
				continue
			}
			buf = append(buf, c)
			i++
		}
		t.i, t.upper = i, upper
		if cap(buf) == cap(t.buf) {
			t.buf = t.buf[:len(buf)] // the same array: only the length is written
		} else {
			t.buf = buf
		}
		if len(buf) > maxTokenLen {
			continue
		}
		j := t.i
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			j++
		} else {
			t.quoted = false
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		t.colon = j < len(s) && (s[j] == ':' || s[j] == '=')
		return true
	}
}

// The classes of a byte for the word loop: an ASCII separator, an ASCII
// letter or digit, or the start (or rest) of a multi-byte character.
const (
	classSep uint8 = iota
	classLower
	classUpper
	classDigit
	classHigh
)

var asciiClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = classHigh
		case 'a' <= c && c <= 'z':
			t[c] = classLower
		case 'A' <= c && c <= 'Z':
			t[c] = classUpper
		case '0' <= c && c <= '9':
			t[c] = classDigit
		}
	}
	return t
}()

// isSigDelim reports whether s starts with a signature delimiter line:
// "--" or "-- " alone on its line.
func isSigDelim(s string) bool {
	if len(s) < 2 || s[0] != '-' || s[1] != '-' {
		return false
	}
	s = s[2:]
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	if len(s) > 0 && s[0] == '\r' {
		s = s[1:]
	}
	return len(s) == 0 || s[0] == '\n'
}
