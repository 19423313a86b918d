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
// HTML text hidden from the reader is read from facts when they cover m's
// HTML body, else by walking it.
func rawInjectionBits(m *mail.Message, facts *HTMLFacts) uint8 {
	for _, s := range [...]string{m.Subject, m.Text} {
		if hasRawMarker(s) || hasZeroWidth(s) {
			return bitInjection
		}
	}
	if m.HTML != "" && (hasZeroWidth(m.HTML) || facts.hidden(m.HTML)) {
		return bitInjection
	}
	return 0
}

// HTMLFacts is what the rules read of a message's HTML body, gathered
// while the body parse walks it to render the text (mail.FillBodySeeing
// with See): given in Context.HTML, it spares the classifier a second
// walk of the same HTML. The zero value is ready to See tokens.
type HTMLFacts struct {
	scan hiddenScan
	// of is the HTML body the facts cover: set by Cover once all of it
	// was seen.
	of    string
	valid bool
}

// See takes the next token of the HTML body.
func (f *HTMLFacts) See(t mail.HTMLToken) { f.scan.see(t) }

// Cover records that every token of html was seen: the facts hold for it.
func (f *HTMLFacts) Cover(html string) { f.of, f.valid = html, true }

// hidden reports hidden text in html: from the facts when they cover it
// (nil f: they do not), else by walking it.
func (f *HTMLFacts) hidden(html string) bool {
	if f != nil && f.valid && f.of == html {
		return f.scan.found
	}
	return hiddenHTMLText(html)
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
	var h hiddenScan
	mail.HTMLTokens(src, func(t mail.HTMLToken) bool {
		h.see(t)
		return !h.done
	})
	return h.found
}

// hiddenScan is hiddenHTMLText's walk, one token at a time: found once it
// saw hidden text, done when it stops looking (found, the end, or its
// first million tokens read).
type hiddenScan struct {
	stack       []htmlState
	skip        int // inside <style>, <script>, <head>, <title>
	n           int
	found, done bool
}

func (h *hiddenScan) see(t mail.HTMLToken) {
	if h.done {
		return
	}
	if h.n++; h.n > 1_000_000 {
		h.done = true
		return
	}
	switch t.Type {
	case html.ErrorToken:
		h.done = true
	case html.CommentToken:
		if injectionInText(string(t.Text)) {
			h.found, h.done = true, true
		}
	case html.StartTagToken, html.SelfClosingTagToken:
		tag := string(t.Name)
		var st htmlState
		if len(h.stack) > 0 {
			st = h.stack[len(h.stack)-1]
		}
		var color string
		for _, a := range t.Attrs {
			switch string(a.Key) {
			case "style":
				hides, c, bg := styleHides(string(a.Val))
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
				st.bg = normColor(string(a.Val))
			case "color":
				color = normColor(string(a.Val))
			}
		}
		if color != "" && (color == st.bg || (st.bg == "" && color == "#ffffff")) {
			st.hidden = true
		}
		if isVoidElement(tag) || t.Type == html.SelfClosingTagToken {
			return
		}
		if tag == "style" || tag == "script" || tag == "head" || tag == "title" {
			h.skip++
		}
		h.stack = append(h.stack, st)
	case html.EndTagToken:
		switch string(t.Name) {
		case "style", "script", "head", "title":
			if h.skip > 0 {
				h.skip--
			}
		}
		if len(h.stack) > 0 {
			h.stack = h.stack[:len(h.stack)-1]
		}
	case html.TextToken:
		if h.skip == 0 && len(h.stack) > 0 && h.stack[len(h.stack)-1].hidden && strings.TrimSpace(html.UnescapeString(string(t.Text))) != "" {
			h.found, h.done = true, true
		}
	}
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
