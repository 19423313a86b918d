package triage

import (
	"slices"
	"strings"

	"golang.org/x/net/html"

	"smista/mail"
)

// rawMarkers are chat-template and role markers that no customer types.
var rawMarkers = []string{
	"<|im_start|>", "<|im_end|>", "<|system|>", "<|assistant|>", "<|user|>", "<|endoftext|>",
	"[INST]", "[/INST]", "[inst]", "<<SYS>>", "<</SYS>>", "<system>", "</system>", "[SYSTEM]", "[system]",
}

// rawInjectionBits finds injection signs that are not words: chat-template
// markers, "### Instruction" headings, zero-width characters and hidden
// HTML text.
func rawInjectionBits(m *mail.Message) uint8 {
	for _, s := range [...]string{m.Subject, m.Text} {
		if hasRawMarker(s) || hasZeroWidth(s) {
			return bitInjection
		}
	}
	if m.HTML != "" && (hasZeroWidth(m.HTML) || hiddenHTMLText(m.HTML)) {
		return bitInjection
	}
	return 0
}

func hasRawMarker(s string) bool {
	if strings.IndexByte(s, '<') >= 0 || strings.IndexByte(s, '[') >= 0 {
		for _, mk := range rawMarkers {
			if strings.Contains(s, mk) {
				return true
			}
		}
	}
	for rest := s; ; {
		i := strings.Index(rest, "###")
		if i < 0 {
			return false
		}
		rest = strings.TrimLeft(rest[i:], "# \t")
		head := rest[:min(len(rest), 12)]
		for _, w := range [...]string{"instruction", "system", "istruzion", "sistema", "response", "risposta", "assistant", "assistente", "user", "utente"} {
			if len(head) >= len(w) && strings.EqualFold(head[:len(w)], w) {
				return true
			}
		}
	}
}

// hasZeroWidth reports zero-width characters (U+200B–U+200D, U+2060–U+2064,
// U+FEFF) anywhere but at the very start (a BOM).
func hasZeroWidth(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0xE2:
			if i+2 < len(s) && ((s[i+1] == 0x80 && s[i+2] >= 0x8B && s[i+2] <= 0x8D) || (s[i+1] == 0x81 && s[i+2] >= 0xA0 && s[i+2] <= 0xA4)) {
				return true
			}
		case 0xEF:
			if i > 0 && i+2 < len(s) && s[i+1] == 0xBB && s[i+2] == 0xBF {
				return true
			}
		}
	}
	return false
}

// isVoidElement reports an element that has no content and no end tag.
func isVoidElement(tag string) bool {
	switch tag {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr":
		return true
	}
	return false
}

// htmlState is what an open element passes to its children.
type htmlState struct {
	hidden bool
	bg     string // background colour, "" = the page's (white)
}

// hiddenHTMLText reports text that a reader cannot see but a model reads:
// inside an element styled display:none, visibility:hidden, font-size:0,
// opacity:0, transparent text, text the colour of its background (white on
// the default white page included), or with the hidden attribute; and
// instructions inside HTML comments.
func hiddenHTMLText(src string) bool {
	z := html.NewTokenizer(strings.NewReader(src))
	var stack []htmlState
	skip := 0 // inside <style>, <script>, <head>, <title>
	for range 1_000_000 {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return false
		case html.CommentToken:
			if injectionInText(string(z.Text())) {
				return true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			var st htmlState
			if len(stack) > 0 {
				st = stack[len(stack)-1]
			}
			var color string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "style":
					hides, c, bg := styleHides(string(v))
					st.hidden = st.hidden || hides
					if c != "" {
						color = c
					}
					if bg != "" {
						st.bg = bg
					}
				case "hidden":
					st.hidden = true
				case "bgcolor":
					st.bg = normColor(string(v))
				case "color":
					color = normColor(string(v))
				}
			}
			if color != "" && (color == st.bg || (st.bg == "" && color == "#ffffff")) {
				st.hidden = true
			}
			if isVoidElement(tag) || tt == html.SelfClosingTagToken {
				continue
			}
			if tag == "style" || tag == "script" || tag == "head" || tag == "title" {
				skip++
			}
			stack = append(stack, st)
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "style", "script", "head", "title":
				if skip > 0 {
					skip--
				}
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case html.TextToken:
			if skip == 0 && len(stack) > 0 && stack[len(stack)-1].hidden && strings.TrimSpace(html.UnescapeString(string(z.Text()))) != "" {
				return true
			}
		}
	}
	return false
}

// injectionInText applies the injection keyword rules to a piece of text.
func injectionInText(s string) bool {
	m := mail.Message{Text: s}
	return slices.Contains(Flags(&m, Context{}), FlagInjection)
}

// normColor writes a CSS colour in one form: "#fff", "white" and
// "rgb(255,255,255)" are all "#ffffff".
func normColor(c string) string {
	c = strings.ToLower(strings.Join(strings.Fields(c), ""))
	switch c {
	case "white", "#fff", "#ffffff", "rgb(255,255,255)", "#fffffe":
		return "#ffffff"
	case "black", "#000", "#000000", "rgb(0,0,0)":
		return "#000000"
	}
	if len(c) == 4 && c[0] == '#' {
		return "#" + string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	return c
}

// styleHides reports whether an inline style makes its text invisible,
// and returns the text and background colours it sets.
func styleHides(style string) (hides bool, color, background string) {
	for _, decl := range strings.Split(strings.ToLower(style), ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.TrimSpace(prop)
		val = strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(val), "!important")), "")
		switch prop {
		case "display":
			hides = hides || val == "none"
		case "visibility":
			hides = hides || val == "hidden" || val == "collapse"
		case "font-size":
			hides = hides || isZeroLength(val)
		case "opacity":
			hides = hides || val == "0" || val == "0.0" || val == "0%"
		case "color":
			hides = hides || val == "transparent"
			color = normColor(val)
		case "background-color", "background":
			background = normColor(val)
		}
	}
	return hides, color, background
}

func isZeroLength(v string) bool {
	v = strings.TrimRight(v, "pxtemrh%")
	return v == "0" || v == "0.0" || v == "1" || v == ".0" || v == "0.1"
}
