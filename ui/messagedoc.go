package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
	"smista/ui/safe"
)

// partBytes bounds the text the message view lays out at once: a longer
// body (or raw source) is shown in parts, cut at line ends.
const partBytes = 1 << 20

// stepMsg asks the screen the message view was opened from for the email d
// rows away (next: 1, previous: -1).
type stepMsg struct{ d int }

// stepper is a list screen that opens its next or previous email.
type stepper interface{ step(d int) tea.Cmd }

// setDoc chooses what the view shows (the body or the raw source) and
// splits it into parts.
func (s *messageScreen) setDoc() {
	s.doc = s.body
	if s.showRaw {
		s.doc = safe.Text(string(s.raw))
	}
	s.parts, s.part = splitParts(s.doc, partBytes), 0
	s.hay, s.exactCase = "", false
	if s.find.text != "" {
		s.find.matches, s.find.cur = s.findAll(s.find.text), 0
	}
}

// splitParts returns the start offsets of the parts of doc: each at most
// max bytes, cut after a newline where the part has one, else at a
// character boundary.
func splitParts(doc string, max int) []int {
	starts := []int{0}
	for at := 0; len(doc)-at > max; {
		end := at + max
		if nl := strings.LastIndexByte(doc[at:end], '\n'); nl >= 0 {
			end = at + nl + 1
		} else {
			for end > at && !isRuneStart(doc[end]) {
				end--
			}
		}
		at = end
		starts = append(starts, at)
	}
	return starts
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// partText is the part shown.
func (s *messageScreen) partText() string {
	from := s.parts[s.part]
	to := len(s.doc)
	if s.part+1 < len(s.parts) {
		to = s.parts[s.part+1]
	}
	return s.doc[from:to]
}

// turn shows the next (d 1) or previous (d -1) part from its top.
func (s *messageScreen) turn(d int) {
	p := s.part + d
	if p < 0 || p >= len(s.parts) {
		s.c.info(fmt.Sprintf("part %d of %d: there is no other", s.part+1, len(s.parts)))
		return
	}
	s.part = p
	s.refill(true)
}

// refill lays the content out again, from the top when top is set.
func (s *messageScreen) refill(top bool) {
	if s.detail == nil {
		return
	}
	y := s.vp.YOffset()
	s.vp.SetContent(s.content())
	if top {
		s.vp.GotoTop()
		return
	}
	s.vp.SetYOffset(y)
}

// writeDoc writes the part shown, where it is among the parts, and the
// links after the body's last part.
func (s *messageScreen) writeDoc(b *strings.Builder) {
	st := &s.c.st
	if s.showRaw {
		b.WriteString(st.Dim.Render("Raw source (v shows the message)") + "\n")
	}
	text := s.partText()
	s.docLine = strings.Count(b.String(), "\n")
	if strings.TrimSpace(text) == "" && len(s.parts) == 1 {
		b.WriteString(st.Dim.Render("(no text body)"))
	} else {
		b.WriteString(s.markMatches(strings.TrimRight(text, "\n"), s.parts[s.part]))
	}
	if n := len(s.parts); n > 1 {
		b.WriteString("\n" + st.Warn.Render(fmt.Sprintf("— part %d of %d · ] next part · [ previous part —", s.part+1, n)))
	}
	if s.showRaw || s.part+1 < len(s.parts) || len(s.links) == 0 {
		return
	}
	b.WriteString("\n\n" + st.Bold.Render("Links") + "\n")
	for i, l := range s.links {
		fmt.Fprintf(b, "%3d. %s\n", i+1, l)
	}
}

// askSave asks for the directory to save the email's attachments in.
func (s *messageScreen) askSave() {
	if s.detail == nil || len(s.detail.Message.Attachments) == 0 {
		s.c.info("this email has no attachments")
		return
	}
	a := s.c.acts("save attachments")
	if a == nil {
		return
	}
	id, dir := s.id, defaultSaveDir()
	s.c.emit(inputMsg{label: "save attachments to: ", value: dir, placeholder: "a directory",
		submit: func(v string) tea.Msg {
			if v == "" {
				return nil
			}
			return saveAttachments(a, id, expandHome(v), false)
		}})
}

// saveAttachments is the action saving an email's attachments into dir;
// when files of the same names are there, it asks before replacing them.
func saveAttachments(a MessageActions, id, dir string, overwrite bool) action {
	return action{do: func(ctx context.Context) actionDone {
		paths, err := a.SaveAttachments(ctx, id, dir, overwrite)
		if errors.Is(err, app.ErrFileExists) {
			return actionDone{err: err, then: &askMsg{prompt: clean(err.Error()) + ": replace them?",
				run: saveAttachments(a, id, dir, true)}}
		}
		if err != nil {
			return actionDone{err: err}
		}
		return actionDone{text: fmt.Sprintf("%d attachments saved in %s", len(paths), dir)}
	}}
}

// defaultSaveDir is where attachments are offered to go: ~/Downloads when
// it exists, else the working directory.
func defaultSaveDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
			return filepath.Join(home, "Downloads")
		}
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "."
}

