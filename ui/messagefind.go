package ui

import (
	"fmt"
	"math"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// maxMatches bounds the matches one search in a message keeps (a letter
// in a 10 MiB log would find millions).
const maxMatches = 10000

// messageFind is a search inside the open message: every match of the
// text in the whole document (all its parts), and the one shown.
type messageFind struct {
	text    string
	matches []int // byte offsets in the document, in order
	cur     int
}

// findTyped is the text typed in the message's search prompt; findDone
// says the prompt closed (enter or esc).
type (
	findTyped struct{ text string }
	findDone  struct{ text string }
)

func (findTyped) route() scrID { return scrMessage }
func (findDone) route() scrID  { return scrMessage }

// startFind opens the prompt of a search inside the message: the matches
// are shown while typing.
func (s *messageScreen) startFind() {
	if s.detail == nil {
		return
	}
	before := s.find.text // esc comes back to it
	s.c.emit(inputMsg{label: "find in message: ", placeholder: "text (any case) · > next match · < previous", value: before,
		change: func(v string) tea.Msg { return findTyped{v} },
		submit: func(v string) tea.Msg { return findDone{v} },
		cancel: func() tea.Msg { return findDone{before} }})
}

// setFind finds text in the document and shows its first match at or
// after the part shown; "" clears the search.
func (s *messageScreen) setFind(text string) {
	s.find = messageFind{text: text}
	if text != "" {
		s.find.matches = s.findAll(text)
	}
	if len(s.find.matches) == 0 {
		if text != "" {
			s.c.info(fmt.Sprintf("%q is not in this message", text))
		}
		return
	}
	from := s.parts[s.part]
	s.find.cur = sort.SearchInts(s.find.matches, from) % len(s.find.matches)
	s.showMatch()
}

// findAll returns the offsets of text in the document, any case (ASCII
// and every letter whose lower case has the same length), at most
// maxMatches.
func (s *messageScreen) findAll(text string) []int {
	if s.hay == "" && s.doc != "" {
		s.hay = strings.ToLower(s.doc)
		s.exactCase = len(s.hay) != len(s.doc) // offsets would not line up
	}
	hay, needle := s.hay, strings.ToLower(text)
	if s.exactCase || len(needle) != len(text) {
		hay, needle = s.doc, text
	}
	var out []int
	for at := 0; len(out) < maxMatches; {
		i := strings.Index(hay[at:], needle)
		if i < 0 {
			break
		}
		out = append(out, at+i)
		at += i + len(needle)
	}
	return out
}

// stepMatch shows the next (d 1) or previous (d -1) match, turning to its
// part, round the end.
func (s *messageScreen) stepMatch(d int) {
	n := len(s.find.matches)
	if n == 0 {
		s.c.info("no search in this message: / finds text")
		return
	}
	s.find.cur = (s.find.cur + d + n) % n
	s.showMatch()
}

// showMatch turns to the current match's part and scrolls it into view.
func (s *messageScreen) showMatch() {
	at := s.find.matches[s.find.cur]
	part := sort.Search(len(s.parts), func(i int) bool { return s.parts[i] > at }) - 1
	if part != s.part {
		// The layout depends on the part alone, not on the search: a
		// match in the part shown only scrolls (a part is up to a
		// megabyte; laying it out again cost every keystroke of a find).
		s.part = part
		s.refill(false)
	}
	line := s.docLine + strings.Count(s.doc[s.parts[s.part]:at], "\n")
	y := visualLine(s.vp.GetContent(), line, s.vp.Width())
	s.vp.SetYOffset(max(0, y-s.vp.Height()/3))
	s.c.info(fmt.Sprintf("match %d of %d%s · > next · < previous", s.find.cur+1, len(s.find.matches), more(len(s.find.matches))))
}

func more(n int) string {
	if n >= maxMatches {
		return "+"
	}
	return ""
}

// visualLine is the screen line where content line i starts once lines
// wrap at width (as the viewport wraps them).
func visualLine(content string, i, width int) int {
	if width <= 0 {
		return i
	}
	y := 0
	for n, l := range strings.Split(content, "\n") {
		if n >= i {
			break
		}
		y += max(1, int(math.Ceil(float64(ansi.StringWidth(l))/float64(width))))
	}
	return y
}

// markMatches styles the matches inside text, which starts at offset from
// in the document: the current one reversed, the others underlined.
func (s *messageScreen) markMatches(text string, from int) string {
	ms, n := s.find.matches, len(s.find.text)
	if len(ms) == 0 {
		return text
	}
	i := sort.SearchInts(ms, from)
	if i == len(ms) || ms[i] >= from+len(text) {
		return text
	}
	st := &s.c.st
	var b strings.Builder
	at := 0
	for ; i < len(ms) && ms[i]+n <= from+len(text); i++ {
		o := ms[i] - from
		b.WriteString(text[at:o])
		style := st.Header
		if i == s.find.cur {
			style = st.Selected
		}
		b.WriteString(style.Render(text[o : o+n]))
		at = o + n
	}
	b.WriteString(text[at:])
	return b.String()
}
