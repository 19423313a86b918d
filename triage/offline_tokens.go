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
			if c < utf8.RuneSelf {
				if isWordByte(c) {
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
		t.upper = true
		for t.i < len(s) {
			c := s[t.i]
			if c < utf8.RuneSelf {
				if !isWordByte(c) {
					break
				}
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				} else if 'a' <= c && c <= 'z' {
					t.upper = false
				}
				buf = append(buf, c)
				t.i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[t.i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			if unicode.IsLower(r) {
				t.upper = false
			}
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
			t.i += n
		}
		t.buf = buf
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

func isWordByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

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