// expandHome turns a leading "~/" into the home directory.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// humanSize is a size for people: "512 B", "1.5 KiB", "15 MiB".
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	for v /= unit; v >= unit && u < len(units)-1; u++ {
		v /= unit
	}
	if v < 10 && v != float64(int64(v)) {
		return fmt.Sprintf("%.1f %s", v, units[u])
	}
	return fmt.Sprintf("%.0f %s", v, units[u])
}

// wrapIndent wraps a styled value at word boundaries: the first line to
// first cells, the others to width cells after indent spaces (a word
// longer than a line is cut).
func wrapIndent(v string, first, width, indent int) string {
	if first < 10 || width-indent < 10 || ansi.StringWidth(v) <= first {
		return v
	}
	head, rest, _ := strings.Cut(ansi.Wrap(v, first, ""), "\n")
	lines := []string{head}
	if rest = strings.TrimSpace(strings.ReplaceAll(rest, "\n", " ")); rest != "" {
		for _, l := range strings.Split(ansi.Wrap(rest, width-indent, ""), "\n") {
			lines = append(lines, strings.Repeat(" ", indent)+strings.TrimLeft(l, " "))
		}
	}
	return strings.Join(lines, "\n")
}

// stepTo moves a list's cursor from its row d rows at a time (skipping
// rows without an email) and returns the email id there, or "" with the
// reason shown.
func stepTo[T any](c *common, l *list[T], d int, email func(T) string) string {
	for i := l.cursor + d; i >= 0 && i < l.total; i += d {
		r, ok := l.at(i)
		if !ok {
			l.moveTo(i)
			c.info("loading the list… press again")
			return ""
		}
		if id := email(r); id != "" {
			l.moveTo(i)
			return id
		}
	}
	if d > 0 {
		c.info("this is the last email of the list")
	} else {
		c.info("this is the first email of the list")
	}
	return ""
}

// step implements stepper: the inbox opens the email d rows away.
func (s *inboxScreen) step(d int) tea.Cmd {
	if stepTo(s.c, &s.list, d, func(r inboxLine) string { return r.id }) != "" {
		s.openEmail()
	}
	return s.list.load(s.c)
}

// step implements stepper: the drafts list opens the email of the draft d
// rows away (new messages have none).
func (s *draftsScreen) step(d int) tea.Cmd {
	if id := stepTo(s.c, &s.list, d, func(r draftLine) string { return r.emailID }); id != "" {
		s.c.emit(openMsg{id: id, from: scrDrafts})
	}
	return nil
}

// step implements stepper: the tickets list opens the email of the ticket
// d rows away.
func (s *ticketsScreen) step(d int) tea.Cmd {
	if stepTo(s.c, &s.list, d, func(r ticketLine) string { return r.emailID }) != "" {
		s.open()
	}
	return nil
}
