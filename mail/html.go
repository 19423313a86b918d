package mail

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// blockLevel says how an element breaks the text flow: 1 for a line
// break around it, 2 for a paragraph (a blank line around it), 0 inline.
func blockLevel(a atom.Atom) int {
	switch a {
	case atom.Div, atom.Li, atom.Tr, atom.Dt, atom.Dd, atom.Address, atom.Center, atom.Form,
		atom.Body, atom.Html, atom.Main, atom.Nav, atom.Aside, atom.Figure, atom.Fieldset,
		atom.Section, atom.Article, atom.Header, atom.Footer:
		return 1
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Ul,
		atom.Ol, atom.Dl, atom.Blockquote, atom.Pre, atom.Hr:
		return 2
	}
	return 0
}

// hidden reports whether an element's content is never shown to a reader.
func hidden(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Template:
		return true
	}
	return false
}

// HTMLToken is one token of an HTML body as HTMLTokens and
// HTMLToTextSeeing show it: its type, a tag's lowercased name and a start
// tag's attributes (as html.Tokenizer's TagName and TagAttr return them),
// a text or comment token's text (Text). Its slices are valid only during
// the call that shows it.
type HTMLToken struct {
	Type  html.TokenType
	Name  []byte
	Attrs []HTMLAttr
	Text  []byte
}

// HTMLAttr is one attribute of a start tag.
type HTMLAttr struct{ Key, Val []byte }

// htmlReader reads each token of an HTML body once, for the renderer and
// an observer alike.
type htmlReader struct {
	z   *html.Tokenizer
	tok HTMLToken
	// all: read every token's name, attributes and text (an observer
	// sees them); otherwise the renderer reads what it needs.
	all     bool
	hasAttr bool
}

func newHTMLReader(s string, all bool) *htmlReader {
	return &htmlReader{z: html.NewTokenizer(strings.NewReader(s)), all: all}
}

// next advances to the next token and, for an observer, reads all of it.
func (r *htmlReader) next() html.TokenType {
	tt := r.z.Next()
	r.tok = HTMLToken{Type: tt, Attrs: r.tok.Attrs[:0]}
	r.hasAttr = false
	switch tt {
	case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
		r.tok.Name, r.hasAttr = r.z.TagName()
		if r.all && tt != html.EndTagToken {
			r.attrs()
		}
	case html.TextToken, html.CommentToken:
		if r.all {
			r.tok.Text = r.z.Text()
		}
	}
	return tt
}

// attrs reads the tag's attributes into tok.Attrs (once).
func (r *htmlReader) attrs() []HTMLAttr {
	for r.hasAttr {
		var a HTMLAttr
		a.Key, a.Val, r.hasAttr = r.z.TagAttr()
		r.tok.Attrs = append(r.tok.Attrs, a)
	}
	return r.tok.Attrs
}

// text returns a text token's text (once).
func (r *htmlReader) text() []byte {
	if !r.all {
		r.tok.Text = r.z.Text()
	}
	return r.tok.Text
}

// HTMLTokens shows see every token of an HTML body in order, the last
// one an html.ErrorToken, until see returns false.
func HTMLTokens(s string, see func(HTMLToken) bool) {
	r := newHTMLReader(s, true)
	for {
		tt := r.next()
		if !see(r.tok) || tt == html.ErrorToken {
			return
		}
	}
}

// HTMLToText renders an HTML body as readable plain text: block elements
// become line breaks, links are kept as "text (url)", list items get a
// dash, scripts and styles are dropped and entities decoded. It never
// fails; broken markup yields whatever text it holds.
func HTMLToText(s string) string { return HTMLToTextSeeing(s, nil) }

// HTMLToTextSeeing is HTMLToText that also shows see (unless nil) every
// token it reads, as HTMLTokens would: a caller that checks the markup
// too needs no second pass over it.
// It is one pass over the tokens whose writer state lives in locals:
// split up, every helper would take and return that state.
func HTMLToTextSeeing(s string, see func(HTMLToken)) string {
	r := newHTMLReader(s, see != nil)
	var (
		b        strings.Builder
		skip     int    // depth inside hidden elements
		pre      int    // depth inside <pre>
		href     string // current link target
		linkText int    // b.Len() when the link opened
		space    bool   // a space is pending
	)
	b.Grow(len(s) / 2)
	// lineBreak ends the current line; n == 2 also leaves a blank line.
	lineBreak := func(n int) {
		space = false
		str := b.String()
		if str == "" {
			return
		}
		if !strings.HasSuffix(str, "\n") {
			b.WriteByte('\n')
		}
		if n == 2 && !strings.HasSuffix(b.String(), "\n\n") {
			b.WriteByte('\n')
		}
	}
	write := func(t string) {
		if pre > 0 {
			b.WriteString(t)
			return
		}
		i := 0
		for w := range strings.FieldsSeq(t) {
			if i > 0 || space {
				if str := b.String(); str != "" && !strings.HasSuffix(str, "\n") && !strings.HasSuffix(str, " ") {
					b.WriteByte(' ')
				}
			}
			b.WriteString(w)
			i++
		}
		space = len(t) > 0 && isSpaceByte(t[len(t)-1])
	}
	for {
		tt := r.next()
		if see != nil {
			see(r.tok)
		}
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(r.text())
			if pre == 0 && len(t) > 0 && isSpaceByte(t[0]) {
				space = true
			}
			write(t)
		case html.StartTagToken, html.SelfClosingTagToken:
			a := atom.Lookup(r.tok.Name)
			if hidden(a) {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case a == atom.A:
				href = ""
				for _, at := range r.attrs() {
					if string(at.Key) == "href" {
						href = strings.TrimSpace(string(at.Val))
					}
				}
				linkText = b.Len()
			case a == atom.Img:
				for _, at := range r.attrs() {
					if string(at.Key) == "alt" && strings.TrimSpace(string(at.Val)) != "" {
						space = true
						write("[" + strings.TrimSpace(string(at.Val)) + "]")
					}
				}
			case a == atom.Td || a == atom.Th:
				space = true
			}
			if a == atom.Br {
				b.WriteByte('\n')
				space = false
			}
			if n := blockLevel(a); n > 0 {
				lineBreak(n)
				if a == atom.Li {
					b.WriteString("- ")
				}
				if a == atom.Pre && tt == html.StartTagToken {
					pre++
				}
			}
		case html.EndTagToken:
			a := atom.Lookup(r.tok.Name)
			if hidden(a) {
				if skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			if a == atom.A && href != "" {
				text := strings.TrimSpace(b.String()[min(linkText, b.Len()):])
				if keepLink(href, text) {
					if text != "" {
						b.WriteByte(' ')
					}
					b.WriteString("(" + href + ")")
					space = true
				}
				href = ""
			}
			if a == atom.Pre && pre > 0 {
				pre--
			}
			if n := blockLevel(a); n > 0 {
				lineBreak(n)
			}
		}
	}
}

// keepLink reports whether a link's target adds anything to its text.
func keepLink(href, text string) bool {
	l := strings.ToLower(href)
	switch {
	case strings.HasPrefix(l, "#"), strings.HasPrefix(l, "javascript:"):
		return false
	case strings.HasPrefix(l, "mailto:"):
		return !strings.Contains(strings.ToLower(text), strings.TrimPrefix(l, "mailto:"))
	}
	return text != href && strings.TrimSuffix(text, "/") != strings.TrimSuffix(href, "/")
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// tidyText trims each line, drops leading and trailing blank lines and
// collapses runs of blank lines into one.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" {
			if len(out) > 0 {
				blank = true
			}
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
